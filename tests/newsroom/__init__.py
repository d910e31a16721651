"""The newsroom: a loopback fixture site built from a real French live blog (the seed).

`seed` parses the seed text into posts, `timeline` turns them into page states poll after poll,
`render` and `feeds` shape a state as real sites do, and `server.Newsroom` serves it over HTTP.
"""

from tests.newsroom.render import (
    PageNotFound,
    render_atom,
    render_jsonld,
    render_microdata,
    render_paged,
    render_plain,
    render_rss,
)
from tests.newsroom.seed import SEED_PATH, Chrome, SeedPost, load_page, load_seed
from tests.newsroom.server import LoggedRequest, Newsroom, Request
from tests.newsroom.timeline import (
    State,
    expected_revisions,
    expected_updates,
    seed_state,
    timeline,
)

__all__ = [
    "SEED_PATH",
    "Chrome",
    "LoggedRequest",
    "Newsroom",
    "PageNotFound",
    "Request",
    "SeedPost",
    "State",
    "expected_revisions",
    "expected_updates",
    "load_page",
    "load_seed",
    "render_atom",
    "render_jsonld",
    "render_microdata",
    "render_paged",
    "render_plain",
    "render_rss",
    "seed_state",
    "timeline",
]
