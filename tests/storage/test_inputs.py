"""storage/inputs.py is what storage reads of a crawl: the crawler's dataclasses carry every
attribute of it (storage never imports them), and the copy the store makes of a post whose
text it must clean carries them all too."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from crawler.models import CrawlResult, RawPost, Validators
from storage.clean import POST_FIELDS, CleanPost, clean_post
from storage.inputs import CrawlIn, PostIn, ValidatorsIn


def attributes(protocol: type) -> set[str]:
    return {
        name
        for name, value in vars(protocol).items()
        if isinstance(value, property) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("protocol", "dataclass"),
    [(PostIn, RawPost), (CrawlIn, CrawlResult), (ValidatorsIn, Validators)],
    ids=["post", "crawl", "validators"],
)
def test_the_crawlers_dataclasses_carry_what_storage_reads(protocol: type, dataclass: Any) -> None:
    fields = {f.name for f in dataclasses.fields(dataclass)}
    assert attributes(protocol) and attributes(protocol) <= fields


def test_the_cleaned_copy_mirrors_the_crawlers_post_field_for_field() -> None:
    """CleanPost restates RawPost's fields (storage may not import the crawler): the two
    lists are held equal here, names, order, types and defaults, so that a field added to
    one is added to the other."""

    def spelled(dataclass: Any) -> list[tuple[str, str, object]]:
        return [(f.name, str(f.type), f.default) for f in dataclasses.fields(dataclass)]

    assert spelled(CleanPost) == spelled(RawPost)


def test_a_cleaned_copy_keeps_every_field_storage_reads() -> None:
    assert set(POST_FIELDS) == attributes(PostIn)
    raw = RawPost(
        "t\x00itre",
        "corps",
        url="https://x/\x1b",
        key="k",
        alt_keys=("a\x07",),
        highlighted=True,
        time_approximate=True,
        anchor="https://x/#b\x00",
        in_key_moments=True,
    )
    copy = clean_post(raw)
    assert isinstance(copy, CleanPost)
    assert (copy.headline, copy.url, copy.alt_keys) == ("titre", "https://x/", ("a",))
    assert copy.anchor == "https://x/#b"
    for name in POST_FIELDS:
        if name not in ("headline", "url", "alt_keys", "anchor"):
            assert getattr(copy, name) == getattr(raw, name), name
    clean = RawPost("titre", "corps")
    assert clean_post(clean) is clean  # a clean post is stored as handed over
