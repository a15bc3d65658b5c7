"""Source text -> clean plain text: HTML (or Markdown-ish text) with paragraph breaks, one-line titles.

HTML is reduced with the stdlib ``html.parser`` (tags, scripts and styles dropped, entities unescaped).
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def match_key(text: str) -> str:
    """A label as lookup tables are keyed: lower-case, each run of anything but letters and digits as one space."""
    return _NON_ALNUM.sub(" ", text.lower()).strip()


_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "nav",
        "hr",
        "address",
        "figure",
        "figcaption",
        "details",
        "summary",
        "main",
        "form",
        "fieldset",
    ]
)
LIST_ITEM = "\n- "  # what an <li> starts: descriptions keep their lists as Markdown-style "- " lines
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"})
_BLANK_LINES = re.compile(r"\n{3,}")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_MARKDOWN_LINE_MARKS = re.compile(r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?)")  # headings, quotes
_HTML_HINT = re.compile(r"<[a-zA-Z!/?]")
# a start or end tag whose attributes hold no "<" or ">" outside quotes (the loop unrolled: fast in `re`)
_PLAIN_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*)?/?>""")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":  # list items stay a list: one "- item" line each
            self.parts.append(LIST_ITEM)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks and one blank line between paragraphs."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    if "\n" not in text:
        return " ".join(text.split())
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    return _BLANK_LINES.sub("\n\n", text).strip("\n")  # a blank line (or several): one paragraph break


_TAG_TEXT = {**dict.fromkeys(_BLOCK_TAGS, "\n\n"), "br": "\n", **dict.fromkeys(_SKIP_TAGS, "\x00")}


def _tag_text(match: re.Match) -> str:
    name = match.group(2).lower()
    if name == "li":
        return "" if match.group(1) else LIST_ITEM
    text = _TAG_TEXT.get(name)
    if text is not None:
        return text
    return " " if name in ("td", "th") and not match.group(1) else ""


def _simple_html(text: str) -> str | None:
    """Text of markup made only of plain tags (no comments, scripts, styles or stray "<"), by one
    regex pass; None when the markup needs the real parser. Gives what :class:`_TextExtractor` gives
    (tests/test_loaders.py compares the two)."""
    if "<!" in text or "<?" in text or "\x00" in text:
        return None
    text = _PLAIN_TAG.sub(_tag_text, text)
    if "\x00" in text or _HTML_HINT.search(text):  # a script/style, or something tag-like but not plain
        return None
    return unescape(text) if "&" in text else text


def html_to_text(value: str | None, markdown: bool = False) -> str | None:
    """HTML to plain text: tags, scripts and styles dropped, entities unescaped, paragraphs kept.

    Markup is read with the stdlib :class:`html.parser.HTMLParser`; markup made only of plain tags
    takes a regex fast path with the same result (exports carry hundreds of thousands of descriptions).
    ``markdown=True`` also reduces Markdown links to "text (url)" and drops heading/emphasis marks
    (CKAN notes). Empty results give None.
    """
    if value is None:
        return None
    text = str(value)
    if not text or text.isspace():
        return None
    if markdown:
        if "](" in text:
            text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else m.group(2), text)
        if "#" in text or ">" in text:
            text = _MARKDOWN_LINE_MARKS.sub("", text)
        if "**" in text:
            text = text.replace("**", "")  # bold marks
    if _HTML_HINT.search(text):
        simple = _simple_html(text)
        if simple is None:
            parser = _TextExtractor()
            parser.feed(text)
            parser.close()
            simple = "".join(parser.parts)
        text = simple
    elif "&" in text:
        text = unescape(text)
    elif text.isprintable() and "  " not in text:
        return text.strip() or None  # one line, nothing to tidy
    return _tidy(text) or None


def clean_text(value: object) -> str | None:
    """A trimmed one-line string (runs of whitespace as one space), or None for empty/absent values
    and non-strings."""
    if isinstance(value, str):
        if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
            return value or None  # the common case: nothing to collapse
    elif value is None or isinstance(value, (dict, list, bool)):
        return None
    text = " ".join(str(value).split())
    return text or None


def shown_value(value: object, limit: int = 200) -> str:
    """A source value as a problem shows it: HTML reduced to its text, on one line, at most ``limit`` characters.

    A licence given as ``<a href="...">Open Government Licence</a>`` is reported as "Open Government Licence",
    which is what a publisher recognises, not as markup.
    """
    text = str(value)
    if _HTML_HINT.search(text):
        text = html_to_text(text) or text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
