"""full-text search over updates, and an index for newest-first pages

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00

Written by hand, per dialect. Both dialects index the same words: accents and case folded,
every punctuation mark a separator (l'Élysée -> l, elysee; cessez-le-feu -> cessez, le,
feu), headline weighted above body. `storage/search.py` queries what this creates.

SQLite: an FTS5 table with external content (`updates`), tokenizer `unicode61
remove_diacritics 2`, kept in sync by three triggers. The triggers fold the letters that
unicode61 keeps but PostgreSQL's unaccent rewrites (œ -> oe, æ -> ae, ß -> ss, ø, ł, đ);
the same fold is `storage.search.SQLITE_FOLDS`, which `vigie reindex` uses: keep the two
equal (tests/search checks it). FTS5's own 'rebuild' would index unfolded text: use
`vigie reindex`. A later migration that recreates `updates` on SQLite (batch mode) drops
these triggers and must create them again.

PostgreSQL: the unaccent extension; IMMUTABLE functions `vigie_search_text(text)` (the
unaccent wrapper, its dictionary named with its schema so that it does not depend on
search_path) and `vigie_search_vector(headline, body)` (headline weight A, body weight
B, a gap between them so that no phrase spans both); a stored generated column
`updates.search_vector` of it and a GIN index on the column. The ORM does not map the
column; PostgreSQL computes it on every insert and every change of headline or body.

Both: `ix_updates_when` on (coalesce(published_at, first_seen_at), id), the sort key of
`vigie updates`, so a page of the newest updates (and every cursor page after it) reads
the index instead of sorting the table.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Letter -> replacement, applied to headline and body before FTS5 tokenizes them.
SQLITE_FOLDS = (
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

# Punctuation and symbols replaced by a space before unaccent, so that PostgreSQL's parser
# (whatever the database's locale) splits words where FTS5's unicode61 does: ASCII
# punctuation, Latin-1 punctuation, general punctuation (’ “ ” « » – — …), arrows and
# symbols, CJK punctuation.
PG_SEPARATORS = (
    r"[!-/:-@\[-`{-~\u00a0-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf\u00d7\u00f7"
    r"\u2000-\u206f\u2190-\u2bff\u3000-\u303f]+"
)


def _fold(expr: str) -> str:
    for letter, replacement in SQLITE_FOLDS:
        expr = f"replace({expr}, '{letter}', '{replacement}')"
    return expr


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE updates_fts USING fts5("
        "headline, body, content='updates', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    new = f"new.id, {_fold('new.headline')}, {_fold('new.body')}"
    old = f"'delete', old.id, {_fold('old.headline')}, {_fold('old.body')}"
    op.execute(
        "CREATE TRIGGER updates_fts_insert AFTER INSERT ON updates BEGIN "
        f"INSERT INTO updates_fts(rowid, headline, body) VALUES ({new}); END"
    )
    op.execute(
        "CREATE TRIGGER updates_fts_delete AFTER DELETE ON updates BEGIN "
        f"INSERT INTO updates_fts(updates_fts, rowid, headline, body) VALUES ({old}); END"
    )
    op.execute(
        "CREATE TRIGGER updates_fts_update AFTER UPDATE OF headline, body ON updates BEGIN "
        f"INSERT INTO updates_fts(updates_fts, rowid, headline, body) VALUES ({old}); "
        f"INSERT INTO updates_fts(rowid, headline, body) VALUES ({new}); END"
    )
    op.execute(
        "INSERT INTO updates_fts(rowid, headline, body) "
        f"SELECT id, {_fold('headline')}, {_fold('body')} FROM updates"
    )


def _postgresql_upgrade() -> None:
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    ext_schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
    ).scalar_one()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    ext, own = _quote(ext_schema), _quote(schema)
    dictionary = f"{ext}.unaccent".replace("'", "''")
    op.execute(
        f"CREATE FUNCTION {own}.vigie_search_text(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ "
        f"SELECT pg_catalog.lower({ext}.unaccent('{dictionary}'::regdictionary, "
        f"pg_catalog.regexp_replace($1, '{PG_SEPARATORS}', ' ', 'g'))) $fn$"
    )
    # A placeholder word between headline and body, deleted again, leaves a gap in the
    # positions: a phrase never spans the two (as in FTS5, which matches per column).
    op.execute(
        f"CREATE FUNCTION {own}.vigie_search_vector(headline text, body text) "
        "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ "
        "SELECT pg_catalog.ts_delete("
        "pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, "
        f"{own}.vigie_search_text(coalesce($1, ''))), 'A') || "
        "pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, 'vigiegap') || "
        "pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, "
        f"{own}.vigie_search_text(coalesce($2, ''))), 'B'), 'vigiegap'::text) $fn$"
    )
    op.execute(
        "ALTER TABLE updates ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"({own}.vigie_search_vector(headline, body)) STORED"
    )
    op.execute("CREATE INDEX ix_updates_search ON updates USING gin (search_vector)")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()
    op.execute(
        "CREATE INDEX ix_updates_when ON updates (coalesce(published_at, first_seen_at), id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_updates_when")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_updates_search")
        op.execute("ALTER TABLE updates DROP COLUMN search_vector")
        op.execute("DROP FUNCTION vigie_search_vector(text, text)")
        op.execute("DROP FUNCTION vigie_search_text(text)")
        # The unaccent extension stays: other schemas or tools may use it.
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER updates_fts_{trigger}")
        op.execute("DROP TABLE updates_fts")
