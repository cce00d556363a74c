"""The `popid` console script: Django's manage.py with PopID's settings, and a `popid help` that
lists PopID's own commands (grouped, one line each) instead of Django's developer commands."""

from __future__ import annotations

import os
import sys

# Apps in the order an operator meets them; a command of an app not listed goes under "other".
GROUPS = {
    "popid.core": "Vận hành và khoá / Operations and keys",
    "popid.ops": "Vận hành và khoá / Operations and keys",
    "popid.registry": "Cơ sở dữ liệu dân cư / Population registry",
    "popid.matching": "Đối sánh bản ghi / Record matching",
    "popid.identity": "Định danh điện tử / Digital identity",
    "popid.services": "Dịch vụ công / Public services",
    "popid.exchange": "Chia sẻ dữ liệu / Data sharing",
    "popid.ledger": "Sổ cái truy cập / Access ledger",
    "popid.documents": "Giấy tờ / Documents",
    "popid.wallet": "Ví giấy tờ số / Document wallet",
    "popid.traffic": "Giao thông / Traffic",
    "popid.immigration": "Xuất nhập cảnh / Immigration",
    "popid.police": "Công an / Police",
}
DJANGO_KEPT = ("migrate", "createsuperuser", "check", "runserver", "shell", "dbshell", "changepassword")


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def popid_commands() -> dict[str, list[tuple[str, str]]]:
    """PopID's commands by group: name and the first line of its help."""
    from django.core.management import get_commands, load_command_class

    grouped: dict[str, list[tuple[str, str]]] = {}
    for name, app in sorted(get_commands().items()):
        if not app.startswith("popid"):
            continue
        group = GROUPS.get(app) or next((title for prefix, title in GROUPS.items() if app.startswith(prefix + ".")),
                                        "Khác / Other")
        command = load_command_class(app, name)
        summary = _first_line(command.help) or _first_line(sys.modules[type(command).__module__].__doc__ or "")
        grouped.setdefault(group, []).append((name, summary))
    return grouped


def print_help(with_django: bool) -> None:
    import django

    django.setup()
    print("popid COMMAND [options]   (popid help COMMAND: the options of one command)\n")
    order = list(dict.fromkeys(GROUPS.values()))
    grouped = popid_commands()
    for group in sorted(grouped, key=lambda g: order.index(g) if g in order else len(order)):
        print(group)
        for name, summary in grouped[group]:
            print(f"  {name:<14} {summary}")
        print()
    print("Django: " + ", ".join(DJANGO_KEPT) + ("" if with_django else "   (popid help --django: all of them)"))
    if with_django:
        from django.core.management import get_commands

        others = sorted(n for n, app in get_commands().items() if not app.startswith("popid"))
        print("  " + ", ".join(others))


def main() -> None:
    """Run a Django management command with PopID's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
    args = sys.argv[1:]
    if not args or args in (["help"], ["--help"], ["-h"], ["help", "--django"]):
        print_help(with_django="--django" in args)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
