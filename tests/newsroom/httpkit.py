"""HTTP plumbing for the newsroom: request and log records, validators, the threaded server.

Kept apart from `server.py` (what the site serves) so that file stays about routes and time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """An incoming request, as route handlers see it. `target` is the path with its query."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    target: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class LoggedRequest:
    """One request the newsroom answered: path with query, status, request headers, time."""

    path: str
    status: int
    headers: dict[str, str]
    time: float
    method: str = "GET"


Response = tuple[int, dict[str, str], bytes]
RouteHandler = Callable[[Request], Response]


def make_etag(body: bytes) -> str:
    """A strong ETag: the quoted hash of the body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def conditional(request: Request, body: bytes, content_type: str, modified: datetime) -> Response:
    """A 200 with validators, or a 304 when the request's validators still match."""
    headers = {"ETag": make_etag(body), "Last-Modified": format_datetime(modified, usegmt=True)}
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if headers["ETag"] in tags or "*" in tags:
            return 304, headers, b""
    elif (since := _http_date(request.header("If-Modified-Since"))) and since >= modified:
        return 304, headers, b""
    return 200, {"Content-Type": content_type, **headers}, body


def _http_date(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


class Responder(Protocol):
    """What the HTTP handler needs from the site."""

    def respond(self, request: Request) -> Response: ...

    def log_request(self, request: Request, status: int) -> None: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: Responder) -> None:
        super().__init__(address, Handler)
        self.site = site

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up mid-answer are normal here: stay quiet."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newsroom/1.0"
    timeout = 30
    server: Server

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        request = Request(
            self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), self.path
        )
        site = self.server.site
        try:
            status, headers, body = site.respond(request)
        except Exception as exc:  # a broken test route answers 500, the server lives on
            status, headers, body = (
                500,
                {"Content-Type": "text/plain"},
                f"newsroom: {exc!r}".encode(),
            )
        site.log_request(request, status)
        self.send_response(status)
        if status != 304 and not any(k.lower() == "content-length" for k in headers):
            headers = {**headers, "Content-Length": str(len(body))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and status not in (204, 304) and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """No stderr chatter."""
