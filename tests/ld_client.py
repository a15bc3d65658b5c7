"""A small linked-data client for the tests: fetch a resource in every RDF format, parse each with both
rdflib and pyoxigraph, check they all agree, and crawl the IRIs under the base from a starting point."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyoxigraph
import rdflib
import requests
from rdflib.compare import isomorphic

# suffix -> (media type, rdflib parser name, pyoxigraph format)
RDF_FORMATS: dict[str, tuple[str, str, pyoxigraph.RdfFormat]] = {
    "ttl": ("text/turtle", "turtle", pyoxigraph.RdfFormat.TURTLE),
    "jsonld": ("application/ld+json", "json-ld", pyoxigraph.RdfFormat.JSON_LD),
    "rdf": ("application/rdf+xml", "xml", pyoxigraph.RdfFormat.RDF_XML),
    "nt": ("application/n-triples", "nt", pyoxigraph.RdfFormat.N_TRIPLES),
}
HYDRA_NEXT = rdflib.URIRef("http://www.w3.org/ns/hydra/core#next")


def parse_both(body: bytes, suffix: str, url: str) -> rdflib.Graph:
    """Parse with rdflib and with pyoxigraph; fail unless both read the same graph."""
    _, rdflib_format, oxigraph_format = RDF_FORMATS[suffix]
    by_rdflib = rdflib.Graph().parse(data=body, format=rdflib_format, publicID=url)
    triples = list(pyoxigraph.parse(body, format=oxigraph_format, base_iri=url))
    as_nt = pyoxigraph.serialize(
        [t if isinstance(t, pyoxigraph.Triple) else t.triple for t in triples], format=pyoxigraph.RdfFormat.N_TRIPLES
    )
    by_oxigraph = rdflib.Graph().parse(data=as_nt, format="nt")
    assert isomorphic(by_rdflib, by_oxigraph), f"{url} as {suffix}: rdflib and pyoxigraph read different graphs"
    return by_rdflib


def fetch_all_formats(session: requests.Session, url: str) -> dict[str, rdflib.Graph]:
    """One resource in every RDF format (by Accept): all 200, all parse, all the same graph."""
    graphs: dict[str, rdflib.Graph] = {}
    for suffix, (media_type, _, _) in RDF_FORMATS.items():
        response = session.get(url, headers={"Accept": media_type}, timeout=60)
        assert response.status_code == 200, f"{url} as {media_type}: {response.status_code} {response.text[:300]}"
        assert response.headers["Content-Type"].split(";")[0] == media_type, (url, response.headers["Content-Type"])
        graphs[suffix] = parse_both(response.content, suffix, url)
        assert len(graphs[suffix]) > 0, f"{url} as {media_type}: empty graph"
    reference = graphs["nt"]
    for suffix, graph in graphs.items():
        assert isomorphic(graph, reference), f"{url}: the {suffix} and nt documents are different graphs"
    return graphs


ENDPOINT_URL = rdflib.URIRef("http://www.w3.org/ns/dcat#endpointURL")


def iris_under(graph: rdflib.Graph, base: str) -> set[str]:
    """Every IRI under the base the graph mentions (subjects, predicates, objects), fragment dropped; the
    endpoints of data services (the SPARQL endpoint, the CKAN action API) are services, not documents."""
    endpoints = {str(o) for o in graph.objects(None, ENDPOINT_URL)}
    found = set()
    for triple in graph:
        for term in triple:
            if isinstance(term, rdflib.URIRef) and str(term).startswith(base + "/") and str(term) not in endpoints:
                found.add(str(term).split("#", 1)[0])
    return found


@dataclass
class Crawl:
    graphs: dict[str, rdflib.Graph] = field(default_factory=dict)  # url -> its (N-Triples) graph

    def union(self) -> rdflib.Graph:
        merged = rdflib.Graph()
        for graph in self.graphs.values():
            merged += graph
        return merged


def crawl(base: str, start: str = "/catalog", skip: frozenset[str] = frozenset()) -> Crawl:
    """Follow every IRI under the base from ``start``, fetching each in every RDF format."""
    result = Crawl()
    queue = deque([base + start])
    seen = {base + start}
    with requests.Session() as session:
        while queue:
            url = queue.popleft()
            result.graphs[url] = fetch_all_formats(session, url)["nt"]
            for iri in sorted(iris_under(result.graphs[url], base)):
                if iri not in seen and iri not in skip:
                    seen.add(iri)
                    queue.append(iri)
    return result


def walk_feed(session: requests.Session, url: str, accept: str = "text/turtle") -> list[rdflib.Graph]:
    """The catalogue feed, page by page along hydra:next (loop-safe)."""
    pages, seen = [], set()
    while url and url not in seen:
        seen.add(url)
        response = session.get(url, headers={"Accept": accept}, timeout=60)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        graph = rdflib.Graph().parse(data=response.content, format="turtle", publicID=url)
        pages.append(graph)
        following = [str(o) for o in graph.objects(None, HYDRA_NEXT)]
        assert len(following) <= 1, f"{url}: several hydra:next"
        url = following[0] if following else None
    return pages


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
