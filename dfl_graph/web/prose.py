"""Descriptions as HTML: the plain text the loaders keep (paragraphs separated by blank lines, list items as
"- item" lines) shown as paragraphs and lists, every character escaped."""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

_BULLET = re.compile(r"^\s*(?:[-*•])\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")


def _list(lines: list[str], pattern: re.Pattern, tag: str) -> str | None:
    items = [pattern.match(line) for line in lines]
    if not all(items):
        return None
    return f"<{tag}>" + "".join(f"<li>{escape(m.group(1))}</li>" for m in items if m) + f"</{tag}>"


def paragraphs(text: str | None) -> Markup:
    """``{{ description | paragraphs }}``: blank-line separated blocks as ``<p>``, "- " / "* " / "• " lines
    as ``<ul>``, "1. " lines as ``<ol>``, single line breaks as ``<br>``."""
    if not text:
        return Markup("")
    html = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        bullets = [i for i, line in enumerate(lines) if _BULLET.match(line) or _NUMBERED.match(line)]
        lead = lines[: bullets[0]] if bullets else lines  # a list may follow its lead-in line directly
        rest = lines[len(lead) :]
        if lead:
            html.append("<p>" + "<br>".join(escape(line) for line in lead) + "</p>")
        if rest:
            listed = _list(rest, _BULLET, "ul") or _list(rest, _NUMBERED, "ol")
            html.append(listed or "<p>" + "<br>".join(escape(line) for line in rest) + "</p>")
    return Markup("".join(html))


__all__ = ["paragraphs"]
