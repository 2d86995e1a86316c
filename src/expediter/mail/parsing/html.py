"""HTML from mail: an allow-list sanitiser and a plain-text rendering.

Mail HTML is hostile by default (scripts, tracking, ``javascript:`` links), so
it is cleaned with ``nh3`` on the way in; ``cid:`` stays an allowed scheme so
that inline images can be pointed at their stored attachment when shown. The
text rendering feeds search, notifications and reply stripping, so it keeps
the line structure a reader sees and nothing of scripts or styles.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "title", "template", "noscript"})

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tbody", "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})
_INLINE_SPACE = re.compile(r"[ \t\r\n\f\u200b\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def sanitize_html(html: str) -> str:
    """The allow-listed subset of ``html`` that is safe to render on our origin."""
    return nh3.clean(
        html,
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def html_to_text(html: str) -> str:
    """A readable plain-text rendering: blocks on their own lines, no markup."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        pass
    return renderer.text()


class _TextRenderer(HTMLParser):
    """Collects text the way a browser lays it out, roughly and quickly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._chunks: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self._chunks.append("\n")
        elif tag == "pre":
            self._pre_depth += 1
            self._break(2)
        elif tag == "li":
            self._break(1)
            self._chunks.append("- ")
        elif tag in ("td", "th"):
            self._space()
        elif tag in _BLOCK_TAGS:
            self._break(2 if tag in _PARAGRAPH_TAGS else 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._chunks.append("\n")
        elif tag == "hr":
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
            self._break(2)
        elif tag in _BLOCK_TAGS and tag != "li":
            self._break(2 if tag in _PARAGRAPH_TAGS else 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            self._chunks.append(data.replace("\r\n", "\n"))
            return
        collapsed = _INLINE_SPACE.sub(" ", data)
        if self._at_line_start() or self._ends_with_space():
            collapsed = collapsed.lstrip(" ")
        if collapsed:
            self._chunks.append(collapsed)

    def _space(self) -> None:
        if not (self._at_line_start() or self._ends_with_space()):
            self._chunks.append(" ")

    def _ends_with_space(self) -> bool:
        return bool(self._chunks) and self._chunks[-1].endswith(" ")

    def _at_line_start(self) -> bool:
        return not self._chunks or self._chunks[-1].endswith("\n")

    def _break(self, newlines: int) -> None:
        """End the current line, leaving ``newlines`` line breaks (2 = a blank line)."""
        if not self._chunks:
            return
        tail = "".join(self._chunks[-3:])
        present = len(tail) - len(tail.rstrip("\n"))
        if present < newlines:
            self._chunks.append("\n" * (newlines - present))

    def text(self) -> str:
        lines = [line.rstrip(" ") for line in "".join(self._chunks).split("\n")]
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
