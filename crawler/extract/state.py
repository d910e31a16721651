"""Application state embedded in a page's scripts → JSON values, bounded, never executed.

Pages that render client-side ship their data in scripts: `<script id="__NEXT_DATA__"
type="application/json">`, Nuxt 3's `__NUXT_DATA__` (the "devalue" format: a flat array whose
numbers point into it), `window.__APOLLO_STATE__ = {…}`, `window.__INITIAL_STATE__ =
JSON.parse("…")`, sometimes encoded (`JSON.parse(atob("…"))`, `decodeURIComponent("%7B…")`),
and Next.js app-router payloads (`self.__next_f.push([1, "…"])`). This module finds such
values and decodes them; it reads JSON only (a JavaScript object literal that is not JSON is
skipped) and bounds everything: script and total sizes, decoding layers, nesting, node
counts and time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from lxml import etree

MAX_SCRIPT = 8_000_000  # characters of one script
MAX_TOTAL = 24_000_000  # characters decoded for one page
MAX_VALUES = 64  # JSON values kept per page
MAX_LAYERS = 3  # JSON in a string in base64 ...
MAX_NODES = 300_000  # devalue entries hydrated
TIME_BUDGET = 1.0  # seconds for one page
_SCRIPTS = etree.XPath("//script[not(@src)]")
_ASSIGN_RE = re.compile(
    r"(?:(?:window|self|globalThis)\s*(?:\.\s*[\w$]+|\[\s*[\"'][\w$]+[\"']\s*\])"
    r"|(?:var|let|const)\s+[\w$]+|\b__[\w$]+__)\s*=(?!=)\s*"
)
_CALL_RE = re.compile(r"\b(JSON\.parse|atob|decodeURIComponent|unescape)\s*\(\s*")
_NEXT_F_RE = re.compile(r"self\.__next_f\.push\(\s*\[\s*1\s*,\s*")
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/_-]{24,}={0,2}$")
_URI_RE = re.compile(r"^(?:%[0-9A-Fa-f]{2}|[\w.~-])*%(?:7B|5B|22)", re.IGNORECASE)
_RSC_LINE_RE = re.compile(r"^[0-9a-f]{1,8}:(?=[\[{])", re.MULTILINE)
_HINT_RE = re.compile(r"[{\[]|JSON\.parse|atob\(|decodeURIComponent\(|__next_f")
_DECODER = json.JSONDecoder(strict=False)
_JS_TYPES = frozenset({"", "text/javascript", "application/javascript", "module"})
_DEVALUE_WRAPPERS = frozenset({"Reactive", "ShallowReactive", "Ref", "ShallowRef", "EmptyRef"})


class _Budget(Exception):
    """The page's decoding budget (size or time) is spent."""


@dataclass(slots=True)
class _Scan:
    deadline: float
    used: int = 0
    values: list[Any] = field(default_factory=list)

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > MAX_TOTAL or time.monotonic() > self.deadline:
            raise _Budget

    def keep(self, value: Any) -> None:
        if isinstance(value, dict | list) and value and len(self.values) < MAX_VALUES:
            self.values.append(value)


