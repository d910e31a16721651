"""A loopback webhook receiver for the alert tests: records every request (path, headers,
body) and answers per path as a test tells it: 200, a status a given number of times then
200, or never (a channel that hangs, after reading the request: what a send killed
mid-flight looks like from the receiver's side). Its `unique()` is what a consumer that
drops copies by `X-Vigie-Delivery` keeps."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def key(self) -> str | None:
        return self.header("X-Vigie-Delivery")

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.plans: dict[str, list[int]] = {}  # path -> statuses to answer first
        self.hang: set[str] = set()  # paths that never answer
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                body = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                with receiver.lock:
                    receiver.received.append(Received(path, dict(self.headers), body))
                    plan = receiver.plans.get(path)
                    status = plan.pop(0) if plan else 200
                    hang = path in receiver.hang
                if hang:
                    receiver.released.wait(60)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def unique(self, path: str) -> dict[str, Received]:
        """The requests a consumer keeps that drops copies by delivery key."""
        kept: dict[str, Received] = {}
        for r in self.at(path):
            if r.key is not None:
                kept.setdefault(r.key, r)
        return kept

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
