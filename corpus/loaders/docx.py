"""Word (.docx) to text: headings, lists and tables as the chunker reads them.

python-docx gives paragraphs and tables, not structure, so headings come from
style names and outline levels, list items from numbering or list styles, and
table rows become " | " lines. Paragraphs inside content controls are read
too. The zip is checked by `zipcheck` before python-docx opens it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from corpus.errors import DamagedFile, TooLarge, XmlEntities
from corpus.loaders.limits import LoadLimits
from corpus.loaders.text import clean_title
from corpus.loaders.zipcheck import check_zip_directory

_XML_PROLOG_BYTES = 4096  # a DOCTYPE with entity declarations comes before the root element
_DECLARES_ENTITIES = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DOCX_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*([1-9])$", re.IGNORECASE)
_DOCX_TITLE_STYLES = {"title", "제목"}
_DOCX_LIST_STYLE = re.compile(r"^list (?:bullet|number)(?:\s*([1-9]))?$", re.IGNORECASE)


@dataclass(frozen=True)
class _DocxStyle:
    name: str
    outline_level: int | None  # 0-based, as in w:outlineLvl


def _docx_paragraph_styles(document: Any) -> tuple[dict[str, _DocxStyle], _DocxStyle]:
    """Paragraph styles by id, resolved once.

    `Paragraph.style` scans every style on each call, which made a few
    thousand paragraphs take tens of seconds; outline levels are inherited
    through w:basedOn.
    """
    from docx.oxml.ns import qn

    raw: dict[str, tuple[str, str | None, str | None]] = {}
    default_id: str | None = None
    try:
        styles_element = document.styles.element
    except Exception:  # noqa: BLE001 - a missing styles part is not fatal
        styles_element = None
    if styles_element is not None:
        for style in styles_element.iterchildren(qn("w:style")):
            if style.get(qn("w:type"), "paragraph") != "paragraph":
                continue
            style_id = style.get(qn("w:styleId")) or ""
            names = style.xpath("./w:name/@w:val")
            outline = style.xpath("./w:pPr/w:outlineLvl/@w:val")
            based_on = style.xpath("./w:basedOn/@w:val")
            raw[style_id] = (
                (names[0] if names else style_id).strip(),
                outline[0] if outline else None,
                based_on[0] if based_on else None,
            )
            if style.get(qn("w:default")) in ("1", "true", "on") and default_id is None:
                default_id = style_id

    def outline_of(style_id: str) -> int | None:
        seen: set[str] = set()
        current: str | None = style_id
        while current is not None and current in raw and current not in seen:
            seen.add(current)
            _, outline, based_on = raw[current]
            if outline is not None:
                try:
                    return int(outline)
                except ValueError:
                    return None
            current = based_on
        return None

    resolved = {sid: _DocxStyle(name, outline_of(sid)) for sid, (name, _, _) in raw.items()}
    default = resolved.get(default_id or "", _DocxStyle("Normal", None))
    return resolved, default


def _docx_heading_level(paragraph: Any, style: _DocxStyle) -> int | None:
    found = _DOCX_HEADING_STYLE.match(style.name)
    if found:
        return int(found.group(1))
    levels = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    level: int | None = style.outline_level
    if levels:
        try:
            level = int(levels[0])
        except ValueError:
            return None
    if level is not None and 0 <= level <= 5:
        return level + 1
    return None


def _docx_list_level(paragraph: Any, style: _DocxStyle) -> int | None:
    """0-based list nesting level, or None if the paragraph is not a list item."""
    num_ids = paragraph._p.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    if num_ids and num_ids[0] != "0":
        ilvl = paragraph._p.xpath("./w:pPr/w:numPr/w:ilvl/@w:val")
        try:
            return min(max(int(ilvl[0]), 0), 8) if ilvl else 0
        except ValueError:
            return 0
    found = _DOCX_LIST_STYLE.match(style.name)
    if found:
        return int(found.group(1)) - 1 if found.group(1) else 0
    return None


def _iter_docx_blocks(body: Any, parent: Any) -> Iterator[Any]:
    """Paragraphs and tables in document order, including content controls."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    stack = [iter(body.iterchildren())]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            for content in child.iterchildren(qn("w:sdtContent")):
                stack.append(iter(content.iterchildren()))


def _docx_table_rows(table: Any) -> list[str]:
    from docx.table import _Cell

    rows: list[str] = []
    for tr in table._tbl.tr_lst:
        cells = []
        for tc in tr.tc_lst:  # real cells only: no duplicates for merged ones
            cell = _Cell(tc, table)
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _refuse_entity_declarations(data: bytes, name: str) -> None:
    """Word never writes a DOCTYPE; a part that declares entities is built to blow up when
    they are expanded ("billion laughs"), so the file is refused with that reason."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(info) as part:
                prolog = part.read(_XML_PROLOG_BYTES)
            if _DECLARES_ENTITIES.search(prolog) or _DECLARES_ENTITIES.search(prolog.replace(b"\x00", b"")):
                raise XmlEntities(name)


def docx_to_text(data: bytes, name: str, limits: LoadLimits) -> tuple[str, str | None]:
    """Text of the body in document order, and the core or Title-style title."""
    check_zip_directory(data, name, limits)
    _refuse_entity_declarations(data, name)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise DamagedFile(name) from exc

    title: str | None = None
    try:
        title = clean_title(document.core_properties.title)
    except Exception:  # noqa: BLE001 - broken core.xml is no reason to reject
        title = None

    styles, default_style = _docx_paragraph_styles(document)
    blocks: list[tuple[str, str]] = []  # (kind, text); kind in para/list/table
    total = 0
    for block in _iter_docx_blocks(document.element.body, document):
        if hasattr(block, "_tbl"):
            rows = _docx_table_rows(block)
            if rows:
                blocks.append(("table", "\n".join(rows)))
                total += sum(len(r) for r in rows)
        else:
            text = block.text.strip()
            if not text:
                continue
            style_ids = block._p.xpath("./w:pPr/w:pStyle/@w:val")
            style = styles.get(style_ids[0], default_style) if style_ids else default_style
            if style.name.lower() in _DOCX_TITLE_STYLES:
                one_line = " ".join(text.split())
                if title is None:
                    title = clean_title(one_line)
                blocks.append(("para", f"# {one_line}"))
            elif (level := _docx_heading_level(block, style)) is not None:
                blocks.append(("para", f"{'#' * level} {' '.join(text.split())}"))
            elif (depth := _docx_list_level(block, style)) is not None:
                item = "\n".join(ln.strip() for ln in text.split("\n") if ln.strip())
                item = item.replace("\n", "\n" + "  " * (depth + 1))
                blocks.append(("list", f"{'  ' * depth}- {item}"))
            else:
                blocks.append(("para", text))
            total += len(text)
        if total > limits.max_chars:
            raise TooLarge(name, f"텍스트 {total:,}자 이상, 최대 {limits.max_chars:,}자")

    out: list[str] = []
    previous = ""
    for kind, text in blocks:
        if out:
            out.append("\n" if kind == "list" and previous == "list" else "\n\n")
        out.append(text)
        previous = kind
    return "".join(out), title
