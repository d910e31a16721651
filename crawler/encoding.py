"""Bytes of a document (HTML page or XML feed) → text, robust to missing and wrong charsets.

The one place the crawler decodes bytes, on w3lib's readers of byte-order marks, Content-Type
charsets and in-document declarations (`<meta charset>`, `<?xml encoding?>`), and its
WHATWG label table (`latin-1` and `ascii` read as windows-1252, `gb2312` as gb18030; `utf-7`
refused). Order of belief:

1. a byte-order mark (UTF-8, UTF-16, UTF-32), else the XML rule for a document starting with
   `<` in UTF-16/32 without one;
2. a charset of UTF-16/32 in the HTTP header (such bytes may pass for UTF-8: ASCII and NULs);
3. UTF-8 when the bytes are UTF-8, allowing a last character cut by the end of a truncated
   download (text in a single-byte charset almost never is UTF-8, so a page declaring latin-1
   but sent as UTF-8 comes out right);
4. the HTTP header's charset, then the document's declaration;
5. windows-1252, which is what browsers do with undeclared or wrongly declared Western pages.

Bytes a codec cannot read become U+FFFD; nothing here raises on hostile bytes.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

# XML 1.0 appendix F: the first character of a document is "<" (or whitespace), so its bytes
# tell a UTF-16/32 document that carries no byte-order mark.
_NO_BOM_UNICODE = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_WIDE = ("utf-16", "utf-32")


@dataclass(frozen=True)
class Decoded:
    """A document's text, the codec it was read with, and what was wrong on the way."""

    text: str
    codec: str
    warnings: tuple[str, ...] = ()


def header_charset(content_type: str | None) -> str | None:
    """The codec a Content-Type header's charset names; None when absent or unknown."""
    return http_content_type_encoding(content_type)


def _utf8(data: bytes) -> str | None:
    """The text when `data` is UTF-8 (its last character may be cut off), else None."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return None
    return text if len(text.encode("utf-8")) == len(data) else text + "\ufffd"


def _wide(codec: str) -> str:
    """A UTF-16/32 codec with its byte order (big-endian without a mark, RFC 2781)."""
    return f"{codec}-be" if codec in _WIDE else codec


def decode(data: bytes, declared: str | None = None, *, what: str = "page") -> Decoded:
    """The text of a document's bytes; `declared` is the HTTP header's charset (a label),
    `what` ("page", "feed") begins each warning."""
    bom, mark = read_bom(data)
    if bom and mark:
        return Decoded(to_unicode(data[len(mark) :], bom), bom)
    sniffed = next((c for start, c in _NO_BOM_UNICODE if data.startswith(start)), None)
    if sniffed:
        return Decoded(to_unicode(data, sniffed), sniffed)
    header = resolve_encoding(declared) if declared else None
    if header and header.startswith(_WIDE):
        header = _wide(header)
        return Decoded(to_unicode(data, header), header)
    inside = html_body_declared_encoding(data)
    if inside and inside.startswith(_WIDE):  # a declaration readable as ASCII is no UTF-16
        inside = "utf-8"
    said = header or inside
    warnings: list[str] = []
    if declared and header is None:
        warnings.append(f"{what}: unknown charset {declared[:40]!r}")
    text = _utf8(data)
    if text is not None:
        if said and said != "utf-8" and not text.isascii():
            warnings.append(f"{what}: declared {said} but is UTF-8: read as UTF-8")
        return Decoded(text, "utf-8", tuple(warnings))
    if said and said != "utf-8":
        return Decoded(to_unicode(data, said), said, tuple(warnings))
    if said == "utf-8":
        warnings.append(f"{what}: declared UTF-8 but is not: read as windows-1252")
    else:
        warnings.append(f"{what}: no usable charset declared and not UTF-8: read as windows-1252")
    return Decoded(to_unicode(data, "cp1252"), "cp1252", tuple(warnings))
