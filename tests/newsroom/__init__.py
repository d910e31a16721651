"""The newsroom: a loopback fixture site serving the project's own French live blog.

`blogtext` parses the live blog's text (data/, written for the project in the format of a
real TF1info page copied as text) into posts, `timeline` turns them into page states poll
after poll, `render` and `feeds` shape a state as real sites do, and `server.Newsroom` serves
it over HTTP.
"""

from tests.newsroom.blogtext import FIXTURE_PATH, Chrome, Post, load_page, load_posts
from tests.newsroom.render import (
    PageNotFound,
    render_atom,
    render_jsonld,
    render_microdata,
    render_paged,
    render_plain,
    render_rss,
)
from tests.newsroom.server import LoggedRequest, Newsroom, Request
from tests.newsroom.timeline import (
    State,
    expected_revisions,
    expected_updates,
    fixture_state,
    timeline,
)

__all__ = [
    "FIXTURE_PATH",
    "Chrome",
    "LoggedRequest",
    "Newsroom",
    "PageNotFound",
    "Post",
    "Request",
    "State",
    "expected_revisions",
    "expected_updates",
    "fixture_state",
    "load_page",
    "load_posts",
    "render_atom",
    "render_jsonld",
    "render_microdata",
    "render_paged",
    "render_plain",
    "render_rss",
    "timeline",
]
