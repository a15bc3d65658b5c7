"""What a person types into the search box, turned into a safe FTS5 expression.

Rules (docs/library.md): bare words are AND-ed; ``"a phrase"`` matches words in order; ``word*``
matches a prefix; ``-word`` (or ``NOT word``) excludes; ``a OR b`` matches either. Every term is
written into the FTS5 expression as a double-quoted string, so nothing a user types (``NEAR``,
``:``, ``(``, ``^``, ``*`` in odd places, unbalanced quotes) can become FTS5 syntax: the worst a
query can do is match nothing. Only the length is refused, with a message that says so.

A borough named among other words ("knife crime hackney") asks for data about that borough *or* about
all of London: its group also matches the London-wide datasets (naming no borough, not published by a
council), which the index marks with a token of the hidden facets column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dfl_graph.search.synonyms import SYNONYM_WEIGHT, alternatives, longest_key
from dfl_graph.search.text import STEMMER, TOKEN

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MIN_PREFIX = 2
TEXT_COLUMNS = ("title", "keywords", "description", "publisher", "themes", "boroughs")
# Words that carry no meaning in a London data catalogue; dropped when the query has other words.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "per",
        "the",
        "to",
        "with",
        "about",
        "all",
        "any",
        "data",
        "dataset",
        "datasets",
        "london",
    ]
)
_PIECE = re.compile(r'(-?)"([^"]*)"(\*?)|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ValueError):
    """A query the index will not run; the message says why, for a 400 response."""


@dataclass(frozen=True)
class Term:
    """One thing to match: a word, a phrase (words in order) or a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    weight: float = 1.0  # below 1 for a synonym the query did not spell out; 0 for a facet token
    facet_token: str | None = None  # matches this token of the hidden facets column instead of text

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def typed(self) -> bool:
        """A term the query spelled out (not a synonym, not a facet token)."""
        return self.weight == 1

    def fts(self) -> str:
        # tokens are letters and digits only, so quoting is all the escaping needed
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")

    def in_columns(self, spec: str) -> str:
        if self.facet_token is not None:
            return f'{{facets}}: "{self.facet_token}"'
        return f"{spec}: {self.fts()}"

    def __str__(self) -> str:
        text = " ".join(self.words)
        return (f'"{text}"' if self.is_phrase else text) + ("*" if self.prefix else "")


@dataclass(frozen=True)
class ParsedQuery:
    """AND of groups, OR within a group, minus the excluded terms."""

    text: str
    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    notices: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def terms(self) -> list[Term]:
        """Every text term that can match (for scoring and highlighting)."""
        return [t for group in self.groups for t in group if t.facet_token is None]

    def _group(self, g: tuple[Term, ...], spec: str) -> str:
        return g[0].in_columns(spec) if len(g) == 1 else "(" + " OR ".join(t.in_columns(spec) for t in g) + ")"

    def _without_excluded(self, positive: str) -> str:
        if not self.excluded:
            return positive
        return f"({positive}) NOT " + self.exclusion()

    def expression(self, columns: tuple[str, ...] = TEXT_COLUMNS) -> str | None:
        """The FTS5 MATCH expression over ``columns``; None for an empty query."""
        if self.empty:
            return None
        spec = "{" + " ".join(columns) + "}"
        return self._without_excluded(" AND ".join(self._group(g, spec) for g in self.groups))

    def keeping(self, groups: list[tuple[Term, ...]]) -> ParsedQuery:
        """The query with only some of its groups (and all its exclusions)."""
        return ParsedQuery(self.text, tuple(groups), self.excluded, self.notices)

    def relaxed(self, needed: int) -> str | None:
        """The expression matching datasets that have at least ``needed`` of the groups: all but one
        (``len(groups) - 1``) or any one (1); None when that is no relaxation."""
        count = len(self.groups)
        if not 1 <= needed < count or needed not in (1, count - 1):
            return None
        spec = "{" + " ".join(TEXT_COLUMNS) + "}"
        parts = [self._group(g, spec) for g in self.groups]
        if needed == 1:
            return self._without_excluded("(" + " OR ".join(parts) + ")")
        alternatives = [" AND ".join(p for j, p in enumerate(parts) if j != i) for i in range(count)]
        return self._without_excluded("(" + " OR ".join(f"({a})" for a in alternatives) + ")")

    def exclusion(self) -> str:
        """The FTS5 expression matching any excluded term (the query must have some)."""
        spec = "{" + " ".join(TEXT_COLUMNS) + "}"
        return "(" + " OR ".join(t.in_columns(spec) for t in self.excluded) + ")"

    @property
    def related(self) -> list[str]:
        """Synonyms the search also matched (see :mod:`dfl_graph.search.synonyms`)."""
        return [str(t) for t in self.terms if not t.typed]

    def group_words(self, group: tuple[Term, ...]) -> str:
        return " OR ".join(str(t) for t in group if t.typed)

    def describe(self) -> str:
        """The query as understood (without synonyms), for "showing results for ..." lines."""
        parts = [self.group_words(g) for g in self.groups]
        parts += [f"-{t}" for t in self.excluded]
        return " ".join(parts)


