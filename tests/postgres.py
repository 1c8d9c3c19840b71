"""The PostgreSQL server tests use: QABOT_TEST_DATABASE_URL, a schema of its own per test.

Unreachable, the PostgreSQL tests skip; with CI=true they fail instead, so a CI machine
without its database cannot pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def test_database_url() -> str:
    return os.environ.get("QABOT_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL


def _admin_connection():
    import psycopg

    try:
        return psycopg.connect(test_database_url(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at QABOT_TEST_DATABASE_URL: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; dropped afterwards."""
    schema = f"qabot_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield with_search_path(test_database_url(), schema)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
