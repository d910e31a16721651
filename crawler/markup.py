"""HTML nested deeper than libxml2 goes, made shallow enough to parse whole.

libxml2 stops parsing at a nesting depth of 2048 (256 without `huge_tree`): whatever follows
100,000 nested `<div>`s, or thousands of unclosed `<b>`s, would be lost. `parse_markup`
parses once; only when the parser reports that limit is the markup flattened (`flatten`) and
parsed again. Flattening is one linear pass over the tags: an opening tag that would nest
deeper than MAX_DEPTH is dropped, and so is the closing tag that matches it. Text is kept;
script, style and the like are kept whole and their contents not read for tags.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

MAX_DEPTH = 200  # below the fragment parser's 256; real pages nest 30 deep at most
# A tag with its attributes; a quoted value may hold "<" and ">". The alternatives start with
# different characters: no backtracking between them.
_TAG_RE = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^<>"']|"[^"]*"|'[^']*')*>""")
_VOID = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()  # noqa: SIM905
)
# Closed by the next of their kind: they add no depth that lasts.
_SELF_ENDING = frozenset("p li dt dd tr td th option".split())  # noqa: SIM905
_RAW_TEXT = frozenset("script style textarea title xmp plaintext noscript template".split())  # noqa: SIM905
_RAW_END = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _RAW_TEXT}


def too_deep(parser: etree._FeedParser) -> bool:
    """True when the last parse with `parser` stopped at libxml2's depth limit."""
    return any("depth" in e.message.lower() for e in parser.error_log)


def flatten(markup: str, max_depth: int = MAX_DEPTH) -> str:
    """The markup with the tags that nest deeper than `max_depth` dropped (text kept)."""
    out: list[str] = []
    depth, pos = 0, 0
    dropped: Counter[str] = Counter()
    while (m := _TAG_RE.search(markup, pos)) is not None:
        out.append(markup[pos : m.start()])
        pos = m.end()
        closing, name = m[1] == "/", m[2].lower()
        if name in _RAW_TEXT:  # kept, and its text is no markup: skip to its end
            out.append(m[0])
            if not closing:
                found = _RAW_END[name].search(markup, pos)
                end = found.start() if found else len(markup)
                out.append(markup[pos:end])
                pos = end
        elif name in _VOID or name in _SELF_ENDING or m[0].endswith("/>"):
            out.append(m[0])
        elif closing:
            if dropped[name]:
                dropped[name] -= 1
            else:
                depth = max(0, depth - 1)
                out.append(m[0])
        elif depth >= max_depth:
            dropped[name] += 1
        else:
            depth += 1
            out.append(m[0])
    out.append(markup[pos:])
    return "".join(out)


def parse_markup(data: bytes | str, parser: etree.HTMLParser) -> etree._Element | None:
    """The tree of an HTML document or fragment, flattened first if it nests too deep."""
    root = etree.fromstring(data, parser)
    if not too_deep(parser):
        return root
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    flat = flatten(text)
    return etree.fromstring(flat.encode("utf-8") if isinstance(data, bytes) else flat, parser)
