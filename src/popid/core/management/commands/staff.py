"""`popid staff create|token|list`: manage staff accounts and API tokens from the shell."""

from __future__ import annotations

import secrets
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from popid.core import admin_units
from popid.core.auth import issue_staff_token
from popid.core.models import Role, ScopeLevel, StaffRole


def unit_name_for(level: str, unit_code: str) -> str:
    if level == ScopeLevel.NATION:
        return "Bộ Công an"
    unit = admin_units.commune(unit_code) if level == ScopeLevel.COMMUNE else admin_units.province(unit_code)
    if unit is None:
        raise CommandError(f"unknown {level} code {unit_code!r}")
    return f"Công an {unit.name[0].lower()}{unit.name[1:]}"


class Command(BaseCommand):
    help = "Create staff accounts bound to a unit, issue API tokens, list staff."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a staff user")
        create.add_argument("username")
        create.add_argument("--role", choices=Role.values, required=True)
        create.add_argument("--level", choices=ScopeLevel.values, required=True)
        create.add_argument("--unit", default="", help="commune (5 digits) or province (2 digits) code")
        create.add_argument("--password", help="default: a random one, printed once")
        token = sub.add_parser("token", help="issue a bearer token for a staff user")
        token.add_argument("username")
        token.add_argument("--name", default="cli")
        token.add_argument("--days", type=int, default=90)
        sub.add_parser("list", help="list staff and their units")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    @transaction.atomic
    def _create(self, options: dict[str, Any]) -> None:
        level, unit = options["level"], options["unit"]
        if (level == ScopeLevel.NATION) != (unit == ""):
            raise CommandError("--unit is required for commune/province level and not allowed for nation")
        user_model = get_user_model()
        if user_model.objects.filter(username=options["username"]).exists():
            raise CommandError(f"user {options['username']} exists")
        password = options["password"] or secrets.token_urlsafe(12)
        user = user_model.objects.create_user(username=options["username"], password=password)
        StaffRole.objects.create(user=user, role=options["role"], level=level, unit_code=unit,
                                 unit_name=unit_name_for(level, unit))
        self.stdout.write(f"created {user.username} ({options['role']}, {level} {unit})")
        if not options["password"]:
            self.stdout.write(f"password: {password}")

    def _token(self, options: dict[str, Any]) -> None:
        user = get_user_model().objects.filter(username=options["username"], staff_role__isnull=False).first()
        if user is None:
            raise CommandError(f"no staff user {options['username']}")
        raw = issue_staff_token(user=user, name=options["name"],
                                expires_at=timezone.now() + timedelta(days=options["days"]))
        self.stdout.write(raw)

    def _list(self, options: dict[str, Any]) -> None:
        for role in StaffRole.objects.select_related("user").order_by("level", "unit_code", "user__username"):
            self.stdout.write(f"{role.user.username:<24} {role.role:<11} {role.level:<9} {role.unit_code:<6} "
                              f"{role.unit_name}")
