"""Serve the newsroom by hand: `python -m tests.newsroom serve [--port N] [--auto-advance S]`.

The first line printed is the base URL; the server runs until interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from tests.newsroom.server import Newsroom


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.newsroom")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fixture site until interrupted")
    serve.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    serve.add_argument(
        "--auto-advance",
        type=float,
        default=None,
        metavar="S",
        help="move to the next state every S seconds",
    )
    serve.add_argument("--step", type=int, default=0, help="the step to start at")
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with Newsroom(auto_advance=args.auto_advance, step=args.step, port=args.port) as newsroom:
        print(newsroom.base_url, flush=True)
        print(f"steps 0..{newsroom.last_step}, serving step {newsroom.step}", file=sys.stderr)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
