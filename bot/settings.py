"""Settings read once from the environment (and a .env file), then handed down as one value.

Only this module reads os.environ; nothing below `bot` does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from platformdirs import user_data_dir

from corpus.errors import QabotError
from corpus.stores import is_database_url
from retrieval.settings import DEFAULT_SETTINGS, MATCHING, RetrievalSettings

DEFAULT_API_URL = "https://api.telegram.org"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    local_mode: bool = False
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)  # None: random per start
    database_url: str | None = field(default=None, repr=False)  # None: SQLite in data_dir
    log_level: str = "INFO"
    rate_limit_per_minute: int = 20
    messages_per_second: int = 30  # Telegram's limit per bot; paid broadcasts may go higher
    max_upload_bytes: int = 20 * 1024 * 1024
    retrieval: RetrievalSettings = DEFAULT_SETTINGS

    @property
    def store_path(self) -> Path:
        return self.data_dir / "qabot.sqlite3"

    @property
    def store_target(self) -> str | Path:
        """What corpus.stores.open_store opens: the PostgreSQL URL when set, else the SQLite file."""
        return self.database_url or self.store_path

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index" / "bm25.index"

    @property
    def legacy_index_path(self) -> Path:
        """Where releases before 0.2 kept the same file, under a name that said npz (it never was)."""
        return self.data_dir / "index" / "bm25.npz"

    @property
    def numba_cache_dir(self) -> Path:
        """Where the compiled kernels are cached when numba's own places are not writable."""
        return self.data_dir / "numba-cache"

    @property
    def vectors_path(self) -> Path:
        return self.data_dir / "index" / "vectors.npy"

    @property
    def vector_cache_path(self) -> Path:
        """Embeddings `qabot eval` computes for temporary corpora: kept apart from the user's store."""
        return self.data_dir / "cache" / "eval-vectors.sqlite3"

    @property
    def synonyms_path(self) -> Path:
        return self.data_dir / "synonyms.txt"

    @property
    def user_dictionary(self) -> Path:
        return self.data_dir / "user_dictionary.txt"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise QabotError(f"환경 변수 {name}의 값이 숫자가 아닙니다: {raw!r}") from error


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise QabotError(f"QABOT_ADMIN_IDS에는 숫자 사용자 ID만 쓸 수 있습니다: {part!r}")
        ids.add(int(part))
    return frozenset(ids)


def _database_url(raw: str) -> str | None:
    if not raw:
        return None
    if not is_database_url(raw):
        raise QabotError(
            "QABOT_DATABASE_URL은 postgresql://사용자@호스트:포트/데이터베이스 모양이어야 합니다"
            " (비우면 QABOT_DATA_DIR의 SQLite를 씁니다)"
        )
    return raw


def _webhook_secret(raw: str) -> str | None:
    if raw and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
        raise QabotError("TELEGRAM_WEBHOOK_SECRET에는 영문자, 숫자, _ 와 - 만 256자까지 쓸 수 있습니다")
    return raw or None


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
    """Settings from the environment; a .env in the working directory fills what is unset."""
    if environ is None:
        dotenv = {k: v for k, v in dotenv_values(dotenv_path or Path.cwd() / ".env").items() if v is not None}
        environ = {**dotenv, **os.environ}
    data_dir = environ.get("QABOT_DATA_DIR", "").strip()
    return Settings(
        data_dir=Path(data_dir).expanduser() if data_dir else Path(user_data_dir("qabot", appauthor=False)),
        token=environ.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
        api_url=(environ.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/"),
        local_mode=_flag(environ.get("TELEGRAM_LOCAL_MODE")),
        admin_ids=_admin_ids(environ.get("QABOT_ADMIN_IDS", "")),
        webhook_url=environ.get("TELEGRAM_WEBHOOK_URL", "").strip() or None,
        webhook_port=_int(environ, "TELEGRAM_WEBHOOK_PORT", 8443),
        webhook_secret=_webhook_secret(environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip()),
        database_url=_database_url(environ.get("QABOT_DATABASE_URL", "").strip()),
        log_level=(environ.get("QABOT_LOG_LEVEL", "").strip() or "INFO").upper(),
        rate_limit_per_minute=_int(environ, "QABOT_RATE_LIMIT_PER_MINUTE", 20),
        messages_per_second=max(1, _int(environ, "QABOT_MESSAGES_PER_SECOND", 30)),
        max_upload_bytes=_int(environ, "QABOT_MAX_UPLOAD_MB", 20) * 1024 * 1024,
        retrieval=DEFAULT_SETTINGS.with_changes(matching=_matching(environ.get("QABOT_MATCHING", ""))),
    )


def _matching(raw: str) -> str:
    """QABOT_MATCHING: hybrid (default), lexical (BM25 only: no embedding model loaded) or semantic."""
    value = raw.strip().lower() or DEFAULT_SETTINGS.matching
    if value not in MATCHING:
        raise QabotError(f"QABOT_MATCHING은 {', '.join(MATCHING)} 중 하나여야 합니다: {raw!r}")
    return value
