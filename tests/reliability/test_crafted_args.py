"""Crafted arguments, by classes, on SQLite and PostgreSQL: ids beyond 64 bits (and zero,
negative, not numbers), cursors of arbitrary bytes, base64 of junk, valid base64 of the
wrong JSON, huge ones; times and durations beyond datetime's range; limits of 0 and huge;
searches with NULs and of 100 KB; unknown or junk source names; bad orders and booleans;
the Atom feeds' parameters. The API answers 400 naming the parameter (404 for an id that
could exist), the CLI exits 2 with the option; never a 500, never a traceback. A
hypothesis run then throws classes of junk at every parameter of every endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import Store
from tests.conftest import _fresh_pg_database
from tests.helpers import run_vigie
from tests.hostile import config_text, fill
from vigie.api import create_app
from vigie.config import load_config

TOKEN = "a-token-of-enough-length-0123456789"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_of(value: Any) -> str:
    return b64(json.dumps(value).encode())


BAD_IDS = [
    "0",
    "-1",
    str(2**31),
    str(2**63),
    str(2**64 + 1),
    str(2**70),
    "1" * 400,
    "abc",
    "1e3",
    "1.5",
    "0x10",
    "%00",
    "1%00",
    "nan",
    "inf",
]
BAD_CURSORS = [
    "!!!",  # not base64
    "%00%01%02",
    "é" * 10,  # not ASCII
    b64(b"\x00\xff\xfe junk bytes"),
    b64(b"not json at all"),
    cursor_of([]),
    cursor_of({}),
    cursor_of(["newest"]),
    cursor_of(["newest", "yesterday", 1]),
    cursor_of(["newest", "2026-01-06T19:00:00", 1]),  # naive
    cursor_of(["newest", "9999-12-31T23:59:59-23:59", 1]),  # beyond datetime in UTC
    cursor_of(["newest", "2026-01-06T19:00:00+00:00", 2**70]),
    cursor_of(["newest", "2026-01-06T19:00:00+00:00", -1]),
    cursor_of(["newest", "2026-01-06T19:00:00+00:00", True]),
    cursor_of(["newest", "2026-01-06T19:00:00+00:00", "1"]),
    cursor_of(["newest", "2026-01-06T19:00:00+00:00", 1, 2, 3]),
    cursor_of(["rank", 1.0, 5]),  # an order the request does not use
    cursor_of(["other", 1, 1]),
    b64(b'["rank", NaN, 1]'),
    b64(b'["rank", Infinity, 1]'),
    b64(b"[" * 20_000 + b"]" * 20_000),  # nested to blow the parser's stack
    "A" * 60_000,  # (60 KB: about the longest URL an HTTP client sends)
]
BAD_RANK_CURSORS = [
    b64(b'["rank", NaN, 1]'),
    cursor_of(["rank", 1.0, 5, 2**70, None]),
    cursor_of(["rank", 1.0, 5, "a", "b"]),
    cursor_of(["rank", "x", 5]),
    cursor_of(["rank", 1e308, 2**64]),
]
BAD_TIMES = [
    "",
    "99999999h",
    "999999999999999999d",
    "10000-01-01",
    "0001-01-01T00:00:00+01:00",
    "2026-13-45",
    "1e9",
    "inf",
    "nan",
    "-5h",
    "%00",
    "x" * 60_000,
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, TestClient]]:
    """(a config over a store of our small data, an API client of it), once per database."""
    folder = tmp_path_factory.mktemp("crafted")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'vigie.db'}"
    else:
        url = _fresh_pg_database(request.getfixturevalue("pg_server_url"))
    config = folder / "config.toml"
    config.write_text(config_text(url), encoding="utf-8")
    store = Store(url)
    try:
        fill(store)
        with TestClient(create_app(load_config(config), store)) as client:
            yield config, client
    finally:
        store.close()


def get(client: TestClient, path: str, query: str = "") -> Any:
    response = client.get(path + (f"?{query}" if query else ""))
    assert response.status_code < 500, (path, query[:200], response.text[:500])
    return response


def refused(client: TestClient, path: str, query: str, param: str) -> str:
    response = get(client, path, query)
    assert response.status_code == 400, (path, query[:200], response.text[:300])
    detail = response.json()["detail"]
    assert param in detail, detail
    return detail


# --- the API -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize("endpoint", ["/updates", "/stories"])
def test_api_ids_out_of_range_are_400(
    served: tuple[Path, TestClient], endpoint: str, value: str
) -> None:
    refused(served[1], f"{endpoint}/{value}", "", "_id")


def test_api_ids_at_the_bounds(served: tuple[Path, TestClient]) -> None:
    client = served[1]
    assert get(client, f"/updates/{2**31 - 1}").status_code == 404  # ids are 32-bit
    refused(client, f"/updates/{2**31}", "", "update_id")
    assert get(client, "/stories/1").status_code in (200, 404)
    assert get(client, "/updates/1").status_code == 200


@pytest.mark.parametrize("cursor", BAD_CURSORS, ids=lambda c: c[:30])
def test_api_bad_cursors_are_400(served: tuple[Path, TestClient], cursor: str) -> None:
    refused(served[1], "/updates", f"cursor={quote(cursor)}", "cursor")


@pytest.mark.parametrize("cursor", BAD_RANK_CURSORS, ids=lambda c: c[:30])
def test_api_bad_rank_cursors_are_400(served: tuple[Path, TestClient], cursor: str) -> None:
    refused(served[1], "/updates", f"search=body&cursor={quote(cursor)}", "cursor")


@pytest.mark.parametrize("value", BAD_TIMES, ids=lambda v: v[:20])
@pytest.mark.parametrize("param", ["since", "until", "seen_since"])
def test_api_bad_times_are_400(served: tuple[Path, TestClient], param: str, value: str) -> None:
    detail = refused(served[1], "/updates", f"{param}={quote(value)}", f"{param}:")
    assert len(detail) < 300  # a long value is cut


@pytest.mark.parametrize("value", ["0", "-1", "1e9", "abc", "", "1.5", "%00"])
def test_api_bad_limits_are_400(served: tuple[Path, TestClient], value: str) -> None:
    refused(served[1], "/updates", f"limit={value}", "limit")


def test_api_huge_limits_are_capped(served: tuple[Path, TestClient]) -> None:
    page = get(served[1], "/updates", f"limit={10**30}").json()
    assert page["limit"] == 1000 and page["updates"]


@pytest.mark.parametrize(
    "search", ["\x00" * 10, "a\x00b", '"' * 50, "NEAR(", "-", "*", "\x1b[2J", "[/bold]", "é" * 500]
)
def test_api_odd_searches_are_answered(served: tuple[Path, TestClient], search: str) -> None:
    assert get(served[1], "/updates", f"search={quote(search)}").status_code == 200
    assert get(served[1], "/feeds/search.atom", f"q={quote(search)}").status_code == 200


def test_api_huge_searches_are_400(served: tuple[Path, TestClient]) -> None:
    refused(served[1], "/updates", f"search={'w%20' * 6_000}", "search")
    refused(served[1], "/feeds/search.atom", f"q={'x' * 60_000}", "q: ")


@pytest.mark.parametrize(
    "source", ["alpah", "", "\x00", "a" * 10_000, "alpha\x00", "'; DROP TABLE sources; --", "é"]
)
@pytest.mark.parametrize("path", ["/updates", "/feeds/search.atom"])
def test_api_unknown_sources_are_400_listing_the_known(
    served: tuple[Path, TestClient], path: str, source: str
) -> None:
    query = f"q=body&source=alpha&source={quote(source)}"
    detail = refused(served[1], path, query, "source: unknown source")
    assert "known: alpha, beta" in detail and len(detail) < 400


@pytest.mark.parametrize("name", ["nope", "%00", "a" * 1000, "..%2F..%2Fetc%2Fpasswd", "%1b%5b2J"])
def test_api_feeds_of_unknown_sources_are_404(served: tuple[Path, TestClient], name: str) -> None:
    assert get(served[1], f"/feeds/{name}.atom").status_code == 404


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("order=x", "order"),
        ("order=rank", "rank order needs a search"),
        ("highlighted=maybe", "highlighted"),
        ("edited=2", "edited"),
        ("collapse=%00", "collapse"),
        ("q=", "q"),
    ],
)
def test_api_bad_choices_are_400(served: tuple[Path, TestClient], query: str, param: str) -> None:
    path = "/feeds/search.atom" if query.startswith("q=") else "/updates"
    refused(served[1], path, query, param)


NOT_UTF8 = quote_from_bytes(b"\xff\xfe\xed\xa0\x80")  # invalid bytes, an encoded surrogate


def test_api_invalid_utf8_in_parameters_is_not_a_500(served: tuple[Path, TestClient]) -> None:
    for param in ("search", "source", "since", "cursor", "order"):
        get(served[1], "/updates", f"{param}={NOT_UTF8}")
    get(served[1], "/feeds/search.atom", f"q={NOT_UTF8}")
    get(served[1], f"/updates/{NOT_UTF8}")


# Classes of junk, for every parameter: text with controls and any plane, raw bytes,
# numbers far beyond any range, and the values that broke parsers elsewhere.
JUNK = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(quote_from_bytes),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    # (the huge ones have tests of their own: several would pass the client's URL limit)
    st.sampled_from(
        [v for v in BAD_CURSORS + BAD_TIMES + BAD_IDS if len(v) < 2000]
        + ["", "true", "null", "[]", "{}"]
    ),
)
ENDPOINTS = {
    "/updates": (
        "source",
        "since",
        "until",
        "seen_since",
        "search",
        "highlighted",
        "edited",
        "collapse",
        "order",
        "limit",
        "cursor",
    ),
    "/feeds/search.atom": ("q", "source"),
    "/sources": ("x",),
}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_api_fuzz_never_answers_5xx(served: tuple[Path, TestClient], data: st.DataObject) -> None:
    client = served[1]
    path = data.draw(st.sampled_from([*ENDPOINTS, "/updates/{}", "/stories/{}", "/feeds/{}.atom"]))
    if "{}" in path:
        get(client, path.format(quote(data.draw(JUNK), safe="")))
        return
    params = data.draw(st.lists(st.sampled_from(ENDPOINTS[path]), min_size=1, max_size=4))
    query = "&".join(f"{p}={quote(str(data.draw(JUNK)), safe='')}" for p in params)
    get(client, path, query)


@pytest.fixture(scope="module")
def guarded(served: tuple[Path, TestClient]) -> Iterator[TestClient]:
    """The same store behind an API token."""
    config = served[0].with_name("guarded.toml")
    url = load_config(served[0]).storage.url
    config.write_text(config_text(url, token=TOKEN), encoding="utf-8")
    store = Store(url)
    try:
        with TestClient(create_app(load_config(config), store)) as client:
            yield client
    finally:
        store.close()


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    header=st.binary(max_size=200),
    scheme=st.sampled_from([b"Basic ", b"Bearer ", b"", b"Digest ", b"basic "]),
)
def test_api_fuzz_of_the_authorization_header(
    guarded: TestClient, header: bytes, scheme: bytes
) -> None:
    value = scheme + (base64.b64encode(header) if header[:1] == b"b" else header)
    response = guarded.get("/updates", headers=[(b"authorization", value)])
    assert response.status_code == 401
    assert guarded.get("/updates", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_docs_need_no_token_and_data_does(guarded: TestClient) -> None:
    assert guarded.get("/docs").status_code == 200
    assert guarded.get("/static/swagger-ui/swagger-ui.css").status_code == 200
    assert guarded.get("/updates").status_code == 401
    assert guarded.get("/").status_code == 401


def test_the_index_and_the_offline_docs(served: tuple[Path, TestClient]) -> None:
    client = served[1]
    index = get(client, "/").json()
    assert "/updates" in index["endpoints"] and index["docs"].endswith("/docs")
    docs = get(client, "/docs")
    assert docs.status_code == 200
    import re

    assets = re.findall(r"""(?:href|src)=["']([^"']+)""", docs.text)
    assert assets and all(a.startswith("/static/") for a in assets)  # nothing from a CDN
    for asset in assets:
        assert get(client, asset).status_code == 200
    assert "swagger-ui" in docs.text and "cdn" not in docs.text.lower()


# --- the CLI (a subprocess each) ---------------------------------------------------------

# Refused by the option parser or the parameter checks, before any database is read: run
# on SQLite only (the database never comes into it).
PARAM_ONLY = [
    (("show", str(2**70)), "ID"),
    (("show", str(2**31)), "ID"),
    (("show", "0"), "ID"),
    (("show", "-1"), "ID"),
    (("show", "abc"), "ID"),
    (("updates", "--limit", "0"), "--limit"),
    (("updates", "--limit", str(2**70)), "--limit"),
    (("updates", "--limit", "1e9"), "--limit"),
    (("export", "--limit", "0"), "--limit"),
    (("updates", "--since", "99999999h"), "--since"),
    (("updates", "--since", "10000-01-01"), "--since"),
    (("updates", "--until", "0001-01-01T00:00:00+01:00"), "--until"),
    (("updates", "--seen-since", "inf"), "--seen-since"),
    (("export", "--since", "x" * 10_000), "--since"),
    (("updates", "--format", "yaml"), "--format"),
    (("sources", "--format", "csv"), "--format"),
    (("serve", "--port", "70000"), "--port"),
]
# Read with the database open: run on both.
WITH_STORE = [
    (("updates", "--cursor", "!!!"), "invalid cursor"),
    (("updates", "--cursor", BAD_CURSORS[10]), "invalid cursor"),
    (("updates", "--cursor", BAD_CURSORS[11]), "invalid cursor"),
    (("updates", "--cursor", "A" * 10_000), "invalid cursor"),
    (("updates", "--search", "body", "--cursor", BAD_RANK_CURSORS[1]), "invalid cursor"),
    (("updates", "--order", "x"), "unknown order"),
    (("updates", "--order", "rank"), "rank order needs a search"),
    (("updates", "--search", "w " * 5000), "search: at most"),
    (("updates", "--source", "\x1b[2J"), "--source: unknown source"),
    (("export", "--source", "alpha", "--source", "a" * 5000), "--source: unknown source"),
]


def _exit_2(config: Path, args: tuple[str, ...], says: str) -> None:
    proc = run_vigie(config, *args, check=False)
    assert proc.returncode == 2, (args[:3], proc.stderr[-500:])
    assert says in proc.stderr, proc.stderr[-500:]
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr
    assert len(proc.stderr) < 2000


@pytest.fixture(scope="module")
def storeless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database does not exist: a command that reached it would exit 1."""
    config = tmp_path_factory.mktemp("storeless") / "config.toml"
    config.write_text(config_text("sqlite:///absent.db"), encoding="utf-8")
    return config


@pytest.mark.slow
@pytest.mark.parametrize(("args", "says"), PARAM_ONLY, ids=lambda a: " ".join(a)[:40])
def test_cli_bad_parameters_exit_2_before_the_database(
    storeless: Path, args: tuple[str, ...], says: str
) -> None:
    _exit_2(storeless, args, says)
    assert not (storeless.parent / "absent.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("args", "says"), WITH_STORE, ids=lambda a: " ".join(a)[:40])
def test_cli_bad_selections_exit_2(
    served: tuple[Path, TestClient], args: tuple[str, ...], says: str
) -> None:
    _exit_2(served[0], args, says)


@pytest.mark.slow
def test_cli_id_at_the_bound_is_not_found(served: tuple[Path, TestClient]) -> None:
    proc = run_vigie(served[0], "show", str(2**31 - 1), check=False)
    assert proc.returncode == 1 and "no update with id" in proc.stderr
