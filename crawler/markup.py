"""HTML that libxml2 would not parse whole: nested past its depth limit, or going on after a
stray `</html>`.

libxml2 stops parsing at a nesting depth of 2048 (256 without `huge_tree`): whatever follows
100,000 nested `<div>`s, or thousands of unclosed `<b>`s, would be lost. `parse_markup`
parses once; only when the parser reports that limit is the markup flattened (`flatten`) and
parsed again.

Flattening is one linear pass over the tags, keeping a stack of the open elements. Up to
MAX_DEPTH every tag is kept. Deeper, an opening tag is dropped when its name is among the
last few open elements (the repetition a nesting bomb or an unclosed tag makes), so the
structure after it (a `<main>` and its `<article>`s) survives; past HARD_DEPTH every opening
tag is dropped. A closing tag closes the innermost open element of its name (one whose
opening was dropped is dropped with it); one that matches nothing near the top of the stack
is dropped. Text is always kept; script, style and the like are kept whole and their
contents not read for tags.
"""

from __future__ import annotations

import re

from lxml import etree

MAX_DEPTH = 100  # real pages nest 30 deep at most; below the fragment parser's 256
HARD_DEPTH = 200
_RECENT = 8  # open elements looked at for a repetition
_SEARCH = 256  # open elements a closing tag is matched against
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


def too_deep(parser: etree.HTMLParser) -> bool:
    """True when the last parse with `parser` stopped at libxml2's depth limit."""
    return any("depth" in e.message.lower() for e in parser.error_log)


class _Flattener:
    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (name, kept) of the open elements
        self.kept = 0

    def run(self) -> str:
        markup, pos = self.markup, 0
        while (m := _TAG_RE.search(markup, pos)) is not None:
            self.out.append(markup[pos : m.start()])
            pos = m.end()
            name = m[2].lower()
            if name in _RAW_TEXT:  # kept whole: its text is no markup
                self.out.append(m[0])
                if not m[1]:
                    end = _RAW_END[name].search(markup, pos)
                    stop = end.start() if end else len(markup)
                    self.out.append(markup[pos:stop])
                    pos = stop
            elif name in _VOID or name in _SELF_ENDING or m[0].endswith("/>"):
                self.out.append(m[0])
            elif m[1]:
                self.close(name, m[0])
            else:
                self.open(name, m[0])
        self.out.append(markup[pos:])
        return "".join(self.out)

    def open(self, name: str, tag: str) -> None:
        recent = {n for n, _ in self.stack[-_RECENT:]}
        keep = self.kept < MAX_DEPTH or (self.kept < HARD_DEPTH and name not in recent)
        self.stack.append((name, keep))
        if keep:
            self.kept += 1
            self.out.append(tag)

    def close(self, name: str, tag: str) -> None:
        low = max(0, len(self.stack) - _SEARCH)
        indexes = range(len(self.stack) - 1, low - 1, -1)
        at = next((i for i in indexes if self.stack[i][0] == name), None)
        if at is None:
            return  # closes nothing open: dropped, as a browser ignores it
        for above, kept in reversed(self.stack[at + 1 :]):  # implicitly closed: say so
            if kept:
                self.out.append(f"</{above}>")
                self.kept -= 1
        if self.stack[at][1]:
            self.out.append(tag)
            self.kept -= 1
        del self.stack[at:]


def flatten(markup: str) -> str:
    """The markup with the tags that would nest too deep dropped (text kept)."""
    return _Flattener(markup).run()


def parse_markup(data: bytes | str, parser: etree.HTMLParser) -> etree._Element | None:
    """The tree of an HTML document or fragment, flattened first if it nests too deep."""
    root = etree.fromstring(data, parser)
    if not too_deep(parser):
        return root
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    flat = flatten(text)
    return etree.fromstring(flat.encode("utf-8") if isinstance(data, bytes) else flat, parser)


def gather_stray(root: etree._Element) -> None:
    """Bring into the body what libxml2 left after the root element: after a stray
    `</body></html>`, it starts another `<html>` at the top of the document."""
    stray = list(root.itersiblings())
    if not stray:
        return
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    for el in stray:
        if el.tag != "html":
            body.append(el)
            continue
        for part in list(el):  # its head and body: their children join ours
            if part.tag not in ("head", "body"):
                body.append(part)
                continue
            if part.text:
                _append_text(body, part.text)
            body.extend(list(part))


def _append_text(el: etree._Element, text: str) -> None:
    if len(el):
        el[-1].tail = (el[-1].tail or "") + text
    else:
        el.text = (el.text or "") + text
