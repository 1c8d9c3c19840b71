"""Telegram's ``parse_mode=HTML`` parser, ported from TDLib, plus a few strictness checks.

:func:`parse_html` turns Bot API HTML markup into the visible text and the list of
``MessageEntity`` dicts (offsets and lengths in UTF-16 code units, the way Telegram counts
them), or raises :class:`EntityParseError` with the same wording the Bot API uses after
``"Bad Request: can't parse entities: "``.

The parser follows TDLib's ``parse_html`` (``td/telegram/MessageEntity.cpp``) byte for byte
where it matters: the supported tags (``b strong i em u ins s strike del span tg-spoiler a
tg-emoji code pre blockquote``), lower-casing of tag names, the attribute grammar (quoted values
or name tokens of ``[A-Za-z0-9.-]``, valueless ``expandable`` on ``blockquote``), ``</>`` closing
the innermost tag, the error messages with UTF-8 *byte* offsets, ``<pre><code
class="language-x">`` becoming one ``pre`` entity with a language, and empty entities being
dropped.

With ``strict=True`` (the default) it is stricter than Telegram wherever Telegram would silently
show something other than what the author meant. These extra errors follow the Bot API
documentation ("All ``<``, ``>`` and ``&`` symbols that are not a part of a tag or an HTML entity
must be replaced with the corresponding HTML entities"), except that a bare ``>`` is still
accepted, as it is by Telegram:

* an ``&`` that does not start ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` ``&#NNN;`` or ``&#xHH;``
  (including ``&nbsp;`` and entities missing the final ``;``) is an error, in text and in
  attribute values (Telegram would show it literally);
* ``<a>`` inside ``<a>``, ``<blockquote>`` inside ``<blockquote>``, and any tag inside
  ``<code>``/``<pre>`` other than ``<code>`` directly inside ``<pre>`` are errors (Telegram
  would drop the inner formatting);
* an ``<a href>`` whose URL Telegram would reject (no usable scheme/host, spaces) is an error
  (Telegram would silently drop the link);
* numeric references to surrogate code points are always errors.

Tests can call :func:`parse_html` directly; the server uses it for ``sendMessage``,
``editMessageText``, captions and inline query results.
"""

from __future__ import annotations

import re

__all__ = [
    "ALLOWED_TAGS",
    "EntityParseError",
    "parse_html",
    "strip_text",
    "utf16_len",
    "utf16_offsets",
]

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SPACES = frozenset(" \t\r\n\0\v\f")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]")

# TDLib's sort priorities: outer entities (blockquote, pre) first for the same range.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_LINK_SCHEMES = frozenset({"http", "https", "ftp", "tg", "ton", "tonsite", "mailto"})
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_BARE_DOMAIN_RE = re.compile(r"^[\w\-]+(\.[\w\-]+)+(:\d{1,5})?([/?#].*)?$")


class EntityParseError(ValueError):
    """The markup cannot be parsed; ``str(error)`` is Telegram's message (without prefix)."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram measures text and offsets)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offsets(text: str) -> list[int]:
    """``result[i]`` is the UTF-16 offset of ``text[i]``; ``result[len(text)]`` the total."""
    offsets = [0] * (len(text) + 1)
    pos = 0
    for index, char in enumerate(text):
        offsets[index] = pos
        pos += 2 if ord(char) > 0xFFFF else 1
    offsets[len(text)] = pos
    return offsets


def strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trim leading/trailing whitespace like Telegram does and fix entity offsets.

    Entities are clipped to the remaining text; entities that become empty are dropped.
    """
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_len)
        if end > start:
            fixed = dict(entity)
            fixed["offset"] = start
            fixed["length"] = end - start
            result.append(fixed)
    return stripped, result


def _is_valid_link(url: str) -> bool:
    if not url or any(char.isspace() for char in url):
        return False
    match = _SCHEME_RE.match(url)
    if match is None:
        return _BARE_DOMAIN_RE.match(url) is not None
    scheme = match.group(1).lower()
    if scheme not in _LINK_SCHEMES:
        return False
    rest = url[match.end() :]
    if scheme in {"http", "https", "ftp"}:
        if not rest.startswith("//"):
            return False
        host = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        host = host.rsplit("@", 1)[-1]
        return bool(host) and not host.startswith(":")
    return bool(rest)


