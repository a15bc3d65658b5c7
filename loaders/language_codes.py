"""``dct:language`` as DCAT-AP wants it: a concept of the EU language authority list, whatever form the source used.

Sources write a language as a code ("en", "eng", "fre", "en-GB"), as a blank node with the code as its
``skos:notation``, as an IRI of an ISO 639 code list (Library of Congress, Lexvo), or as the EU concept itself.
Codes (and the blank nodes that only carry one) and ISO 639 IRIs become the EU concept
(``http://publications.europa.eu/resource/authority/language/ENG``); EU concepts and other IRIs are kept as given;
a code that names no language we know is reported, not published (DCAT-AP's range is an IRI). JSON sources'
``language`` fields (data.json, a CKAN ``language`` extra) are read the same way (:func:`language_statements`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping

from pyoxigraph import Literal, NamedNode

from dfl_graph.namespaces import DCT, SKOS
from dfl_graph.records import DATASET, Anchor, Statement

# IRIs of ISO 639 code lists whose last segment is the code
ISO_639_IRI = re.compile(
    r"^https?://(?:id\.loc\.gov/vocabulary/iso639-[12]|lexvo\.org/id/iso639-[123]|www\.lexvo\.org/id/iso639-[123])/"
    r"(?P<code>[a-zA-Z]{2,3})$"
)


def language_iri(value: str, by_code: Mapping[str, str]) -> str | None:
    """The EU concept of a language code ("en", "ENG", "fre", "en-GB": the primary subtag of a BCP 47 tag)."""
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return by_code.get(code)


def language_statements(
    record_id: str, field: str, value: object, by_code: Mapping[str, str], problem: Callable[[str, str, str, str], None]
) -> list[Statement]:
    """A JSON source's ``language`` field (data.json: ``["en-US"]``; a CKAN extra: ``'["en", "fr"]'`` or ``"en, fr"``)
    as ``dct:language`` statements on the dataset; codes we do not know are reported."""
    codes = _codes(value)
    found: dict[str, None] = {}
    for code in codes:
        iri = language_iri(code, by_code) if isinstance(code, str) and code.strip() else None
        if iri is None:
            problem(record_id, field, "not a language code we know: not kept", str(code))
        else:
            found[iri] = None
    return [Statement(DATASET, DCT.language.value, NamedNode(iri)) for iri in found]


def _codes(value: object) -> list:
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return [value]
    if value.lstrip().startswith("["):
        with contextlib.suppress(ValueError):
            parsed = json.loads(value)
            return parsed if isinstance(parsed, list) else [value]
    return [code for code in (c.strip() for c in value.split(",")) if code]


def normalised_languages(
    statements: Iterable[Statement], by_code: Mapping[str, str]
) -> tuple[list[Statement], list[Statement], list[Statement]]:
    """The statements with every ``dct:language`` code as its EU concept; the source statements so replaced; and
    those whose code we do not know (to report)."""
    statements = list(statements)
    about: dict[Anchor, list[Statement]] = {}
    for s in statements:
        if isinstance(s.subject, Anchor) and s.subject.key.startswith("#node-"):
            about.setdefault(s.subject, []).append(s)
    out: list[Statement] = []
    replaced: list[Statement] = []
    unknown: list[Statement] = []
    absorbed: set[Anchor] = set()  # blank nodes that only gave a code: now the EU concept
    for s in statements:
        if s.predicate != DCT.language.value:
            out.append(s)
            continue
        code = node = None
        if isinstance(s.object, Literal):
            code = s.object.value
        elif isinstance(s.object, NamedNode) and (match := ISO_639_IRI.match(s.object.value)):
            code = match["code"]
        elif isinstance(s.object, Anchor) and (code := _notation_only(about.get(s.object, []))):
            node = s.object
        if code is None:
            out.append(s)  # the EU concept, or an IRI of another list: kept as given
        elif iri := language_iri(code, by_code):
            out.append(Statement(s.subject, s.predicate, NamedNode(iri)))
            replaced.append(s)
            if node is not None:
                absorbed.add(node)
        else:
            unknown.append(s)
    replaced += [s for s in out if s.subject in absorbed]
    return [s for s in out if s.subject not in absorbed], replaced, unknown


def _notation_only(statements: list[Statement]) -> str | None:
    """The code of a blank node that says nothing but ``skos:notation "bg"``."""
    if len(statements) == 1 and statements[0].predicate == SKOS.notation.value:
        value = statements[0].object
        return value.value if isinstance(value, Literal) else None
    return None


__all__ = ["ISO_639_IRI", "language_iri", "language_statements", "normalised_languages"]
