"""Markdown (.md, .markdown) to text that keeps its `# ` structure.

The chunker reads Markdown headings and lists itself, so only what would show
up as noise is removed: front matter, HTML comments, link targets and
reference definitions. Fenced code blocks are left exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from corpus.loaders.decoding import decode_text
from corpus.loaders.text import clean_title
from corpus.normalize import LINE_BREAKS

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_OPEN = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n")
# One character class before the colon keeps the match linear in line length.
_YAML_KEY = re.compile(r"^[\w\"'-][\w\"'.\t -]*[:=]")
_FRONT_MATTER_TITLE = re.compile(r"^title[ \t]*[:=](.*)$", re.IGNORECASE)
_MD_INLINE_LINK = re.compile(
    r"!?\[([^\[\]\n]*)\]"
    r"\([ \t]*<?[^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*>?"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)"
)
_MD_REF_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\[[^\[\]\n]*\]")
_MD_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:[ \t]+\S+.*\n?", re.MULTILINE)
_MD_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
_FRONT_MATTER_SCAN_LIMIT = 64 * 1024


def _split_front_matter(text: str) -> tuple[str, str | None]:
    """Drop a YAML (`---`) or TOML (`+++`) block at the very start.

    Only dropped when it closes and its first line looks like `key: value`,
    so a document that merely starts with a `---` rule keeps its text.
    """
    opening = _FRONT_MATTER_OPEN.match(text)
    if not opening:
        return text, None
    marker = text[:3]
    closers = ("---", "...") if marker == "---" else ("+++",)
    head = text[opening.end() : opening.end() + _FRONT_MATTER_SCAN_LIMIT]
    lines = head.split("\n")
    for index, line in enumerate(lines):
        if line.rstrip() in closers:
            block = lines[:index]
            meaningful = [ln for ln in block if ln.strip() and not ln.lstrip().startswith("#")]
            if meaningful and not _YAML_KEY.match(meaningful[0]):
                return text, None
            title = None
            for ln in block:
                found = _FRONT_MATTER_TITLE.match(ln.strip())
                if found:
                    value = found.group(1).strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                        value = value[1:-1]
                    title = value or None
                    break
            consumed = opening.end() + sum(len(ln) + 1 for ln in lines[: index + 1])
            return text[consumed:], title
    return text, None


def _strip_html_comments(text: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break  # unclosed: keep as text
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _clean_markdown_prose(text: str) -> str:
    text = _strip_html_comments(text)
    text = _MD_REF_DEFINITION.sub("", text)
    for _ in range(3):  # `[![alt](img)](url)` needs two passes
        text, n_inline = _MD_INLINE_LINK.subn(r"\1", text)
        text, n_ref = _MD_REF_LINK.subn(r"\1", text)
        if not (n_inline or n_ref):
            break
    return text


def _iter_markdown_segments(text: str) -> Iterator[tuple[bool, str]]:
    """Yield (is_code, text) runs; fenced code blocks are left untouched."""
    prose: list[str] = []
    code: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is None:
            opened = _FENCE.match(line)
            if opened:
                if prose:
                    yield False, "\n".join(prose)
                    prose = []
                fence = opened.group(1)
                code = [line]
            else:
                prose.append(line)
        else:
            code.append(line)
            stripped = line.strip()
            if (
                stripped.startswith(fence[0] * len(fence))
                and not stripped.strip(fence[0])
                and len(line) - len(line.lstrip(" ")) <= 3
            ):
                yield True, "\n".join(code)
                code = []
                fence = None
    if fence is not None:
        yield True, "\n".join(code)
    elif prose:
        yield False, "\n".join(prose)


def _markdown_to_text(text: str) -> tuple[str, str | None]:
    text = LINE_BREAKS.sub("\n", text).lstrip("\ufeff")
    text, title = _split_front_matter(text)
    parts = [
        segment if is_code else _clean_markdown_prose(segment)
        for is_code, segment in _iter_markdown_segments(text)
    ]
    body = "\n".join(parts)
    if title is None:
        for line in body.split("\n"):
            if line.strip():
                heading = _MD_H1.match(line.strip())
                if heading:
                    title = heading.group(1)
                break
    return body, title


def md_to_text(data: bytes, name: str) -> tuple[str, str | None]:
    """Text of a Markdown upload, and its front-matter or leading `# ` title."""
    text, title = _markdown_to_text(decode_text(data, name))
    return text, clean_title(title) if title else None
