"""Untrusted text made safe to show on a terminal, and handed to rich only as plain text.

Headlines, bodies, URLs and errors come from other people's servers. Printed raw, an
escape sequence could clear the screen, move the cursor, retitle the window or plant a
hyperlink (OSC 8); a carriage return or backspaces could overprint a line; a bidi override
(U+202E) could make text read backwards; and rich would read `[/bold]` or `[link=...]` as
markup (or crash on it). `safe` makes every such character visible instead; `plain_text`
wraps the result in a `rich.text.Text`, which rich never parses for markup or emoji codes.
"""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

# Bidi embeddings, overrides and isolates, the marks, and the Arabic letter mark.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Quick test: anything outside printable ASCII plus \t \n may need a look.
_MAYBE_UNSAFE = re.compile(r"[^\t\n\x20-\x7e]")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ ␍ ␈ ␀ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def _unsafe(char: str) -> bool:
    if char in "\t\n":
        return False
    if char in _BIDI:
        return True
    # Cc: C0/C1 controls; Cs: lone surrogates; Zl/Zp: line and paragraph separators,
    # which some terminals take as a new line.
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def safe(text: object, *, newlines: bool = True) -> str:
    """`text` as a string whose control characters are shown, not obeyed (ESC as ␛, CR as ␍,
    a bidi override as <U+202E>); newline and tab kept, or shown too when `newlines` is
    False (a table cell, a one-line message)."""
    value = "" if text is None else str(text)
    if _MAYBE_UNSAFE.search(value) is None and (newlines or "\n" not in value):
        return value.replace("\t", " ") if not newlines else value
    out = []
    for char in value:
        if char in "\t\n" and not newlines:
            out.append(" ")
        elif _unsafe(char):
            out.append(_visible(char))
        else:
            out.append(char)
    return "".join(out)


def plain_text(text: object, *, newlines: bool = True, style: str = "") -> Text:
    """`safe(text)` as rich Text: printed exactly as it reads, never parsed as markup."""
    return Text(safe(text, newlines=newlines), style=style)
