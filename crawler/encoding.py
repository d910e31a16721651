"""Bytes of a page → text, robust to missing and wrong charset declarations.

Order of belief: a byte-order mark; then UTF-8 when the bytes are valid UTF-8 (text in a
single-byte charset almost never is, so a page declaring latin-1 but sent as UTF-8 comes out
right); then the HTTP header's charset; then `<meta charset>`; then windows-1252, which is
what browsers do with undeclared or wrongly declared Western pages.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# Browsers read these labels as windows-1252: the 0x80-0x9F range holds ’ “ ” – … there.
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header."""
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", content_type, re.I)
    return m.group(1) if m else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_page(data: bytes, declared: str | None = None) -> tuple[str, str, list[str]]:
    """(text, codec used, warnings) for the bytes of an HTML page."""
    warnings: list[str] = []
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec, warnings
    meta = _META_CHARSET.search(data[:4096])
    labels = [declared, meta.group(1).decode("ascii", "replace") if meta else None]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        said = [c for c in map(_codec, labels) if c]
        if said and said[0] not in ("utf-8", "ascii") and not text.isascii():
            warnings.append(f"page: declared {labels[0] or labels[1]} but is UTF-8: read as UTF-8")
        return text, "utf-8", warnings
    for label in labels:
        codec = _codec(label)
        if label and codec is None:
            warnings.append(f"page: unknown charset {label!r}")
        if codec and codec != "utf-8":
            return data.decode(codec, errors="replace"), codec, warnings
    if any(_codec(label) == "utf-8" for label in labels):
        warnings.append("page: declared UTF-8 but is not: read as windows-1252")
    else:
        warnings.append("page: no usable charset declared and not UTF-8: read as windows-1252")
    return data.decode("cp1252", errors="replace"), "cp1252", warnings