def _term(raw: str, prefix: bool) -> Term | None:
    words = tuple(w.lower() for w in TOKEN.findall(raw))
    if not words:
        return None
    if prefix and len(words[-1]) < MIN_PREFIX:
        prefix = False
    return Term(words, prefix)


Places = dict[tuple[str, ...], str]  # a borough's name as stems -> the facet token of "no borough stated"


def parse_query(text: str | None, places: Places | None = None) -> ParsedQuery:
    """Parse search-box text; raises :class:`QueryError` only for over-long input. ``places`` (from the
    index) are the borough names whose groups also match London-wide datasets (see the module docstring)."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the search text is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} are allowed")
    text = _CONTROL.sub(" ", text)
    items: list[tuple[str, Term | None, bool]] = []  # (kind, term, negated); kind "term" or "or"
    negate_next = False
    for match in _PIECE.finditer(text):
        minus, phrase, star, bare = match.groups()
        if bare is None:
            items.append(("term", _term(phrase, bool(star)), bool(minus) or negate_next))
            negate_next = False
            continue
        if bare in ("OR", "|"):
            items.append(("or", None, False))
            continue
        if bare == "AND" or bare == "&&":
            continue
        if bare == "NOT":
            negate_next = True
            continue
        negated = negate_next
        negate_next = False
        if bare.startswith("-") and TOKEN.search(bare):
            negated = True
            bare = bare.lstrip("-")
        prefix = bare.endswith("*")
        items.append(("term", _term(bare.rstrip("*"), prefix), negated))

    notices: list[str] = []
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False
    for kind, term, negated in items:
        if kind == "or":
            join_next = bool(groups)
            continue
        if term is None:
            continue
        if negated:
            excluded.append(term)
        elif join_next and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False

    groups = _with_places(groups, places or {})
    meaningful = [g for g in groups if not _is_stopword_group(g)]
    if meaningful and len(meaningful) < len(groups):
        groups = meaningful
    if sum(len(g) for g in groups) > MAX_TERMS:
        kept: list[list[Term]] = []
        count = 0
        for g in groups:
            if count + len(g) > MAX_TERMS:
                break
            kept.append(g)
            count += len(g)
        groups = kept
        notices.append(f"only the first {MAX_TERMS} words of the search were used")
    if len(excluded) > MAX_TERMS:
        excluded = excluded[:MAX_TERMS]
        notices.append(f"only the first {MAX_TERMS} excluded words were used")
    if len(groups) == 1 and groups[0][-1].facet_token is not None:
        groups = [groups[0][:-1]]  # a borough alone: its own datasets only
    return ParsedQuery(text, tuple(tuple(g) for g in _with_synonyms(groups)), tuple(excluded), tuple(notices))


def _plain(group: list[Term]) -> bool:
    return len(group) == 1 and not group[0].prefix


def _with_synonyms(groups: list[list[Term]]) -> list[list[Term]]:
    """Groups with each known expression (the longest run of plain words first) OR-ed with its synonyms."""
    longest = longest_key()
    result: list[list[Term]] = []
    i = 0
    while i < len(groups):
        expanded = False
        if _plain(groups[i]):
            for length in range(min(longest, len(groups) - i), 0, -1):
                run = groups[i : i + length]
                if not all(_plain(g) for g in run) or (length > 1 and any(g[0].is_phrase for g in run)):
                    continue
                words = tuple(w for g in run for w in g[0].words)
                others = alternatives(words)
                if others:
                    result.append([Term(words), *(Term(o, weight=SYNONYM_WEIGHT) for o in others)])
                    i += length
                    expanded = True
                    break
        if not expanded:
            result.append(groups[i])
            i += 1
    return result


def _with_places(groups: list[list[Term]], places: Places) -> list[list[Term]]:
    """Groups with each borough name (the longest run of plain words first) made one phrase that also matches
    the datasets stating no borough."""
    if not places:
        return groups
    longest = max(len(k) for k in places)
    result: list[list[Term]] = []
    i = 0
    while i < len(groups):
        for length in range(min(longest, len(groups) - i), 0, -1):
            run = groups[i : i + length]
            if not all(_plain(g) and not g[0].is_phrase for g in run):
                continue
            words = tuple(g[0].words[0] for g in run)
            token = places.get(tuple(STEMMER.stems(list(words))))
            if token is not None:
                result.append([Term(words), Term((token,), weight=0.0, facet_token=token)])
                i += length
                break
        else:
            result.append(groups[i])
            i += 1
    return result


def _is_stopword_group(group: list[Term]) -> bool:
    return all(not t.is_phrase and not t.prefix and t.words[0] in STOPWORDS for t in group)


__all__ = ["MAX_QUERY_CHARS", "TEXT_COLUMNS", "ParsedQuery", "Places", "QueryError", "Term", "parse_query"]