def _loads(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _raw_decode(text: str, start: int, scan: _Scan) -> tuple[Any, int] | None:
    """The JSON value at `start`; what was read is charged to the scan, parsed or not (a
    script of many broken objects costs its size, not its size squared)."""
    try:
        value, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        scan.spend(max(1, exc.pos - start))
        return None
    except (ValueError, RecursionError):
        scan.spend(len(text) - start)
        return None
    scan.spend(end - start)
    return value, end


def js_string(text: str, start: int, scan: _Scan | None = None) -> tuple[str, int] | None:
    """The JavaScript string literal at `start` ('…' or "…") and the index after it."""
    quote = text[start : start + 1]
    if quote not in ("'", '"'):
        return None
    end = min(len(text), start + 1 + MAX_SCRIPT)
    i = start + 1
    while True:  # str.find in C, not a loop per character
        found = min(
            (j for j in (text.find(quote, i, end), text.find("\\", i, end)) if j >= 0),
            default=-1,
        )
        if found < 0:
            if scan is not None:
                scan.spend(end - start)
            return None
        if text[found] == "\\":
            i = found + 2
            continue
        i = found
        break
    if scan is not None:
        scan.spend(i - start)
    body = text[start + 1 : i]
    body = re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", body)
    if quote == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    body = re.sub(r"\\([^\"\\/bfnrtu])", r"\1", body)  # JS escapes JSON does not know
    value = _loads(f'"{body}"')
    return (value, i + 1) if isinstance(value, str) else None


def decode_layers(text: str, scan: _Scan, layers: int = MAX_LAYERS) -> Any:
    """A value from a string that is JSON, or base64 or URI-encoded JSON, a few layers deep."""
    text = text.strip()
    if layers <= 0 or not text:
        return None
    scan.spend(len(text))
    if text[0] in "{[":
        return _loads(text)
    if _URI_RE.match(text):
        return decode_layers(unquote(text), scan, layers - 1)
    if _BASE64_RE.match(text):
        padded = text + "=" * (-len(text) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return decode_layers(decoded, scan, layers - 1)
    return None


def unflatten(data: list[Any]) -> Any:
    """Nuxt's devalue format → the value it encodes (index 0 is the root), bounded."""
    memo: dict[int, Any] = {}
    count = 0

    def get(index: Any, depth: int) -> Any:
        nonlocal count
        if not isinstance(index, int) or isinstance(index, bool):
            return None
        if index < 0 or index >= len(data) or depth > 64:
            return None
        if index in memo:
            return memo[index]
        count += 1
        if count > MAX_NODES:
            raise _Budget
        raw = data[index]
        if isinstance(raw, dict):
            out: dict[str, Any] = {}
            memo[index] = out
            for key, ref in raw.items():
                out[key] = get(ref, depth + 1)
            return out
        if isinstance(raw, list):
            if raw and isinstance(raw[0], str):
                if raw[0] in _DEVALUE_WRAPPERS and len(raw) > 1:
                    value = get(raw[1], depth + 1)
                    memo[index] = value
                    return value
                if raw[0] == "Date" and len(raw) > 1:
                    memo[index] = raw[1]
                    return raw[1]
                memo[index] = None  # Set, Map, RegExp, BigInt: no posts in them
                return None
            items: list[Any] = []
            memo[index] = items
            items.extend(get(ref, depth + 1) for ref in raw)
            return items
        memo[index] = raw
        return raw

    try:
        return get(0, 0)
    except _Budget:
        return None


def _devalue(value: Any, script: etree._Element) -> bool | None:
    """True for Nuxt's `__NUXT_DATA__`; None when the value merely looks like devalue."""
    if not isinstance(value, list) or len(value) < 2:
        return False
    if script.get("id") == "__NUXT_DATA__" or script.get("data-nuxt-data") is not None:
        return True
    head = value[0]
    if isinstance(head, list):
        looks = (
            len(head) == 2
            and isinstance(head[0], str)
            and head[0] in _DEVALUE_WRAPPERS
            and isinstance(head[1], int)
        )
    else:
        looks = (
            isinstance(head, dict)
            and bool(head)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in head.values())
        )
    return None if looks else False


def _next_flight(text: str, scan: _Scan, chunks: list[str]) -> None:
    for m in _NEXT_F_RE.finditer(text):
        found = js_string(text, m.end(), scan)
        if found is not None:
            chunks.append(found[0])


def _from_javascript(text: str, scan: _Scan) -> None:
    for m in _CALL_RE.finditer(text):
        pos = m.end()
        # JSON.parse(atob("…")), JSON.parse(decodeURIComponent('…')): skip inner calls.
        while (inner := _CALL_RE.match(text, pos)) is not None:
            pos = inner.end()
        found = js_string(text, pos, scan)
        if found is not None:
            scan.keep(decode_layers(found[0], scan))
    for m in _ASSIGN_RE.finditer(text):
        start = m.end()
        if start < len(text) and text[start] in "{[":
            decoded = _raw_decode(text, start, scan)
            if decoded is not None:
                scan.keep(decoded[0])
        elif start < len(text) and text[start] in "'\"":
            found = js_string(text, start, scan)
            if found is not None and len(found[0]) > 40:
                scan.keep(decode_layers(found[0], scan))


def state_values(root: etree._Element, budget: float = TIME_BUDGET) -> list[Any]:
    """The JSON values of the page's embedded application state, in page order."""
    scan = _Scan(deadline=time.monotonic() + budget)
    flight: list[str] = []
    try:
        for script in _SCRIPTS(root):
            kind = (script.get("type") or "").strip().lower()
            text = script.text or ""
            if "ld+json" in kind or len(text) > MAX_SCRIPT or len(text) < 20:
                continue
            if "json" in kind:
                scan.spend(len(text))
                value = _loads(text)
                if value is None:
                    value = decode_layers(text, scan)
                devalue = _devalue(value, script)
                if devalue is not False:
                    scan.keep(unflatten(value))
                if devalue is not True:
                    scan.keep(value)
            elif kind in _JS_TYPES and _HINT_RE.search(text):
                scan.spend(len(text) // 10)  # scanned, not decoded: a tenth of its size
                _next_flight(text, scan, flight)
                _from_javascript(text, scan)
        if flight:
            payload = "".join(flight)
            for m in _RSC_LINE_RE.finditer(payload):
                decoded = _raw_decode(payload, m.end(), scan)
                if decoded is not None:
                    scan.keep(decoded[0])
    except _Budget:
        pass
    return scan.values
