"""The no-op task of bench_tasks.py (a module of its own: the worker imports it by path after
Django is set up)."""

from popid.core.tasks import background


@background(max_attempts=1)
def noop() -> None:
    return None
