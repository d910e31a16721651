"""One bad part costs only that part: an extraction path, or one post, that fails is skipped
with a warning, and the rest of the document is kept.

`Guard.run` calls one part; a failure (an extractor bug on input nobody foresaw, recursion
too deep) is counted by part (the first logged with its traceback), and `Guard.warnings`
gives one line per failing part. A `DocumentError` (such as `crawler.extract.ExtractError`:
the configured selectors are invalid) is no failure of a part: the whole document is an
error, and it goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("vigie.crawler")


class DocumentError(Exception):
    """A failure of the whole document, not of one of its parts: a guard lets it through."""


class Guard:
    """The failures of the parts of one document."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._failures: dict[str, tuple[int, str]] = {}

    def run(self, part: str, fn: Callable[[], T], default: T) -> T:
        """`fn()`, or `default` when it fails."""
        try:
            return fn()
        except DocumentError:
            raise
        except RecursionError:
            self._failed(part, "nested too deep")
        except Exception as exc:  # a bug on unforeseen input must cost this part only
            if part not in self._failures:  # one traceback per part, not one per post
                log.warning("%s: %s failed", self.url, part, exc_info=True)
            self._failed(part, f"{type(exc).__name__}: {str(exc)[:120]}")
        return default

    def _failed(self, part: str, reason: str) -> None:
        count, first = self._failures.get(part, (0, reason))
        self._failures[part] = (count + 1, first)

    def warnings(self) -> list[str]:
        return [
            f"{part}: skipped after an error ({reason})" + (f", {n} times" if n > 1 else "")
            for part, (n, reason) in self._failures.items()
        ]
