"""`GET /alerts` and `GET /alerts/{name}/history` of `vigie serve`, on SQLite and
PostgreSQL: the watches with masked channels and delivery state, a watch's messages
newest first with their deliveries, paged; unknown names and bad parameters refused."""

from __future__ import annotations

from pathlib import Path

import httpx

from scheduler.alerts.channels import mask_url
from scheduler.alerts.sender import Sender
from storage.alert_match import Watch, Watches
from storage.db import Store
from tests.alerts.receiver import Receiver
from tests.alerts.test_outbox import Source, post
from tests.alerts.test_sender import run_until, setup_of, webhook
from tests.api.test_api import serve

TOKEN = "hook-token-0123456789abcdef"


def test_alerts_endpoints(tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    store = Store(db_url, create=True)
    watches = Watches((Watch("all", None, first_crawl="each"),))
    src = Source(store, watches)
    src.crawl([post(1)])
    src.crawl([post(1), post(2), post(3)])
    chan = webhook(receiver, f"/hook/{TOKEN}")
    run_until(
        Sender(store, setup_of(watches, {"all": (chan,)}), "t"),
        lambda: len(receiver.at(f"/hook/{TOKEN}")) == 3,
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f"""[storage]
url = "{db_url}"

[[sources]]
name = "afp"
url = "https://example.org/afp"

[[alerts]]
name = "all"
webhook = "{receiver.url(f"/hook/{TOKEN}")}"

[[alerts]]
name = "quiet"
notify = ["json://127.0.0.1:9/{TOKEN}"]
""",
        encoding="utf-8",
    )
    with serve(config) as base:
        listed = httpx.get(base + "/alerts").json()
        assert [w["name"] for w in listed] == ["all", "quiet"]
        assert listed[0]["channels"] == [mask_url(receiver.url("/x"))]
        assert listed[0]["messages"] == 3 and listed[0]["pending"] == 0
        assert listed[1]["messages"] == 0 and listed[1]["last_sent_at"] is None
        assert TOKEN not in httpx.get(base + "/alerts").text
        page = httpx.get(base + "/alerts/all/history", params={"limit": 2}).json()
        assert [m["key"] for m in page["messages"]] == [
            r.key for r in reversed(receiver.at(f"/hook/{TOKEN}"))
        ][:2]
        assert page["messages"][0]["deliveries"][0]["status"] == "sent"
        rest = httpx.get(
            base + "/alerts/all/history", params={"before": page["next_before"]}
        ).json()
        assert len(rest["messages"]) == 1 and rest["next_before"] is None
        assert httpx.get(base + "/alerts/quiet/history").json()["messages"] == []
        assert httpx.get(base + "/alerts/nope/history").status_code == 404
        for bad in ({"limit": 0}, {"limit": 10**6}, {"before": "x"}, {"before": -1}):
            r = httpx.get(base + "/alerts/all/history", params=bad)
            assert r.status_code == 400, bad
        assert "/alerts" in httpx.get(base + "/").json()["endpoints"]
