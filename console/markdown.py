"""A small, safe subset of Markdown as HTML, for the article editor's preview.

Article text is hostile input: every character of it is escaped, and only the markup this module
writes itself reaches the page. Raw HTML in the text shows as text; links must be http(s)
addresses (a ``javascript:`` link stays text). The subset is what help articles use: headings,
paragraphs, bulleted and numbered lists, quotes, fenced code, inline code, bold, italics and links.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
# Inline: a code span, or a link whose address is http(s) (anything else stays text).
_INLINE = re.compile(r"(`+)(.+?)\1|\[([^\[\]\n]+)\]\((https?://[^\s()<>\"']+)\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_EM = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*|(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])")


def _emphasis(text: str) -> str:
    """``text`` escaped, with bold and italics."""
    out = str(escape(text))
    out = _STRONG.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", out)
    return _EM.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", out)


def inline(text: str) -> str:
    """One line or paragraph of text as escaped HTML with its inline markup."""
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(_emphasis(text[at:m.start()]))
        if m.group(1):
            out.append(f"<code>{escape(m.group(2).strip())}</code>")
        else:
            out.append(f'<a href="{escape(m.group(4))}" rel="noopener noreferrer">{_emphasis(m.group(3))}</a>')
        at = m.end()
    out.append(_emphasis(text[at:]))
    return "".join(out)


def render(text: str, *, top_heading: int = 3) -> Markup:
    """``text`` (Markdown) as safe HTML; a ``#`` heading becomes ``<h{top_heading}>`` so that the
    article sits under the page's own headings."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    quote: list[str] = []

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            html.append(f"<p>{inline(' '.join(s.strip() for s in paragraph))}</p>")
            paragraph.clear()
        if items:
            html.append(f"<{list_tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""
        if quote:
            html.append(f"<blockquote>{render(chr(10).join(quote), top_heading=top_heading)}</blockquote>")
            quote.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            end = i + 1
            while end < len(lines) and not lines[end].lstrip().startswith(fence.group(1)):
                end += 1
            html.append(f"<pre><code>{escape(chr(10).join(lines[i + 1:end]))}</code></pre>")
            i = end + 1
            continue
        quoted = _QUOTE.match(line)
        if quoted and (quote or not paragraph):
            if not quote:
                flush()
            quote.append(quoted.group(1))
            i += 1
            continue
        if quote:
            flush()
        heading = _HEADING.match(line)
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            flush()
        elif _RULE.match(line):
            flush()
            html.append("<hr>")
        elif heading:
            flush()
            level = min(6, len(heading.group(1)) + top_heading - 1)
            html.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()  # a list item's continuation line
        else:
            if items:
                flush()
            paragraph.append(line)
        i += 1
    flush()
    return Markup("\n".join(html))
