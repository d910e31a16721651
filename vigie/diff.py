"""Readable word diffs between two revisions: [-removed-] {+added+} as plain text (JSON, the
API), as pieces for the web page to mark up, or as rich Text with the removed words struck
out in red and the added ones in green (`vigie show`), the words made safe for a terminal
and never read as markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

from rich.text import Text

from vigie.terminal import safe

_TOKEN = re.compile(r"\s+|[^\s]+")


def _parts(old: str, new: str) -> Iterator[tuple[str, str]]:
    """("equal" | "removed" | "added", text) pieces that read as the new text."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            yield "equal", added
            continue
        if removed.strip():
            yield "removed", removed
        if added.strip():
            yield "added", added
        elif added:
            yield "equal", added


def word_diff_parts(old: str, new: str) -> list[tuple[str, str]]:
    """The pieces of `word_diff` as ("equal" | "removed" | "added", text): for a web page,
    which marks them up itself (vigie/web)."""
    return list(_parts(old, new))


def word_diff(old: str, new: str) -> str:
    """The new text with removed words as [-words-] and added words as {+words+}."""
    marks = {"equal": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
    return "".join(marks[kind].format(text) for kind, text in _parts(old, new))


def word_diff_text(old: str, new: str) -> Text:
    """`word_diff` for people: the same marks, styled, every piece safe for a terminal."""
    styles = {"equal": "", "removed": "red strike", "added": "green"}
    marks = {"equal": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
    out = Text()
    for kind, text in _parts(old, new):
        out.append(marks[kind].format(safe(text)), style=styles[kind])
    return out
