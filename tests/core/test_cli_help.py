"""`popid help` lists PopID's own commands grouped with one line each; `make run`'s port check
fails at once, with the way out, when the port is taken (issue #19 item 8)."""

from __future__ import annotations

import socket
import sys

import pytest

from popid import cli
from popid.core import portcheck


def _help(monkeypatch, capsys, *args: str) -> str:
    monkeypatch.setattr(sys, "argv", ["popid", *args])
    cli.main()
    return capsys.readouterr().out


@pytest.mark.parametrize("args", [(), ("help",), ("--help",)])
def test_help_lists_popids_commands_grouped_with_a_line_each(monkeypatch, capsys, args):
    out = _help(monkeypatch, capsys, *args)
    assert "Cơ sở dữ liệu dân cư / Population registry" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    for command in ("seed", "quality", "match", "ledger", "worker", "backup", "verify", "mrz"):
        assert command in lines, command
        assert len(lines[command].split(None, 1)) == 2, f"{command} has no description"
    assert "makemigrations" not in out and "collectstatic" not in out  # Django's developer commands stay out


def test_help_django_adds_djangos_commands(monkeypatch, capsys):
    assert "makemigrations" in _help(monkeypatch, capsys, "help", "--django")


def test_port_check_refuses_a_taken_port_and_says_how_to_choose(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert not portcheck.port_is_free("127.0.0.1", port)
        assert portcheck.main(["127.0.0.1", str(port)]) == 1
        assert "make run PORT=" in capsys.readouterr().err
    assert portcheck.port_is_free("127.0.0.1", port)
