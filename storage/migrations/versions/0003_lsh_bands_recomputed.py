"""LSH bands recomputed: MinHash over word hashes in numpy instead of datasketch's SHA-1

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:00:00

Until 0002 the bands of `lsh_bands` came from datasketch (SHA-1 of every shingle, scheme
affine32, seed 7, each band hashed with blake2b). `storage.dedup` now hashes each word once
and derives shingle hashes, signatures and band keys in numpy (5-10× less CPU per update).
The two schemes never give the same key, so a story lookup by the new code would find
nothing among bands stored by the old one: every update's bands are computed again from
its headline and body. The table keeps its layout.

Upgrade uses `storage.dedup` itself: the stored bands must be what the running code
computes, whatever that is. Downgrade computes the former bands with datasketch, as the
code of 0002 did. The band index is dropped while the rows are written and built again
after (one sorted build instead of a random insert per band); a store of 1M updates takes
a few minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from storage import dedup

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 5_000
Texts = Sequence[tuple[str, str]]


def _current_bands(texts: Texts) -> list[list[int]]:
    return dedup.lsh_bands_many([dedup.tokens(h, b) for h, b in texts])


def _datasketch_bands(texts: Texts) -> list[list[int]]:
    """The bands as vigie computed them up to revision 0002."""
    from datasketch import MinHash

    perms = MinHash(num_perm=64, seed=7, scheme="affine32").permutations
    base = MinHash(num_perm=64, permutations=perms, scheme="affine32")
    out: list[list[int]] = []
    for headline, body in texts:
        shingle_set = dedup.shingles(headline, body)
        if not shingle_set:
            out.append([])
            continue
        mh = base.copy()
        mh.update_batch([s.encode("utf-8") for s in shingle_set])
        sig = mh.hashvalues.astype("uint64")
        bands = []
        for b in range(16):
            chunk = sig[b * 4 : (b + 1) * 4].tobytes()
            digest = hashlib.blake2b(bytes([b]) + chunk, digest_size=8).digest()
            bands.append(int.from_bytes(digest, "big", signed=True))
        out.append(bands)
    return out


def _recompute(bands_of: Callable[[Texts], list[list[int]]]) -> None:
    bind = op.get_bind()
    op.drop_index("ix_lsh_bands_band", table_name="lsh_bands")
    op.execute("DELETE FROM lsh_bands")
    select = sa.text("SELECT id, headline, body FROM updates WHERE id > :last ORDER BY id LIMIT :n")
    insert = sa.text("INSERT INTO lsh_bands (band, update_id) VALUES (:band, :update_id)")
    last = 0
    while True:
        rows = bind.execute(select, {"last": last, "n": BATCH}).all()
        if not rows:
            break
        bands = bands_of([(r.headline or "", r.body or "") for r in rows])
        params = [
            {"band": band, "update_id": r.id}
            for r, keys in zip(rows, bands, strict=True)
            for band in keys
        ]
        if params:
            bind.execute(insert, params)
        last = rows[-1].id
    op.create_index("ix_lsh_bands_band", "lsh_bands", ["band"])


def upgrade() -> None:
    _recompute(_current_bands)


def downgrade() -> None:
    _recompute(_datasketch_bands)
