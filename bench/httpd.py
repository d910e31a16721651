"""A small, fast HTTP/1.1 server on 127.0.0.1 for the benchmarks, run in its own process.

asyncio streams, keep-alive, GET only. Every answer carries an ETag; a request whose
If-None-Match names the current one gets 304 with no body. Two sites:

- `static`: `/s/N` is a one-item RSS feed that never changes (the poll-overhead bench);
- `newsroom`: `/live/N` (a JSON-LD live blog) and `/feed/N` (RSS) for N in 0..sources-1,
  each gaining a post every `every` seconds (spread over sources), showing the newest 30:
  a thousand sources that change now and then (the memory bench).

Run as `python -m bench.httpd --site static`; it prints its port on the first line of
stdout and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache

from bench import corpus
from bench.common import ROOT

Answer = tuple[int, str, bytes, str]  # status, content type, body, etag
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found"}
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
        kind, _, rest = path.strip("/").partition("/")
        if not rest.isdigit() or int(rest) >= self.sources or kind not in ("live", "feed"):
            return 404, "text/plain", b"not found", '"404"'
        n = int(rest)
        count = self.count(n)
        etag = f'"{kind}-{n}-{count}"'
        body = _newsroom_body(kind, n, count)
        ctype = "text/html; charset=utf-8" if kind == "live" else "application/rss+xml"
        return 200, ctype, body, etag


@lru_cache(maxsize=256)
def _newsroom_body(kind: str, n: int, count: int) -> bytes:
    items = _source_posts(n, count)[-SHOWN:]
    url = f"http://bench.invalid/{kind}/{n}"
    if kind == "live":
        return corpus.liveblog_page(url, f"Direct {n}", items).encode()
    return corpus.rss_feed(url, f"Flux {n}", items).encode()


def _source_posts(n: int, count: int) -> list[corpus.Post]:
    start = corpus.BASE_TIME + timedelta(minutes=n % 600)
    return corpus.posts(10_000 + n, count, start, timedelta(minutes=3))


class Server:
    def __init__(self, answer: Callable[[str], Answer]) -> None:
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
                    status, ctype, body, etag = self.answer(path)
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
        finally:
            writer.close()


async def serve(site: Callable[[str], Answer], port: int) -> None:
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
    parser.add_argument("--site", choices=("static", "newsroom"), required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--every", type=float, default=60.0)
    args = parser.parse_args()
    site = static_site() if args.site == "static" else NewsroomSite(args.sources, args.every)
    asyncio.run(serve(site, args.port))


if __name__ == "__main__":
    main()
