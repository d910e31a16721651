"""Readable word diffs between two revisions, with rich markup: [-removed-] {+added+}."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from rich.markup import escape

_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str, *, markup: bool = True) -> str:
    """The new text with removed words struck out and added words marked."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            out.append(escape(added) if markup else added)
            continue
        if removed.strip():
            out.append(f"[red strike][-{escape(removed)}-][/]" if markup else f"[-{removed}-]")
        if added.strip():
            out.append(f"[green]{{+{escape(added)}+}}[/]" if markup else f"{{+{added}+}}")
        elif added:
            out.append(added)
    return "".join(out)
