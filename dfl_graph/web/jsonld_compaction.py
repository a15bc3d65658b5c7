"""Compact JSON-LD for flat documents, in one pass over the triples.

rdflib's serializer builds an rdflib graph and walks it (about 3 ms for a dataset document); documents
here are flat sets of triples (hash IRIs, no lists), and the published context only uses ``@id``,
``@type`` (``@id`` or a datatype), ``@language`` and ``@set``, so term selection reduces to a lookup
per (property, kind of value). Anything outside that (an ``rdf:List``, a context feature this module
does not handle) makes :meth:`Compactor.compact` return None and the caller falls back to rdflib.

The rules, from JSON-LD 1.1 Compaction, for this context:

* a value goes under the term for its property whose coercion fits it exactly: ``"@type": "@id"`` for
  IRIs and blank nodes (written as compact IRI strings), ``"@type": datatype`` for literals of that
  datatype, ``"@language": tag`` for literals in that language; a term with no coercion takes any value
  as a value object (plain strings for ``xsd:string``);
* a value no term fits goes under the property's compact IRI (``dct:title``) as an expanded value object;
* IRIs under the base are written relative to ``@base``; others as ``prefix:suffix`` when a prefix of the
  context matches, else in full; types use the context's class terms (``Dataset``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
_SUPPORTED_KEYS = {"@id", "@type", "@language", "@container"}


class Compactor:
    """Compacts triples with one context (terms, prefixes, class terms, ``@base``)."""

    def __init__(self, context: dict) -> None:
        self.supported = True
        self.base = context.get("@base")
        self.id_key = next((k for k, v in context.items() if v == "@id"), "@id")
        self.type_key = next((k for k, v in context.items() if v == "@type"), "@type")
        if "@vocab" in context or "@language" in context:
            self.supported = False
        self.prefixes: dict[str, str] = {}
        for name, value in context.items():
            if isinstance(value, str) and not name.startswith("@") and value.endswith(("#", "/", ":")) and ":" in value:
                self.prefixes[name] = value
        self._by_length = sorted(self.prefixes.items(), key=lambda item: -len(item[1]))
        self.class_terms: dict[str, str] = {}
        self.terms: dict[str, list[tuple[str, dict]]] = {}
        for name, value in context.items():
            if name.startswith("@") or name in self.prefixes or value in ("@id", "@type"):
                continue
            if isinstance(value, str):
                self.class_terms.setdefault(self.expand(value), name)
            elif isinstance(value, dict):
                if not set(value) <= _SUPPORTED_KEYS or value.get("@container", "@set") != "@set":
                    self.supported = False
                    continue
                definition = dict(value)
                if isinstance(definition.get("@type"), str) and definition["@type"] != "@id":
                    definition["@type"] = self.expand(definition["@type"])
                self.terms.setdefault(self.expand(definition["@id"]), []).append((name, definition))

    def expand(self, value: str) -> str:
        prefix, colon, suffix = value.partition(":")
        if colon and prefix in self.prefixes and not suffix.startswith("//"):
            return self.prefixes[prefix] + suffix
        return value

    def compact_iri(self, iri: str, relative: bool) -> str:
        """An IRI as written in a value: relative to @base (for @id values), else prefix:suffix, else full."""
        if relative and self.base and iri.startswith(self.base):
            rest = iri[len(self.base) :]
            first = rest.split("/", 1)[0]
            if rest and ":" not in first and not rest.startswith(("@", "_:", "#", "?", "/")):
                return rest
        for prefix, namespace in self._by_length:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                suffix = iri[len(namespace) :]
                if not suffix.startswith("//"):
                    return f"{prefix}:{suffix}"
        return iri

    def compact_type(self, iri: str) -> str:
        return self.class_terms.get(iri) or self.compact_iri(iri, relative=False)

    def node_ref(self, term: NamedNode | BlankNode) -> str:
        return f"_:{term.value}" if isinstance(term, BlankNode) else self.compact_iri(term.value, relative=True)

    def value_object(self, term) -> dict:
        if isinstance(term, Literal):
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if term.datatype.value == XSD_STRING:
                return {"@value": term.value}
            return {"@value": term.value, "@type": self.compact_type(term.datatype.value)}
        return {"@id": self.node_ref(term)}

    def place(self, predicate: str, term) -> tuple[str, object, bool]:
        """(key, compacted value, always a list) for one statement."""
        for name, definition in self.terms.get(predicate, ()):
            coercion, language = definition.get("@type"), definition.get("@language")
            as_set = definition.get("@container") == "@set"
            if isinstance(term, Literal):
                if coercion is not None and coercion != "@id":
                    if term.datatype.value == coercion and not term.language:
                        return name, term.value, as_set
                    continue
                if language is not None:
                    if term.language == language:
                        return name, term.value, as_set
                    continue
                if coercion == "@id":
                    continue
                if term.datatype.value == XSD_STRING and not term.language:
                    return name, term.value, as_set
                return name, self.value_object(term), as_set
            if coercion == "@id":
                return name, self.node_ref(term), as_set
            if coercion is None and language is None:
                return name, {"@id": self.node_ref(term)}, as_set
        return self.compact_iri(predicate, relative=False), self.value_object(term), True

    def compact(self, triples: Iterable[Triple]) -> list[dict] | None:
        """Node objects sorted by id, or None when the document needs the general algorithm."""
        if not self.supported:
            return None
        nodes: dict[str, dict] = {}
        for t in triples:
            if t.predicate.value == RDF_FIRST:
                return None
            subject = self.node_ref(t.subject)
            node = nodes.get(subject)
            if node is None:
                node = nodes[subject] = {self.id_key: subject}
            if t.predicate.value == RDF_TYPE and isinstance(t.object, NamedNode):
                node.setdefault(self.type_key, []).append(self.compact_type(t.object.value))
                continue
            key, value, as_set = self.place(t.predicate.value, t.object)
            existing = node.get(key)
            if existing is None:
                node[key] = [value] if as_set else value
            elif isinstance(existing, list):
                existing.append(value)
            else:
                node[key] = [existing, value]
        for node in nodes.values():
            types = node.get(self.type_key)
            if types is not None and len(types) == 1:
                node[self.type_key] = types[0]
        return [nodes[k] for k in sorted(nodes)]


__all__ = ["Compactor"]
