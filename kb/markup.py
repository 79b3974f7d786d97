"""Article bodies written in HTML (as Zendesk Guide, Freshdesk and ServiceNow keep them) turned into
the plain text with blank-line paragraphs that the passage chunker and the encoder read.

Headings become Markdown headings, list items "- " lines and table rows " | "-joined cells, so
the structure that splits an article into passages survives; scripts, styles and page furniture
(navigation, header, footer) are dropped and character references decoded. Built on the standard
library's HTML parser, which is lenient with the unclosed tags that editors produce.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

BODY_FORMATS = ("text", "html")

# Dropped with everything inside them.
_SKIP = {"script", "style", "noscript", "template", "head", "nav", "header", "footer", "aside", "form",
         "svg", "button", "iframe", "select"}
# Each starts a paragraph of its own.
_BLOCK = {"p", "div", "section", "article", "main", "blockquote", "pre", "ul", "ol", "dl", "table",
          "figure", "figcaption", "hr", "details", "summary", "h1", "h2", "h3", "h4", "h5", "h6"}
# Each starts a line within the paragraph.
_LINE = {"li", "tr", "dt", "dd", "br"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source", "embed"}
_LEADING_TAG = re.compile(r"\A\s*(<!--.*?-->\s*)*<(!doctype|html|body|p|div|h[1-6]|ul|ol|table|section|article|span|"
                          r"strong|b|em|i|a|img|pre|blockquote|br|hr|font|center)\b[^>]*>", re.I | re.S)


def looks_like_html(text: str) -> bool:
    """True when ``text`` starts with an HTML element, as an HTML article body does (a plain or
    Markdown body that merely mentions a tag later on is left alone)."""
    return bool(_LEADING_TAG.match(text or ""))


def html_to_text(html: str) -> str:
    """The readable text of ``html``: paragraphs separated by blank lines."""
    return _parse(html).text()


def html_page(html: str) -> tuple[str | None, str]:
    """A saved HTML page as (title, body text): the title is the first top-level heading, else the
    page's <title>; the body is the text after that heading."""
    parser = _parse(html)
    text = parser.text()
    first, _, rest = text.partition("\n\n")
    if first.startswith("# ") and "\n" not in first:
        return first[2:].strip(), rest
    return parser.title or None, text


def body_text(body: str, body_format: str | None = None) -> str:
    """An article body as stored and indexed: HTML converted when ``body_format`` is "html", or
    when no format is given and the body starts with an HTML element; other bodies as they are."""
    if body_format == "html" or (body_format is None and looks_like_html(body)):
        return html_to_text(body)
    return body


def _parse(html: str) -> _TextParser:
    parser = _TextParser()
    parser.feed(html or "")
    parser.close()
    return parser


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]  # paragraphs, each a list of lines
        self.skipping: list[str] = []  # open elements whose content is dropped
        self.cells = 0  # cells so far in the current table row
        self.lists = 0  # lists open: a paragraph inside an item stays on the item's line
        self.title: str | None = None
        self._in_title = False

    # The lines of the current paragraph; text goes on the last one.
    def _line(self) -> list[str]:
        return self.blocks[-1]

    def _new_block(self) -> None:
        if any(line.strip() for line in self.blocks[-1]):
            self.blocks.append([])

    def _new_line(self, prefix: str = "") -> None:
        if self._line() and self._line()[-1].strip():
            self._line().append(prefix)
        elif self._line():
            self._line()[-1] = prefix
        else:
            self._line().append(prefix)

    def handle_starttag(self, tag, attrs):
        if tag == "title" and self.title is None and "svg" not in self.skipping:
            self._in_title = True
        if self.skipping or tag in _SKIP:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _BLOCK and not self.lists:
            self._new_block()
            if tag[0] == "h" and tag[1:].isdigit():
                self._line().append("#" * int(tag[1]) + " ")
        elif tag in _LINE:
            self._new_line("- " if tag == "li" else "")
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self._append(" | ")
            self.cells += 1
        self.lists += tag in ("ul", "ol")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self.skipping:
            if tag in self.skipping:  # close it, and anything left open inside it
                del self.skipping[len(self.skipping) - 1 - self.skipping[::-1].index(tag):]
            return
        if tag in ("ul", "ol") and self.lists:
            self.lists -= 1
        if tag in _BLOCK and not self.lists:
            self._new_block()
        elif tag in ("li", "tr", "dt", "dd"):
            self._new_line()

    def handle_data(self, data):
        if self._in_title:
            self.title = ((self.title or "") + data).strip()
            return
        if not self.skipping:
            self._append(data)

    def _append(self, data: str) -> None:
        if not self._line():
            self._line().append("")
        self._line()[-1] += data

    def text(self) -> str:
        paragraphs = []
        for block in self.blocks:
            lines = [re.sub(r"\s+", " ", line).strip() for line in block]
            lines = [line for line in lines if line and not re.fullmatch(r"#+|[| ]+|-", line)]  # left empty
            if lines:
                paragraphs.append("\n".join(lines))
        return "\n\n".join(paragraphs)
