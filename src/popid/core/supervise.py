"""Run several commands together and stop them together (``make run``: the web server and a
worker with its scheduler).

``python -m popid.core.supervise 'popid runserver 127.0.0.1:8000' 'popid worker --with-scheduler'``

Each command runs in its own process group. Ctrl-C (SIGINT), SIGTERM or the exit of any one
command stops every group: SIGTERM first, SIGKILL after ``--grace`` seconds, so no child
(runserver's autoreloader child included) outlives the supervisor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_all(procs: list[subprocess.Popen[bytes]], grace: float) -> None:
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:  # whatever is left, and grandchildren left in the groups
        _signal_group(proc, signal.SIGKILL)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            print(f"supervise: process {proc.pid} did not stop", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commands", nargs="+", help="each a command line, quoted")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    args = parser.parse_args(argv)
    stopping = {"signal": 0}

    def _on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    procs = []
    try:
        for line in args.commands:
            procs.append(subprocess.Popen(shlex.split(line), start_new_session=True))  # noqa: S603 - operator's own commands
            print(f"supervise: started pid {procs[-1].pid}: {line}", file=sys.stderr, flush=True)
        code = 0
        while not stopping["signal"]:
            exited = [p for p in procs if p.poll() is not None]
            if exited:
                code = exited[0].returncode
                print(f"supervise: pid {exited[0].pid} exited with {code}: stopping the others", file=sys.stderr)
                break
            time.sleep(0.2)
    finally:
        stop_all(procs, args.grace)
    return code if not stopping["signal"] else 0


if __name__ == "__main__":
    sys.exit(main())
