"""Full-text search over updates: query parsing, the match and rank clauses per dialect,
and rebuilding the index.

The index itself is made by migration 0002: an FTS5 table kept in sync by triggers on
SQLite, a generated tsvector column with a GIN index on PostgreSQL. Both fold accents and
case and split words at every punctuation mark, so the same query finds the same updates
on both.

Query syntax: words are AND-ed; "a quoted phrase" matches those words in a row; a leading
minus excludes a word or phrase (-macron, -"cessez le feu"). Anything else (operators,
stars, parentheses, stray quotes) is plain text: user input is reduced to word tokens and
never reaches the FTS syntax raw. Ranking: bm25 on SQLite, ts_rank_cd on PostgreSQL, the
headline weighing five times the body on both; `rank` is "higher is better" on both, but
the numbers are not comparable between the two databases.

Ranked in slices: scoring a match costs about 1.5 µs (bm25 decodes its position lists and
reads its length), so ranking every match of a word found in one update in ten takes
150-250 ms at a million updates. Results in rank order are therefore ranked by slices of
at most RANK_SLICE (10,000) matches, on both databases, newest first (by id: the order the
store received them): the first pages are the newest 10,000 matches of the search and its
filters, best first; the next pages go on to the 10,000 matches before them, best first,
and so on to the oldest. A search with fewer matches is ranked whole. A rank cursor names
the id bounds of its slice, so paging goes through every match once, and the slices of a
walk stay those of its first page. Why: for news the newest matches are usually the ones
wanted, and a slice bounds the scoring to ~15 ms whatever the size of the store (what is
left grows with the store: the index's own matching, e.g. a phrase with a word found
everywhere). Newest order stays exact and scores only the rows of the page
(storage/search_pages.py); a collapsed search still scores every match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Double,
    Select,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from storage.models import Update

FTS_TABLE = "updates_fts"
# Letters unicode61 keeps but unaccent rewrites; equal to the fold in migration 0002.
SQLITE_FOLDS: tuple[tuple[str, str], ...] = (
    ("Œ", "OE"),
    ("œ", "oe"),
    ("Æ", "AE"),
    ("æ", "ae"),
    ("ß", "ss"),
    ("Ø", "O"),
    ("ø", "o"),
    ("Ł", "L"),
    ("ł", "l"),
    ("Đ", "D"),
    ("đ", "d"),
)
HEADLINE_WEIGHT = 5.0  # relative to the body's 1.0
SQLITE_BM25_WEIGHTS = (HEADLINE_WEIGHT, 1.0)
PG_RANK_WEIGHTS = "{0.1,0.2,0.2,1.0}"  # D, C, B (body), A (headline)
PG_RANK_NORMALIZATION = 1  # divide by 1 + log(length): long bodies do not win by size alone
RANK_SLICE = 10_000  # matches ranked together at most, newest first (see the docstring)
MAX_TERMS = 32
MAX_QUERY_CHARS = 2000

_FOLD = str.maketrans({a: b for a, b in SQLITE_FOLDS})
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_PIECE = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase of a query: its tokens in order, and whether it excludes."""

    tokens: tuple[str, ...]
    exclude: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[Term, ...]

    @property
    def include(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.exclude)

    @property
    def exclude(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.exclude)

    @property
    def empty(self) -> bool:
        """Nothing to look for: such a query matches no update."""
        return not self.include