class _Parser:
    def __init__(self, markup: str, strict: bool) -> None:
        self.markup = markup
        self.text = markup + "\0"  # TDLib relies on the terminating NUL
        self.strict = strict
        self._byte_cache: dict[int, int] = {}

    def byte_offset(self, index: int) -> int:
        if index not in self._byte_cache:
            self._byte_cache[index] = len(self.markup[:index].encode("utf-8", "surrogatepass"))
        return self._byte_cache[index]

    def error(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def decode_entity(self, pos: int) -> tuple[int, int, bool]:
        """TDLib's ``decode_html_entity``: returns (code point or 0, end index, had ';')."""
        text = self.text
        end = pos + 1
        code = 0
        if text[pos + 1] == "#":
            end += 1
            if text[pos + 2] == "x":
                end += 1
                while text[end] in "0123456789abcdefABCDEF" and text[end] != "\0":
                    code = code * 16 + int(text[end], 16)
                    end += 1
                    if code >= 0x10FFFF:
                        break
            else:
                while text[end] in "0123456789" and text[end] != "\0":
                    code = code * 10 + int(text[end])
                    end += 1
                    if code >= 0x10FFFF:
                        break
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return 0, pos, False
        else:
            while text[end].isascii() and text[end].isalpha():
                end += 1
            name = text[pos + 1 : end]
            code = {"lt": 0x3C, "gt": 0x3E, "amp": 0x26, "quot": 0x22}.get(name, 0)
            if code == 0:
                return 0, pos, False
        if text[end] == ";":
            return code, end + 1, True
        return code, end, False

    def read_entity(self, pos: int) -> tuple[str | None, int]:
        """Decode an ``&...`` reference at ``pos``; (None, pos) if it is not a valid one."""
        code, end, had_semicolon = self.decode_entity(pos)
        if code == 0 or (self.strict and not had_semicolon):
            if self.strict:
                match = re.match(r"&#?[A-Za-z0-9]*;?", self.markup[pos : pos + 32])
                shown = match.group(0) if match else "&"
                raise self.error(
                    f'Unsupported HTML entity "{shown}" at byte offset {self.byte_offset(pos)}; '
                    'only &lt; &gt; &amp; &quot; and numeric references are allowed, '
                    'a literal "&" must be written as "&amp;"'
                )
            return None, pos
        if 0xD800 <= code <= 0xDFFF:
            raise self.error(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return chr(code), end

    def parse(self) -> tuple[str, list[dict]]:  # noqa: C901 - a faithful port of one function
        text = self.text
        size = len(self.markup)
        out: list[str] = []
        utf16 = 0
        entities: list[dict] = []
        # stack of [tag_name, argument, utf16 offset, index in out, begin index in markup]
        stack: list[list] = []
        i = 0
        while i < size:
            char = text[i]
            if char == "&":
                decoded, end = self.read_entity(i)
                if decoded is not None:
                    out.append(decoded)
                    utf16 += 2 if ord(decoded) > 0xFFFF else 1
                    i = end
                    continue
            if char != "<":
                out.append(char)
                utf16 += 2 if ord(char) > 0xFFFF else 1
                i += 1
                continue

            begin = i
            i += 1
            if text[i] != "/":
                # start tag
                while text[i] not in _SPACES and text[i] != ">":
                    i += 1
                if i >= size:
                    raise self.error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                tag = text[begin + 1 : i].lower()
                if tag not in ALLOWED_TAGS:
                    raise self.error(
                        f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}'
                    )
                argument = ""
                while text[i] != ">":
                    while i < size and text[i] in _SPACES:
                        i += 1
                    if text[i] == ">":
                        break
                    attr_begin = i
                    while text[i] not in _SPACES and text[i] not in "=>":
                        i += 1
                    attr_name = text[attr_begin:i]
                    if not attr_name:
                        raise self.error(
                            f'Empty attribute name in the tag "{tag}" at byte offset '
                            f"{self.byte_offset(begin)}"
                        )
                    while i < size and text[i] in _SPACES:
                        i += 1
                    if text[i] != "=":
                        if tag == "blockquote" and attr_name == "expandable":
                            argument = "1"
                            if i >= size:
                                raise self.error(
                                    f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
                                )
                            continue
                        raise self.error(
                            "Expected equal sign in declaration of an attribute of the tag "
                            f'"{tag}" at byte offset {self.byte_offset(begin)}'
                        )
                    i += 1
                    while i < size and text[i] in _SPACES:
                        i += 1
                    if i >= size:
                        raise self.error(
                            f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}'
                        )
                    if text[i] not in "'\"":
                        token_begin = i
                        while i < size and _NAME_TOKEN.match(text[i]):
                            i += 1
                        value = text[token_begin:i].lower()
                        if text[i] not in _SPACES and text[i] != ">":
                            raise self.error(
                                "Unexpected end of name token at byte offset "
                                f"{self.byte_offset(token_begin)}"
                            )
                    else:
                        quote = text[i]
                        i += 1
                        parts: list[str] = []
                        while i < size and text[i] != quote:
                            if text[i] == "&":
                                decoded, end = self.read_entity(i)
                                if decoded is not None:
                                    parts.append(decoded)
                                    i = end
                                    continue
                            parts.append(text[i])
                            i += 1
                        if text[i] == quote:
                            i += 1
                        value = "".join(parts)
                    if i >= size:
                        raise self.error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                    if tag == "a" and attr_name == "href":
                        argument = value
                    elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                        argument = value[len("language-") :]
                    elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                        argument = value[3:]
                    elif tag == "tg-emoji" and attr_name == "emoji-id":
                        argument = value
                    elif tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                if tag == "span" and argument != "spoiler":
                    raise self.error(
                        'Tag "span" must have class "tg-spoiler" at byte offset '
                        f"{self.byte_offset(begin)}"
                    )
                if self.strict:
                    self.check_nesting(tag, stack, begin)
                stack.append([tag, argument, utf16, len(out), begin])
                i += 1  # skip '>'
                continue

            # end tag
            if not stack:
                raise self.error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
            while text[i] not in _SPACES and text[i] != ">":
                i += 1
            end_tag = text[begin + 2 : i].lower()
            while i < size and text[i] in _SPACES:
                i += 1
            if text[i] != ">":
                raise self.error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
            tag, argument, entity_offset, out_begin, _ = stack[-1]
            if end_tag and end_tag != tag:
                raise self.error(
                    f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                    f'expected "</{tag}>", found "</{end_tag}>"'
                )
            if utf16 > entity_offset:
                self.add_entity(entities, tag, argument, entity_offset, utf16 - entity_offset,
                                "".join(out[out_begin:]))
            stack.pop()
            i += 1  # skip '>'

        if stack:
            raise self.error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
        for entity in entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
        return "".join(out), entities

    def check_nesting(self, tag: str, stack: list[list], begin: int) -> None:
        open_tags = [entry[0] for entry in stack]
        where = f"at byte offset {self.byte_offset(begin)}"
        if tag == "a" and "a" in open_tags:
            raise self.error(f'Nested "a" tags are not allowed {where}')
        if tag == "blockquote" and "blockquote" in open_tags:
            raise self.error(f'Nested "blockquote" tags are not allowed {where}')
        if "pre" in open_tags or "code" in open_tags:
            if tag == "code" and open_tags[-1] == "pre":
                return
            container = "code" if "code" in open_tags else "pre"
            raise self.error(
                f'Tag "{tag}" inside "{container}" {where}: Telegram shows no formatting '
                "inside code and pre"
            )

    def add_entity(self, entities: list[dict], tag: str, argument: str, offset: int,
                   length: int, inner_text: str) -> None:
        if tag in _SIMPLE_TAGS:
            entities.append({"type": _SIMPLE_TAGS[tag], "offset": offset, "length": length})
        elif tag == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise self.error("Invalid custom emoji identifier specified")
            entities.append(
                {"type": "custom_emoji", "offset": offset, "length": length,
                 "custom_emoji_id": argument}
            )
        elif tag == "a":
            url = argument or inner_text
            user = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if user:
                entities.append(
                    {"type": "text_mention", "offset": offset, "length": length,
                     "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
                )
            elif _is_valid_link(url):
                entities.append({"type": "text_link", "offset": offset, "length": length,
                                 "url": url})
            elif self.strict:
                raise self.error(
                    f'Invalid URL "{url}" in an "a" tag: Telegram would silently drop this link'
                )
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (last is not None and last["type"] == "code" and last["offset"] == offset
                    and last["length"] == length and last.get("language")):
                last["type"] = "pre"
            else:
                entities.append({"type": "pre", "offset": offset, "length": length})
        elif tag == "code":
            last = entities[-1] if entities else None
            if (last is not None and last["type"] == "pre" and last["offset"] == offset
                    and last["length"] == length and argument):
                last["language"] = argument
            else:
                entity = {"type": "code", "offset": offset, "length": length}
                if argument:
                    entity["language"] = argument
                entities.append(entity)
        elif tag == "blockquote":
            entities.append(
                {"type": "expandable_blockquote" if argument else "blockquote",
                 "offset": offset, "length": length}
            )
        else:  # pragma: no cover - ALLOWED_TAGS and this function must agree
            raise AssertionError(tag)


def parse_html(markup: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Bot API HTML into ``(visible_text, entities)``.

    Raises :class:`EntityParseError` with Telegram's message. ``strict=False`` gives TDLib's
    exact (more forgiving) behaviour; see the module docstring for what ``strict`` adds.
    The text is *not* trimmed; use :func:`strip_text` for that.
    """
    return _Parser(markup, strict).parse()
