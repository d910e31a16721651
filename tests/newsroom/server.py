"""The newsroom: a real loopback HTTP server that serves the live blog as it evolves.

`Newsroom` serves the current timeline state under every shape (JSON-LD, microdata, plain and
paged pages, RSS and Atom feeds), plus robots.txt and a page robots forbids. Every 200 carries
a strong ETag and a Last-Modified; conditional requests get 304. Last-Modified is story time:
the step time at which the resource's bytes last changed (step times are the states' `as_of`,
made strictly increasing). Requests are logged, and tests can add their own (hostile) routes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType

from tests.newsroom.httpkit import (
    HTML,
    LoggedRequest,
    Request,
    Response,
    RouteHandler,
    Server,
    conditional,
)
from tests.newsroom.render import (
    PageNotFound,
    render_atom,
    render_jsonld,
    render_microdata,
    render_paged,
    render_plain,
    render_rdf,
    render_rss,
)
from tests.newsroom.timeline import State, timeline

ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n"
PRIVATE_HTML = (
    "<!DOCTYPE html><html><head><title>Espace abonnés</title></head><body>"
    "<p>Réservé à la rédaction.</p></body></html>"
)
NOT_FOUND_HTML = (
    "<!DOCTYPE html><html><head><title>Page introuvable</title></head><body>"
    "<h1>404</h1><p>Cette page n’existe pas.</p></body></html>"
)
STATIC_LAST_MODIFIED = datetime(2026, 2, 9, 9, 0, tzinfo=UTC)
Renderer = Callable[[State, str], str]
RESOURCES: dict[str, tuple[str, Renderer]] = {
    "/live/jsonld": (HTML, render_jsonld),
    "/live/microdata": (HTML, render_microdata),
    "/live/plain": (HTML, render_plain),
    "/feeds/rss.xml": ("application/rss+xml", render_rss),
    "/feeds/atom.xml": ("application/atom+xml", render_atom),
    "/feeds/rdf.xml": ("application/rdf+xml", render_rdf),
}


def step_times(states: Sequence[State]) -> list[datetime]:
    """The story time of each step: its `as_of`, pushed to at least a minute after the last."""
    times: list[datetime] = []
    for s in states:
        t = s.as_of.astimezone(UTC).replace(microsecond=0)
        times.append(max(t, times[-1] + timedelta(minutes=1)) if times else t)
    return times


class Newsroom:
    """The fixture site. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        states: Sequence[State] | None = None,
        auto_advance: float | None = None,
        *,
        advance_after: Sequence[str] = (),
        step: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._states = tuple(states) if states is not None else tuple(timeline())
        if not self._states:
            raise ValueError("newsroom: at least one state is needed")
        self.auto_advance = auto_advance
        # With auto_advance: paths that must each have been served at the current step before
        # the next one comes, so a loaded machine slows the story down instead of letting a
        # poller miss a state it had no chance to see.
        self.advance_after = tuple(advance_after)
        self._served: dict[str, int] = {}  # path -> the latest step it was served at
        self.extra_routes: dict[str, RouteHandler] = {}
        self.base_url: str | None = None
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._step = self._checked(step)
        self._times = step_times(self._states)
        self._bodies: dict[tuple[str, int], bytes | None] = {}
        self._requests: list[LoggedRequest] = []
        self._server: Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving; returns the base URL (http://127.0.0.1:PORT)."""
        if self._server is not None:
            return self.url("")
        self._stopping.clear()
        self._bodies.clear()  # bodies embed the base URL, which a restart may change
        self._server = Server((self._host, self._port), self)
        self.base_url = f"http://{self._host}:{self._server.server_address[1]}"
        serve = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="newsroom", daemon=True
        )
        self._threads = [serve]
        if self.auto_advance:
            self._threads.append(
                threading.Thread(target=self._tick, name="newsroom-tick", daemon=True)
            )
        for t in self._threads:
            t.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and join the threads (idempotent)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> Newsroom:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, path: str) -> str:
        """The absolute URL of a path on the running server ("/live/jsonld")."""
        if self.base_url is None:
            raise RuntimeError("newsroom: not started")
        return self.base_url + path

    # --- the timeline ------------------------------------------------------------------------

    @property
    def states(self) -> tuple[State, ...]:
        """The states served, step 0 first (fixed for the newsroom's life)."""
        return self._states

    @property
    def step(self) -> int:
        with self._lock:
            return self._step

    @step.setter
    def step(self, value: int) -> None:
        with self._lock:
            self._step = self._checked(value)

    @property
    def state(self) -> State:
        """The state being served now."""
        with self._lock:
            return self.states[self._step]

    @property
    def last_step(self) -> int:
        return len(self.states) - 1

    def advance(self) -> int:
        """Move to the next state (staying on the last); returns the new step."""
        with self._lock:
            self._step = min(self._step + 1, self.last_step)
            return self._step

    def _checked(self, step: int) -> int:
        if not 0 <= step < len(self.states):
            raise IndexError(f"newsroom: no step {step} (0..{len(self.states) - 1})")
        return step

    def _tick(self) -> None:
        assert self.auto_advance
        while not self._stopping.wait(self.auto_advance):
            with self._lock:
                if any(self._served.get(p, -1) < self._step for p in self.advance_after):
                    continue
            if self.step >= self.last_step or self.advance() >= self.last_step:
                return

    # --- routes ------------------------------------------------------------------------------

    def set_route(
        self,
        path: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes | str = b"",
    ) -> None:
        """Serve a fixed answer at `path`. A 200 gets ETag/Last-Modified (and 304s) unless
        `headers` already has an ETag; other statuses are sent as given."""
        data = body.encode() if isinstance(body, str) else body
        given = dict(headers or {})
        raw = status != 200 or any(k.lower() == "etag" for k in given)
        content_type = next((v for k, v in given.items() if k.lower() == "content-type"), HTML)
        rest = {k: v for k, v in given.items() if k.lower() != "content-type"}
        since = datetime.now(UTC).replace(microsecond=0)

        def handler(request: Request) -> Response:
            if raw:
                return status, given, data
            code, validators, payload = conditional(request, data, content_type, since)
            return code, {**rest, **validators}, payload

        self.extra_routes[path] = handler

    def respond(self, request: Request) -> Response:
        """The answer to one request: test routes first, then the site's own."""
        if request.path in self.extra_routes:
            return self.extra_routes[request.path](request)
        if request.path == "/robots.txt":
            return conditional(
                request, ROBOTS_TXT.encode(), "text/plain; charset=utf-8", STATIC_LAST_MODIFIED
            )
        if request.path == "/private/page":
            return conditional(request, PRIVATE_HTML.encode(), HTML, STATIC_LAST_MODIFIED)
        if request.path == "/live/paged":
            page = request.query.get("page", ["1"])[-1]
            if not page.isdigit():
                return 404, {"Content-Type": HTML}, NOT_FOUND_HTML.encode()
            key, content_type = f"paged:{int(page)}", HTML
            render = _paged_renderer(int(page))
        elif request.path in RESOURCES:
            key = request.path
            content_type, render = RESOURCES[key]
        else:
            return 404, {"Content-Type": HTML}, NOT_FOUND_HTML.encode()
        with self._lock:
            step = self._step
            self._served[request.path] = step
            body = self._body(key, render, step)
            if body is None:
                return 404, {"Content-Type": HTML}, NOT_FOUND_HTML.encode()
            first = step
            while first > 0 and self._body(key, render, first - 1) == body:
                first -= 1
            modified = self._times[first]
        return conditional(request, body, content_type, modified)

    def _body(self, key: str, render: Renderer, step: int) -> bytes | None:
        if (key, step) not in self._bodies:
            try:
                text: str | None = render(self.states[step], self.url(""))
            except PageNotFound:
                text = None
            self._bodies[key, step] = text.encode() if text is not None else None
        return self._bodies[key, step]

    # --- the request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self, path_prefix: str, status: int | None = None) -> int:
        """How many requests had a path (with query) starting with the prefix (and status)."""
        return sum(
            1
            for r in self.requests
            if r.path.startswith(path_prefix) and (status is None or r.status == status)
        )

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def log_request(self, request: Request, status: int) -> None:
        entry = LoggedRequest(request.target, status, request.headers, time.time(), request.method)
        with self._lock:
            self._requests.append(entry)


def _paged_renderer(page: int) -> Renderer:
    return lambda state, base_url: render_paged(state, base_url, page)
