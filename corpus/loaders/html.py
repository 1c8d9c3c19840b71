"""HTML (.html, .htm) to text: charset, title, and the page's main content.

Saved web pages carry menus, scripts and hidden elements around the article;
those are dropped, and `<main>` or `<article>` is preferred over the whole
body. Rendering the kept tree is left to `html_render`.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from corpus.loaders.decoding import BOMS, decode_text, looks_like_text, strict_decode
from corpus.loaders.html_render import render_html
from corpus.loaders.text import clean_title

_HTML_DROP_TAGS = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form",
    "template", "svg", "iframe", "head", "button", "select", "object", "embed",
    "canvas", "dialog", "title",
)  # fmt: skip
_HTML_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar"}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_KOREAN_LABELS = {
    "euc-kr", "euckr", "euc_kr", "ks_c_5601-1987", "ks_c_5601", "ksc5601",
    "ksc_5601", "korean", "csksc56011987", "iso-ir-149", "windows-949",
    "x-windows-949", "cp949", "uhc", "ms949",
}  # fmt: skip
_LATIN1_LABELS = {"iso-8859-1", "latin1", "latin-1", "iso8859-1", "ascii", "us-ascii", "l1"}


def _declared_html_encoding(data: bytes) -> str | None:
    """Encoding named by `<meta charset>` or http-equiv Content-Type."""
    found = _META_CHARSET.search(data[:4096])
    if not found:
        return None
    label = found.group(1).decode("ascii", "ignore").strip().lower()
    if label in _KOREAN_LABELS:
        return "cp949"
    if label in _LATIN1_LABELS:
        return "cp1252"  # per the HTML standard
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_html(data: bytes, name: str) -> str:
    """BOM, then valid UTF-8, then the declared charset, then `decode_text`.

    Valid UTF-8 wins over a declared legacy charset: pages re-saved as UTF-8
    often keep a stale `<meta charset=euc-kr>`, while EUC-KR text is almost
    never valid UTF-8 by accident.
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return decode_text(data, name)
    if b"\x00" not in data:
        text = strict_decode(data, "utf-8")
        if text is not None and looks_like_text(text, strict_repertoire=False):
            return text
    declared = _declared_html_encoding(data)
    if declared and not declared.startswith(("utf-16", "utf-32")):
        text = strict_decode(data, declared)
        if text is not None and looks_like_text(text):
            return text
    return decode_text(data, name)


def _html_is_hidden(tag: Any) -> bool:
    """True for a tag marked hidden, aria-hidden, display:none or a menu role."""
    attrs = tag.attrs or {}
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    role = attrs.get("role")
    if isinstance(role, list):
        role = " ".join(role)
    if isinstance(role, str) and role.strip().lower() in _HTML_DROP_ROLES:
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(
        re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style, re.IGNORECASE)
    )


def html_to_text(data: bytes, name: str) -> tuple[str, str | None]:
    """Text of the page's main content, and its <title> or first <h1>."""
    from bs4 import BeautifulSoup, Tag

    markup = _decode_html(data, name)
    soup = BeautifulSoup(markup, "html.parser")

    title: str | None = None
    title_tag = soup.find("title")
    if isinstance(title_tag, Tag):
        title = clean_title(title_tag.get_text(" "))
    if title is None:
        h1 = soup.find("h1")
        if isinstance(h1, Tag):
            title = clean_title(h1.get_text(" "))

    doomed = []
    for tag in soup.find_all(True):
        name_ = (tag.name or "").lower()
        if name_ == "header" and tag.find_parent(["article", "main"]) is not None:
            continue  # an article's own header holds its title, not site menus
        if name_ in _HTML_DROP_TAGS or _html_is_hidden(tag):
            doomed.append(tag)
    for tag in doomed:
        tag.extract()

    def has_text(tag: Any) -> bool:
        return bool(tag.get_text(strip=True))

    roots: list[Any]
    main = next((m for m in soup.find_all("main") if has_text(m)), None)
    if main is not None:
        roots = [main]
    else:
        articles = [
            a
            for a in soup.find_all("article")
            if a.find_parent("article") is None and has_text(a)
        ]
        body = soup.find("body")
        roots = articles or [body if isinstance(body, Tag) and has_text(body) else soup]
    return render_html(roots), title
