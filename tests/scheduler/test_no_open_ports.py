"""`vigie run` listens on nothing: no Scrapy telnet console, no remote-control HTTP server
(Scrapy 2.19 starts one by default that runs the Python code it is sent), no UDP socket.
The real daemon is asked once it has polled, from its own /proc entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import write_config
from tests.newsroom.server import Newsroom
from tests.scheduler.test_daemon import DaemonProcess, wait_for

pytestmark = pytest.mark.slow

TCP_LISTEN = "0A"
UNIX_ACCEPTING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix flags: a listening socket


def family(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def address(hex_address: str) -> str:
    """An address of /proc/net/tcp as IP:port: "0100007F:1F90" is 127.0.0.1:8080 (IPv6 as is)."""
    host, port = hex_address.split(":")
    if len(host) == 8:
        host = ".".join(str(b) for b in reversed(bytes.fromhex(host)))
    return f"{host}:{int(port, 16)}"


def open_ports(pid: int) -> list[str]:
    """Listening TCP sockets, bound UDP sockets and listening Unix sockets the process holds."""
    mine = socket_inodes(pid)
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            local, st, inode = fields[1], fields[3], fields[9]
            if inode in mine and (proto.startswith("udp") or st == TCP_LISTEN):
                found.append(f"{proto} {address(local)}")
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        flags, inode = int(fields[3], 16), fields[6]
        if inode in mine and flags & UNIX_ACCEPTING:
            found.append(f"unix {fields[7] if len(fields) > 7 else '(unnamed)'}")
    return found


def test_the_daemon_listens_on_no_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scrapy's remote control would also write its port and token under the state directory.
    state_home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    with Newsroom() as site:
        config = write_config(
            tmp_path / "config.toml",
            [
                {"name": "rss", "url": site.url("/feeds/rss.xml"), "kind": "feed"},
                {"name": "atom", "url": site.url("/feeds/atom.xml"), "kind": "feed"},
            ],
            scheduler={"default_interval": "1s"},
        )
        daemon = DaemonProcess(config)
        try:
            wait_for(
                lambda: site.count("/feeds/rss.xml") >= 2 and site.count("/feeds/atom.xml") >= 2,
                60,
                "two polls of each source",
            )
            assert daemon.proc.poll() is None, daemon.output()
            held = {pid: open_ports(pid) for pid in family(daemon.proc.pid)}
            assert not any(held.values()), held
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
    assert not state_home.exists() or not any(state_home.rglob("*")), list(state_home.rglob("*"))
