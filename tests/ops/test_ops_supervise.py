"""``make run``'s supervisor: Ctrl-C (SIGINT) stops every child, grandchildren included, and the
exit of one command stops the others."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its parent is gone for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _wait_for(path: Path, lines: int, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(found := path.read_text().split()) >= lines:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{path} never had {lines} lines")


def _child(tmp_path: Path, name: str, *, spawn_grandchild: bool = False, ignore_term: bool = False) -> str:
    code = ["import os, signal, subprocess, sys, time"]
    if ignore_term:
        code.append("signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    if spawn_grandchild:
        code.append("g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])")
        code.append(f"open({str(tmp_path / 'pids')!r}, 'a').write(str(g.pid) + chr(10))")
    code.append(f"open({str(tmp_path / 'pids')!r}, 'a').write(str(os.getpid()) + chr(10))")
    code.append("time.sleep(600)")
    return f"{sys.executable} -c \"{'; '.join(code)}\""


def test_ctrl_c_stops_every_child_and_grandchild(tmp_path):
    supervisor = subprocess.Popen([sys.executable, "-m", "popid.core.supervise", "--grace", "2",
                                   _child(tmp_path, "web", spawn_grandchild=True),
                                   _child(tmp_path, "worker", ignore_term=True)])
    pids = [int(p) for p in _wait_for(tmp_path / "pids", 3)]
    assert all(_alive(pid) for pid in pids)
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if _alive(pid)]  # the SIGTERM-ignoring one got SIGKILL


def test_one_command_exiting_stops_the_others(tmp_path):
    supervisor = subprocess.Popen([sys.executable, "-m", "popid.core.supervise", "--grace", "2",
                                   f"{sys.executable} -c \"import sys, time; time.sleep(1.5); sys.exit(3)\"",
                                   _child(tmp_path, "worker")])
    assert supervisor.wait(timeout=30) == 3
    pids = [int(p) for p in _wait_for(tmp_path / "pids", 1)]
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if _alive(pid)]
