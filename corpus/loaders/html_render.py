"""Render a parsed HTML tree as Markdown-ish text for the chunker.

Separate from `html.py`, which decides what to keep: this module only turns
the kept tree into `# ` headings, `- ` list items and " | " table rows. It
walks the tree with an explicit stack, so deeply nested pages cannot hit the
recursion limit.
"""

from __future__ import annotations

import re
from typing import Any

_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_LISTS = {"ul", "ol", "menu", "dir"}
_HTML_PARAGRAPH_BLOCKS = {"p", "blockquote", "hr", "figure", "details", "dl", "address", "fieldset"}
_HTML_LINE_BLOCKS = {
    "div", "section", "article", "main", "header", "figcaption", "summary",
    "dt", "dd", "center", "caption", "legend", "body", "html", "li", "option",
}  # fmt: skip


class _HtmlRenderer:
    """Render a BeautifulSoup tree into Markdown-ish text without recursion.

    Headings, list items, table cells and rows are collected in their own
    frames, then flattened into one line (cells, headings) or a `- ` block.
    """

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = [{"kind": "root", "parts": []}]
        self.list_depth = 0
        self.pre_depth = 0

    # output helpers -----------------------------------------------------
    def _ends_with_space(self) -> bool:
        for part in reversed(self.frames[-1]["parts"]):
            if part:
                return part[-1] in " \n"
        return True

    def write(self, text: str) -> None:
        self.frames[-1]["parts"].append(text)

    def block(self, newlines: int) -> None:
        """End the current line and leave `newlines - 1` blank lines, no more."""
        have = 0
        for part in reversed(self.frames[-1]["parts"]):
            stripped = part.rstrip(" \t")
            if not stripped:
                continue
            have += len(stripped) - len(stripped.rstrip("\n"))
            if stripped.strip("\n"):
                break
        else:
            return  # nothing written yet in this frame: no leading newlines
        if have < newlines:
            self.write("\n" * (newlines - have))

    def text(self, raw: str) -> None:
        if self.pre_depth:
            self.write(raw.replace("\xa0", " "))
            return
        collapsed = re.sub(r"\s+", " ", raw)
        if not collapsed:
            return
        if collapsed.startswith(" ") and self._ends_with_space():
            collapsed = collapsed[1:]
        if collapsed:
            self.write(collapsed)

    def _push(self, kind: str, **extra: Any) -> None:
        self.frames.append({"kind": kind, "parts": [], **extra})

    def _pop(self) -> dict[str, Any]:
        return self.frames.pop()

    @staticmethod
    def _one_line(frame: dict[str, Any]) -> str:
        return " ".join("".join(frame["parts"]).split())

    # events -------------------------------------------------------------
    def enter(self, name: str) -> None:
        if name == "br":
            self.write("\n")  # explicit: <br><br> makes a blank line
        elif name in _HTML_HEADINGS:
            self._push("heading", level=_HTML_HEADINGS[name])
        elif name == "li":
            self._push("li", depth=max(self.list_depth - 1, 0))
        elif name in _HTML_LISTS:
            self.block(1 if self.list_depth else 2)  # top-level lists stand apart
            self.list_depth += 1
        elif name == "table":
            self.block(2)
        elif name == "tr":
            self._push("row", cells=[])
        elif name in ("td", "th"):
            self._push("cell")
        elif name == "pre":
            self.pre_depth += 1
            self.block(2)
        elif name in _HTML_PARAGRAPH_BLOCKS:
            self.block(2)
        elif name in _HTML_LINE_BLOCKS:
            self.block(1)

    def exit(self, name: str) -> None:
        kind = self.frames[-1]["kind"]
        if name in _HTML_HEADINGS and kind == "heading":
            frame = self._pop()
            text = self._one_line(frame)
            if text:
                self.block(2)
                self.write(f"{'#' * frame['level']} {text}\n")
                self.block(2)
        elif name == "li" and kind == "li":
            frame = self._pop()
            self._write_list_item(frame)
        elif name in _HTML_LISTS:
            self.list_depth = max(self.list_depth - 1, 0)
            self.block(1 if self.list_depth else 2)
        elif name in ("td", "th") and kind == "cell":
            frame = self._pop()
            text = self._one_line(frame)
            if self.frames[-1]["kind"] == "row":
                self.frames[-1]["cells"].append(text)
            elif text:
                self.write(text + " ")
        elif name == "tr" and kind == "row":
            frame = self._pop()
            cells: list[str] = frame["cells"]
            stray = self._one_line(frame)
            if stray:
                cells.append(stray)
            if any(cells):
                self.block(1)
                self.write(" | ".join(cells) + "\n")
        elif name == "table":
            self.block(2)
        elif name == "pre":
            self.pre_depth = max(self.pre_depth - 1, 0)
            self.block(2)
        elif name in _HTML_PARAGRAPH_BLOCKS:
            self.block(2)
        elif name in _HTML_LINE_BLOCKS:
            self.block(1)

    def _write_list_item(self, frame: dict[str, Any]) -> None:
        indent = "  " * frame["depth"]
        lines = [ln.rstrip() for ln in "".join(frame["parts"]).split("\n") if ln.strip()]
        if not lines:
            return
        out = [f"{indent}- {lines[0].strip()}"]
        nested_prefix = indent + "  "
        for line in lines[1:]:
            if line.startswith(nested_prefix) and line.lstrip().startswith("- "):
                out.append(line)  # item of a nested list, already indented
            else:
                out.append(nested_prefix + line.strip())
        self.block(1)
        self.write("\n".join(out) + "\n")

    def result(self) -> str:
        # Unclosed frames cannot happen with a parsed tree, but be safe.
        while len(self.frames) > 1:
            frame = self._pop()
            self.write("".join(frame["parts"]))
        text = "".join(self.frames[0]["parts"]).replace("\xa0", " ")
        text = "\n".join(line.rstrip() for line in text.split("\n"))
        return re.sub(r"\n{3,}", "\n\n", text)


def render_html(roots: list[Any]) -> str:
    """Text of the given BeautifulSoup nodes, in document order."""
    from bs4 import Tag
    from bs4.element import NavigableString, PreformattedString

    renderer = _HtmlRenderer()
    stack: list[tuple[Any, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, Tag):
            name = (node.name or "").lower()
            if leaving:
                renderer.exit(name)
                continue
            renderer.enter(name)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            renderer.text(str(node))
    return renderer.result()
