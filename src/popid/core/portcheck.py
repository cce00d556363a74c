"""``python -m popid.core.portcheck HOST PORT``: fail in a second, before a minute of seeding, when
the port ``make run`` is about to serve on is taken, and say how to choose another."""

from __future__ import annotations

import socket
import sys


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (the same bind runserver will do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    if port_is_free(host, port):
        return 0
    print(f"Cổng {host}:{port} đang được dùng bởi chương trình khác. Chọn cổng khác, ví dụ: make run PORT=8001\n"
          f"Port {host}:{port} is already in use. Choose another one, e.g. make run PORT=8001", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
