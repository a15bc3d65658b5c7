"""Atom feeds (RFC 4287) of new and changed datasets: the whole catalogue (``/feed.atom``) or any search
(``/search.atom?q=…``, ``?publisher=tfl``, ``?theme=health``, ``?borough=E09000012``), newest first.

A feed reader subscribed to a publisher, a theme or a search hears of every dataset added or updated
there. Each entry is one dataset: its IRI as ``id``, its last update (``dct:modified``, else
``dct:issued``) as ``updated``, its publisher as ``author``, its themes as categories, the start of its
description as ``summary``. The feed's own ``updated`` is its newest entry's (or the catalogue's
publication when it has none), so it changes exactly when the catalogue does.
"""

from __future__ import annotations

from xml.etree import ElementTree

from dfl_graph.web.negotiation import Format

ATOM = Format("atom", "application/atom+xml", "Atom feed", False)
NS = "http://www.w3.org/2005/Atom"
ENTRIES = 50
SUMMARY_CHARS = 500


def atom_time(value: str | None, fallback: str) -> str:
    """An RFC 3339 date-time from the catalogue's dates (a year, a month, a day, or a full date-time)."""
    value = value or fallback
    date, _, time = value.partition("T")
    parts = [*date.split("-"), "01", "01"][:3]
    date = "-".join(p.zfill(2) for p in parts)
    if not time:
        return f"{date}T00:00:00Z"
    if time.endswith("Z") or "+" in time or time.count("-"):
        return f"{date}T{time}"
    return f"{date}T{time}Z"


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{NS}}}{tag}", attributes)
    element.text = text
    return element


def atom_feed(title: str, self_url: str, html_url: str, entries: list[dict], published: str) -> bytes:
    """The feed document; ``entries`` are datasets as :func:`dfl_graph.web.library.present` makes them."""
    ElementTree.register_namespace("", NS)
    feed = ElementTree.Element(f"{{{NS}}}feed")
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    stamps = [atom_time(e.get("updated"), published) for e in entries]
    _text(feed, "updated", max(stamps) if stamps else atom_time(published, published))
    ElementTree.SubElement(feed, f"{{{NS}}}link", {"rel": "self", "type": ATOM.media_type, "href": self_url})
    ElementTree.SubElement(feed, f"{{{NS}}}link", {"rel": "alternate", "type": "text/html", "href": html_url})
    author = ElementTree.SubElement(feed, f"{{{NS}}}author")
    _text(author, "name", "Data for London")
    _text(feed, "generator", "Data for London")
    for item, stamp in zip(entries, stamps, strict=True):
        entry = ElementTree.SubElement(feed, f"{{{NS}}}entry")
        _text(entry, "id", item["iri"])
        _text(entry, "title", item["title"] or item["iri"])
        _text(entry, "updated", stamp)
        if item.get("issued"):
            _text(entry, "published", atom_time(item["issued"], published))
        ElementTree.SubElement(entry, f"{{{NS}}}link", {"rel": "alternate", "type": "text/html", "href": item["iri"]})
        if item.get("publisher"):
            _text(ElementTree.SubElement(entry, f"{{{NS}}}author"), "name", item["publisher"]["label"])
        for theme in item.get("themes") or ():
            ElementTree.SubElement(
                entry, f"{{{NS}}}category", {"term": theme["key"] or theme["iri"], "label": theme["label"]}
            )
        description = " ".join((item.get("description") or "").split())
        if description:
            cut = description if len(description) <= SUMMARY_CHARS else description[:SUMMARY_CHARS].rsplit(" ", 1)[0]
            _text(entry, "summary", cut + ("…" if cut != description else ""))
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


__all__ = ["ATOM", "ENTRIES", "atom_feed", "atom_time"]
