"""The page's HTML posts for one extraction (`HtmlPosts`): the detector's list found once,
each post read once and only when asked for, the times of a batch resolved together.

The merge of structured data uses it lazily: around the elements the structured posts name by
id when it can (no page-wide scan of detect.py), reading only the posts a field needs;
`detect_posts` reads the whole detected list when the page has no structured data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from lxml import etree

from crawler.extract.days import date_headings, kickoff, resolve
from crawler.extract.detect import MAX_CLIMB, PostList, find_post_list, page_stamps
from crawler.extract.read import Reading, read_post
from crawler.extract.zones import PageZone
from crawler.guard import Guard


def _texts_by_member(
    posts: PostList, texts: Sequence[tuple[etree._Element, str]]
) -> dict[etree._Element, list[tuple[etree._Element, str]]]:
    """The page's stamp texts, grouped by the post (member or follower) they lie in."""
    owner = {m: m for m in posts.members}
    for member, followers in zip(posts.members, posts.followers, strict=True):
        owner.update((f, member) for f in followers)
    grouped: dict[etree._Element, list[tuple[etree._Element, str]]] = {}
    for el, text in texts:
        for node in [el, *el.iterancestors()][: MAX_CLIMB + 2]:
            if node in owner:
                grouped.setdefault(owner[node], []).append((el, text))
                break
    return grouped


class HtmlPosts:
    """The page's HTML posts for one extraction: found once, each read once, on demand."""

    def __init__(
        self,
        root: etree._Element,
        page: str,
        *,
        timezone: str,
        day: date,
        now: datetime,
        start: datetime | None = None,
        zones: PageZone | None = None,
        earliest: datetime | None = None,
        latest: datetime | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.root, self.page, self.timezone, self.day, self.now = root, page, timezone, day, now
        self.start, self.zones, self.earliest, self.latest = start, zones, earliest, latest
        self.guard = guard or Guard(page)
        self._found: PostList | None = None
        self._searched = False
        self._readings: dict[etree._Element, Reading | None] = {}
        self._positions: dict[etree._Element, int] | None = None
        self._texts: dict[etree._Element, list[tuple[etree._Element, str]]] | None = None

    def detected(self) -> PostList | None:
        """The list found by the detector (page-wide; computed once)."""
        if not self._searched:
            texts = page_stamps(self.root)
            self._found, self._searched = find_post_list(self.root, texts), True
            if self._found is not None:
                self._texts = _texts_by_member(self._found, texts)
        return self._found

    def positions(self) -> dict[etree._Element, int]:
        if self._positions is None:
            self._positions = {el: i for i, el in enumerate(self.root.iter())}
        return self._positions

    def zone_of(self, member: etree._Element) -> str:
        """The zone of a post's clocks: the page's, or a statement's above it."""
        if self.zones is None or not self.zones.changes:
            return self.timezone
        return self.zones.at(self.positions().get(member))

    def read(self, posts: PostList, members: Sequence[etree._Element]) -> list[Reading]:
        """Readings of some members of a list (posts without headline or body are left out),
        their times resolved together, in the order given."""
        index = {m: i for i, m in enumerate(posts.members)}
        fresh = [m for m in dict.fromkeys(members) if m not in self._readings and m in index]
        batch = []
        texts = self._texts if posts is self._found else None
        for member in fresh:
            tz = self.zone_of(member)
            reading = self.guard.run(
                "html: a post",
                lambda m=member, tz=tz: read_post(
                    m,
                    self.page,
                    tz,
                    self.day.year,
                    followers=posts.followers[index[m]],
                    texts=texts.get(m, []) if texts is not None else None,
                ),
                None,
            )
            if reading is not None:
                reading.zone = tz
            keep = reading is not None and bool(reading.post.headline or reading.post.body)
            self._readings[member] = reading if keep else None
            if reading is not None and keep:
                batch.append(reading)
        self.guard.run("html: post times", lambda: self._resolve(posts, batch), None)
        return [r for m in members if (r := self._readings.get(m)) is not None]

    def _resolve(self, posts: PostList, batch: list[Reading]) -> None:
        if not batch:
            return
        positions: dict[etree._Element, int] = {}
        headings: list[tuple[int, date]] = []
        start = self.start
        if any(r.stamp.at is None for r in batch):
            region = posts.parent
            for _ in range(3):
                region = region.getparent() if region.getparent() is not None else region
            streams = list(dict.fromkeys(m.getparent() for m in posts.members))
            found = date_headings(
                region, set(posts.members), [p for p in streams if p is not None], self.day.year
            )
            if found:
                positions = self.positions()
                headings = sorted((positions[el], day) for el, day in found)
            if any(r.stamp.minute is not None for r in batch):
                start = kickoff(self.root, self.day, self.timezone) or start
        resolve(
            batch,
            day=self.day,
            tz=self.timezone,
            now=self.now,
            positions=positions,
            headings=headings,
            start=start,
            earliest=self.earliest,
            latest=self.latest,
        )


def detect_posts(html: HtmlPosts) -> list[Reading]:
    """The posts of the page's detected list, times resolved, in page order."""
    found = html.detected()
    if found is None:
        return []
    members = found.members
    if found.joined:  # lists of several parents: put them in page order
        positions = html.positions()
        members = sorted(members, key=lambda m: positions.get(m, 0))
    return html.read(found, members)
