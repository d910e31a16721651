"""The spider's pagination decision with what the store holds handed to it as data
(`KnownPosts`): a crawl that is not full follows rel="next" only while the page read holds a
post the store does not hold unchanged; a full crawl, or one without `known`, follows every
page. Either way the result says that the page links to a next one (`paginated`). The
spider's callback is called on a rendered fixture page: no reactor, no database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.models import RawPost, SourceSpec
from crawler.settings import scrapy_settings
from crawler.spiders.source import CrawlJob, SourceSpider
from tests.newsroom.render import render_paged
from tests.newsroom.timeline import timeline
from vigie.config import CrawlerConfig

BASE = "http://news.test"
URL = f"{BASE}/live/paged"


class Held:
    """Stands for the store's answer: the posts it holds, by key, and whether unchanged."""

    def __init__(self, posts: list[RawPost]) -> None:
        self.held = {p.key: p.body for p in posts}
        self.asked: list[RawPost] = []

    def __contains__(self, post: RawPost) -> bool:
        self.asked.append(post)
        return self.held.get(post.key) == post.body


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def _spider() -> SourceSpider:
    crawler = get_crawler(SourceSpider, settings_dict=scrapy_settings(CrawlerConfig()))
    spider = crawler._create_spider()
    assert isinstance(spider, SourceSpider)
    return spider


def _first_page(
    loop: asyncio.AbstractEventLoop, *, full: bool, known: Held | None
) -> tuple[CrawlJob, list[Request]]:
    spider = _spider()
    spec = SourceSpec(name="paged", url=URL, kind="liveblog")
    job = CrawlJob(spec=spec, future=loop.create_future(), full=full, known=known)
    request = spider.request(job, URL, 1)
    assert request is not None
    body = render_paged(timeline()[-1], BASE, 1).encode()
    response = HtmlResponse(
        URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request
    )
    return job, spider.parse_page(response)


def _posts_of_page_one(loop: asyncio.AbstractEventLoop) -> list[RawPost]:
    job, _ = _first_page(loop, full=True, known=None)
    return list(job.result.posts)


def _next_page(requests: list[Request]) -> str | None:
    assert len(requests) <= 1
    return requests[0].url if requests else None


@pytest.mark.parametrize(("full", "known"), [(True, "all"), (True, None), (False, None)])
def test_a_full_crawl_or_one_without_known_posts_follows_the_next_page(
    loop: asyncio.AbstractEventLoop, full: bool, known: str | None
) -> None:
    held = Held(_posts_of_page_one(loop)) if known else None
    job, follow = _first_page(loop, full=full, known=held)
    assert _next_page(follow) == f"{URL}?page=2"
    assert job.result.paginated and not job.future.done()


def test_a_page_the_store_holds_unchanged_ends_the_crawl(
    loop: asyncio.AbstractEventLoop,
) -> None:
    posts = _posts_of_page_one(loop)
    assert len(posts) >= 10
    held = Held(posts)
    job, follow = _first_page(loop, full=False, known=held)
    assert _next_page(follow) is None
    assert job.future.done() and job.result.status == "ok" and job.result.paginated
    assert len(job.result.posts) == len(held.asked) == len(posts)  # asked of data, per post


@pytest.mark.parametrize("which", ["new", "edited"])
def test_a_new_or_edited_post_on_the_page_reads_the_next_one(
    loop: asyncio.AbstractEventLoop, which: str
) -> None:
    posts = _posts_of_page_one(loop)
    newest = posts[-1].key
    held = Held([p for p in posts if p.key != newest] if which == "new" else posts)
    if which == "edited":
        held.held[posts[3].key] = posts[3].body + " (before the edit)"
    job, follow = _first_page(loop, full=False, known=held)
    assert _next_page(follow) == f"{URL}?page=2"
    assert job.result.paginated


def test_a_last_page_is_not_paginated(loop: asyncio.AbstractEventLoop) -> None:
    spider = _spider()
    state = timeline()[-1]
    spec = SourceSpec(name="paged", url=URL, kind="liveblog")
    job = CrawlJob(spec=spec, future=loop.create_future(), full=False, known=Held([]))
    last = f"{URL}?page=3"
    request = spider.request(job, last, 1)
    assert request is not None
    body = render_paged(state, BASE, 3).encode()
    response = HtmlResponse(
        last, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request
    )
    assert spider.parse_page(response) == []
    assert job.future.done() and not job.result.paginated and job.result.posts