def tokens(text: str) -> list[str]:
    """The words of a text as the index sees them, before the database folds accents."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).translate(_FOLD))


def parse_query(text: str) -> SearchQuery:
    """Words, "phrases" and -exclusions; everything else is reduced to word tokens.

    A word that punctuation splits (cessez-le-feu, l'Élysée) is a phrase of its parts, as
    the index stores it. A query with nothing left to include is `empty`.
    """
    terms: list[Term] = []
    for m in _PIECE.finditer(text[:MAX_QUERY_CHARS]):
        minus_quoted, quoted, minus_word, word = m.groups()
        words = tokens(quoted if word is None else word)
        if words:
            terms.append(Term(tuple(words), bool(minus_quoted or minus_word)))
    if terms and all(t.exclude for t in terms):
        # "-macron" alone means the word, not "everything but macron".
        terms = [Term(t.tokens) for t in terms]
    unique = tuple(dict.fromkeys(terms))[:MAX_TERMS]
    return SearchQuery(unique)


def sqlite_match(query: SearchQuery) -> str:
    """An FTS5 MATCH expression: every term a quoted string of plain word tokens."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    expr = " ".join(quoted(t) for t in query.include)
    for term in query.exclude:
        expr = f"({expr}) NOT {quoted(term)}"
    return expr


def _pg_tsquery(query: SearchQuery) -> ColumnElement[Any]:
    def phrase(term: Term) -> ColumnElement[Any]:
        normalized = func.vigie_search_text(term.text)
        return func.phraseto_tsquery(literal_column("'simple'::regconfig"), normalized)

    expr = phrase(query.include[0])
    for term in query.include[1:]:
        expr = func.tsquery_and(expr, phrase(term))
    for term in query.exclude:
        expr = func.tsquery_and(expr, func.tsquery_not(phrase(term)))
    return expr


def apply_search(
    stmt: Select[Any], dialect: str, query: SearchQuery
) -> tuple[Select[Any], ColumnElement[float]]:
    """`stmt` (over `updates`) narrowed to the query's matches, and its rank expression."""
    if query.empty:
        raise ValueError("an empty query matches nothing; check SearchQuery.empty first")
    if dialect == "postgresql":
        vector = literal_column("updates.search_vector")
        tsquery = _pg_tsquery(query)
        weights = literal_column(f"'{PG_RANK_WEIGHTS}'::float4[]")
        # float4 widened to float8 exactly, so a cursor's rank compares equal to its row's.
        rank = cast(func.ts_rank_cd(weights, vector, tsquery, PG_RANK_NORMALIZATION), Double)
        return stmt.where(vector.op("@@")(tsquery)), rank
    fts = table(FTS_TABLE, column("rowid"))
    fts_name = literal_column(FTS_TABLE)
    stmt = stmt.join(fts, fts.c.rowid == Update.id)
    stmt = stmt.where(fts_name.op("MATCH")(sqlite_match(query)))
    return stmt, -func.bm25(fts_name, *SQLITE_BM25_WEIGHTS)


@dataclass(frozen=True, slots=True)
class IndexMatches:
    """The matches of a query as the index gives them (see `index_matches`)."""

    stmt: Select[Any]  # select(id) of the matches
    id: ColumnElement[int]  # the update id, to bound or order by
    rank: ColumnElement[float]  # higher is better
    newest: ColumnElement[Any]  # ORDER BY clause: the matches newest (highest id) first
    dialect: str


def index_matches(dialect: str, query: SearchQuery, *, with_updates: bool = False) -> IndexMatches:
    """The query's matches read from the index, with their id and rank expressions.

    On SQLite the statement reads the FTS5 table alone (rowid is the update id, so a range
    or an order on it is the index's own); `with_updates` joins `updates` for filters. On
    PostgreSQL it reads `updates` (the tsvector is a column of it). The rank is the same
    expression as `apply_search`'s, so both give a row the same score.
    """
    if query.empty:
        raise ValueError("an empty query matches nothing; check SearchQuery.empty first")
    if dialect == "postgresql":
        stmt, rank = apply_search(select(Update.id.label("id")), dialect, query)
        # `id + 0`: read the matches from the GIN index and sort their ids, rather than
        # walk the primary key backwards testing every row's tsvector.
        return IndexMatches(stmt, Update.id, rank, (Update.id + 0).desc(), dialect)
    fts = table(FTS_TABLE, column("rowid"))
    fts_name = literal_column(FTS_TABLE)
    stmt = select(fts.c.rowid.label("id")).select_from(fts)
    if with_updates:
        stmt = stmt.join(Update, Update.id == fts.c.rowid)
    stmt = stmt.where(fts_name.op("MATCH")(sqlite_match(query)))
    rank = -func.bm25(fts_name, *SQLITE_BM25_WEIGHTS)
    return IndexMatches(stmt, fts.c.rowid, rank, fts.c.rowid.desc(), dialect)


def newest_ranked(indexed: IndexMatches, stmt: Select[Any], size: int) -> CTE:
    """(id, rank) of the `size` newest matches of `stmt` (`indexed.stmt`, maybe narrowed),
    as a common table expression: a statement that reads it twice computes it once.

    bm25 can only be computed inside the FTS5 statement, so SQLite ranks in it; PostgreSQL
    would compute ts_rank_cd for every match before keeping the newest, so it ranks the
    kept ids afterwards, joined back to `updates`.
    """
    if indexed.dialect != "postgresql":
        kept = stmt.add_columns(indexed.rank.label("rank"))
        return kept.order_by(indexed.newest).limit(size).cte("part")
    kept = stmt.order_by(indexed.newest).limit(size).subquery("kept")
    ranked = select(kept.c.id, indexed.rank.label("rank")).join(Update, Update.id == kept.c.id)
    return ranked.cte("part")


def matches_row(dialect: str, query: SearchQuery) -> ColumnElement[bool]:
    """Whether the current `updates` row matches: a condition for statements that read
    `updates` by another index (on SQLite, one FTS5 lookup of that rowid per row)."""
    if dialect == "postgresql":
        return literal_column("updates.search_vector").op("@@")(_pg_tsquery(query))
    fts = table(FTS_TABLE, column("rowid"))
    fts_name = literal_column(FTS_TABLE)
    return (
        select(fts.c.rowid)
        .where(fts_name.op("MATCH")(sqlite_match(query)), fts.c.rowid == Update.id)
        .exists()
    )


def ranks_of(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, float]:
    """The rank of each of these matches of `query`.

    On SQLite, bm25 over the ids' range in one statement (a statement per id would count
    every phrase's matches again for each), so it costs the matches in that range.
    """
    if not ids:
        return {}
    found = index_matches(session.get_bind().dialect.name, query)
    stmt = found.stmt.add_columns(found.rank)
    if found.dialect == "postgresql":
        stmt = stmt.where(found.id.in_(ids))
    else:
        stmt = stmt.where(found.id >= min(ids), found.id <= max(ids))
    wanted = set(ids)
    return {i: float(r) for i, r in session.execute(stmt) if i in wanted}


def sqlite_fold_sql(column: str) -> str:
    """The SQL the FTS5 triggers apply to a column before indexing it."""
    expr = column
    for letter, replacement in SQLITE_FOLDS:
        expr = f"replace({expr}, '{letter}', '{replacement}')"
    return expr


def rebuild_index(session: Session) -> int:
    """Rebuild the full-text index from the updates table; returns the updates indexed.

    SQLite: the FTS5 table is emptied and filled again with the triggers' fold, then
    optimized. PostgreSQL: every generated `search_vector` is computed again (after an
    unaccent upgrade, say), the GIN index rebuilt and the table analyzed. This rewrites
    every row in one transaction: a maintenance task, not for a busy hour.
    """
    count = session.scalar(select(func.count()).select_from(Update)) or 0
    if session.get_bind().dialect.name == "postgresql":
        # Setting headline makes PostgreSQL compute the generated search_vector again.
        session.execute(text("UPDATE updates SET headline = headline"))
        session.execute(text("REINDEX INDEX ix_updates_search"))
        session.execute(text("ANALYZE updates"))
        return count
    session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')"))
    session.execute(
        text(
            f"INSERT INTO {FTS_TABLE}(rowid, headline, body) "
            f"SELECT id, {sqlite_fold_sql('headline')}, {sqlite_fold_sql('body')} FROM updates"
        )
    )
    session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))
    return count
