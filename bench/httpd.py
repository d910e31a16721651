"""A small, fast HTTP/1.1 server on 127.0.0.1 for the benchmarks, run in its own process.

asyncio streams, keep-alive, GET only. Every answer carries an ETag; a request whose
If-None-Match names the current one gets 304 with no body. Two sites:

- `static`: `/s/N` is a one-item RSS feed that never changes (the poll-overhead bench);
- `newsroom`: `/live/N` (a JSON-LD live blog) and `/feed/N` (RSS) for N in 0..sources-1,
  each gaining a post every `every` seconds (spread over sources), showing the newest 30:
  a thousand sources that change now and then (the memory bench);
- `mixed`: the same paths, answering as real servers do, drawn per request: 80% the page
  unchanged (304 to its ETag), 15% a new post, 5% trouble (a 500, a 503, an answer a few
  seconds late, or none before the client's timeout) — the punctuality bench; `/_stats`
  counts what it answered;
- `peer`: the same paths, pages that change only when told: `/_change/K` adds a post to
  every K-th source (the peer comparison's rounds).

Run as `python -m bench.httpd --site static`; it prints its port on the first line of
stdout and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from bench import corpus
from bench.common import ROOT

Answer = tuple[int, str, bytes, str]  # status, content type, body, etag
NOT_FOUND: Answer = (404, "text/plain", b"not found", '"404"')
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
REASONS = {
    200: "OK",
    304: "Not Modified",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
SLOW = 3.0  # seconds a slow answer of the mixed site waits
HANG = 40.0  # seconds a "timeout" answer waits: past any client timeout of the benches
SHOWN = 30  # posts a newsroom page shows


def static_site() -> Callable[[str], Answer]:
    def answer(path: str) -> Answer:
        if path.startswith("/s/"):
            n = path[3:]
            body = corpus.rss_feed(
                f"http://bench.invalid/s/{n}",
                f"Flux {n}",
                [corpus.Post(1, f"Titre {n}", (f"Texte {n}.",), corpus.BASE_TIME)],
            ).encode()
            return 200, "application/rss+xml; charset=utf-8", body, static_etag(n)
        return 404, "text/plain", b"not found", '"404"'

    return answer


def static_etag(n: str | int) -> str:
    """The ETag `/s/N` of the static site always has (clients of the bench send it)."""
    return f'"v1-{n}"'


class NewsroomSite:
    """A thousand small sources, each gaining a post now and then."""

    def __init__(self, sources: int, every: float) -> None:
        self.sources = sources
        self.every = every
        self.started = time.monotonic()

    def count(self, n: int) -> int:
        """How many posts source n shows now: 5 to begin with, then one more every `every`
        seconds, each source at its own phase."""
        phase = (zlib.crc32(str(n).encode()) % 1000) / 1000 * self.every
        return 5 + int((time.monotonic() - self.started + phase) / self.every)

    def __call__(self, path: str) -> Answer:
        found = newsroom_path(path, self.sources)
        if found is None:
            return NOT_FOUND
        kind, n = found
        return newsroom_answer(kind, n, self.count(n))


@lru_cache(maxsize=256)
def _newsroom_body(kind: str, n: int, count: int) -> bytes:
    items = _source_posts(n, count)[-SHOWN:]
    url = f"http://bench.invalid/{kind}/{n}"
    if kind == "live":
        return corpus.liveblog_page(url, f"Direct {n}", items).encode()
    return corpus.rss_feed(url, f"Flux {n}", items).encode()


def newsroom_path(path: str, sources: int) -> tuple[str, int] | None:
    """(kind, n) of a newsroom path `/live/N` or `/feed/N`, or None."""
    kind, _, rest = path.strip("/").partition("/")
    if not rest.isdigit() or int(rest) >= sources or kind not in ("live", "feed"):
        return None
    return kind, int(rest)


def newsroom_answer(kind: str, n: int, count: int) -> Answer:
    """Source n of a newsroom-like site showing its `count` first posts (the newest 30)."""
    ctype = "text/html; charset=utf-8" if kind == "live" else "application/rss+xml"
    return 200, ctype, _newsroom_body(kind, n, count), newsroom_etag(kind, n, count)


def newsroom_etag(kind: str, n: int, count: int) -> str:
    return f'"{kind}-{n}-{count}"'


class MixedSite:
    """Sources answering as real ones do, drawn per request (seeded): mostly unchanged,
    sometimes a new post, now and then an error, a slow answer or none at all."""

    def __init__(self, sources: int, seed: int = 19) -> None:
        self.sources = sources
        self.counts = [5] * sources
        self.rng = random.Random(seed)
        self.answered: Counter[str] = Counter()

    def __call__(self, path: str) -> Answer | Paused:
        if path == "/_stats":  # what was answered so far, for the bench's note
            return 200, "application/json", json.dumps(self.answered).encode(), '"stats"'
        found = newsroom_path(path, self.sources)
        if found is None:
            return NOT_FOUND
        kind, n = found
        draw = self.rng.random()
        if draw < 0.05:  # trouble: 500, 503, slow, no answer in time (a quarter each)
            trouble = ("500", "503", "slow", "hung")[int(draw / 0.0125)]
            self.answered[trouble] += 1
            if trouble == "500":
                return 500, "text/plain", b"internal error", '"e500"'
            if trouble == "503":
                return 503, "text/plain", b"busy", '"e503"'
            pause = SLOW if trouble == "slow" else HANG
            return Paused(pause, newsroom_answer(kind, n, self.counts[n]))
        if draw < 0.20:
            self.counts[n] += 1
            self.answered["new post"] += 1
        else:
            self.answered["unchanged"] += 1
        return newsroom_answer(kind, n, self.counts[n])


class PeerSite:
    """Sources that change only when told: `/_change/K` adds a post to every K-th one."""

    def __init__(self, sources: int) -> None:
        self.sources = sources
        self.counts = [5] * sources

    def __call__(self, path: str) -> Answer:
        if path.startswith("/_change/") and path[9:].isdigit() and int(path[9:]) > 0:
            every = int(path[9:])
            for n in range(0, self.sources, every):
                self.counts[n] += 1
            return 200, "text/plain", b"changed", f'"change-{sum(self.counts)}"'
        found = newsroom_path(path, self.sources)
        if found is None:
            return NOT_FOUND
        kind, n = found
        return newsroom_answer(kind, n, self.counts[n])


@dataclass(frozen=True, slots=True)
class Paused:
    """An answer the server gives only after `pause` seconds (a slow or hung server)."""

    pause: float
    answer: Answer


def _source_posts(n: int, count: int) -> list[corpus.Post]:
    start = corpus.BASE_TIME + timedelta(minutes=n % 600)
    return corpus.posts(10_000 + n, count, start, timedelta(minutes=3))


Site = Callable[[str], "Answer | Paused"]


class Server:
    def __init__(self, answer: Site) -> None:
        self.answer = answer

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                path = target.split("?", 1)[0]
                if path == "/robots.txt":
                    status, ctype, body, etag = 200, "text/plain", ROBOTS, '"robots"'
                else:
                    answer = self.answer(path)
                    if isinstance(answer, Paused):
                        await asyncio.sleep(answer.pause)
                        answer = answer.answer
                    status, ctype, body, etag = answer
                if status == 200 and headers.get("if-none-match") == etag:
                    status, body = 304, b""
                out = [
                    f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}",
                    f"ETag: {etag}",
                    f"Content-Length: {len(body)}",
                ]
                if status != 304:
                    out.append(f"Content-Type: {ctype}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
                if body and method != "HEAD":
                    writer.write(body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the server stops with answers still paused: end them quietly (asyncio
            # would print each cancelled connection's traceback)
        finally:
            writer.close()


async def serve(site: Site, port: int) -> None:
    server = await asyncio.start_server(Server(site).handle, "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


@contextmanager
def running(site: str, *args: str) -> Iterator[str]:
    """Start the server in a child process; yields its base URL, stops it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.httpd", "--site", site, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", choices=("static", "newsroom", "mixed", "peer"), required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--every", type=float, default=60.0)
    args = parser.parse_args()
    sites: dict[str, Callable[[], Site]] = {
        "static": static_site,
        "newsroom": lambda: NewsroomSite(args.sources, args.every),
        "mixed": lambda: MixedSite(args.sources),
        "peer": lambda: PeerSite(args.sources),
    }
    site = sites[args.site]()
    asyncio.run(serve(site, args.port))


if __name__ == "__main__":
    main()
