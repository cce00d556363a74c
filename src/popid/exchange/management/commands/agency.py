"""`popid agency create|add-subsystem|set-key|grant|revoke|suspend|resume|list|fields`: agencies from the shell.

Outputs JSON (the subsystem's client_id is what the agency puts in its client assertions)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from popid.core.access import Actor
from popid.core.errors import DomainError
from popid.exchange import management_services as manage
from popid.exchange import selectors
from popid.exchange.models import EventType, Grant, Service, Subsystem

CLI_ACTOR = Actor.system("popid agency (CLI)")


def _date_end(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise CommandError(f"--expires must be YYYY-MM-DD, got {value!r}") from exc
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _csv(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class Command(BaseCommand):
    help = "Manage agencies that receive registry data: subsystems (OAuth clients), grants, listing."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an agency")
        create.add_argument("--code", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--kind", default="")
        create.add_argument("--rate-per-minute", type=int, default=600)
        create.add_argument("--daily-quota", type=int, default=100_000)
        add = sub.add_parser("add-subsystem", help="add a subsystem with its public JWK (JSON file: JWK or JWKS)")
        add.add_argument("--agency", required=True)
        add.add_argument("--code", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--jwk-file", required=True)
        key = sub.add_parser("set-key", help="replace a subsystem's public key (key rotation)")
        key.add_argument("--agency", required=True)
        key.add_argument("--subsystem", required=True)
        key.add_argument("--jwk-file", required=True, help="JWK or JWKS; a JWKS may hold the old and new keys")
        grant = sub.add_parser("grant", help="grant a service for exact fields until a date")
        grant.add_argument("--agency", required=True)
        grant.add_argument("--subsystem", required=True)
        grant.add_argument("--service", required=True, choices=Service.values)
        grant.add_argument("--fields", default="", help="comma-separated catalogue fields")
        grant.add_argument("--events", default="", help=f"comma-separated, from {', '.join(EventType.values)}")
        grant.add_argument("--legal-basis", required=True)
        grant.add_argument("--expires", required=True, help="YYYY-MM-DD (valid through that day)")
        grant.add_argument("--confidential", action="store_true", help="may make hidden-until queries")
        revoke = sub.add_parser("revoke", help="revoke a grant by id")
        revoke.add_argument("grant_id", type=int)
        for name in ("suspend", "resume"):
            sub.add_parser(name, help=f"{name} an agency").add_argument("agency")
        listing = sub.add_parser("list", help="agencies, subsystems and grants as JSON")
        listing.add_argument("--agency", default="")
        sub.add_parser("fields", help="the field catalogue (sensitive fields need consent)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except DomainError as exc:
            reasons = "; ".join(e.get("message", "") for e in exc.errors()) or str(exc.detail or exc.title)
            raise CommandError(reasons) from exc

    def _print(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

    def _create(self, o: dict[str, Any]) -> None:
        agency = manage.create_agency(actor=CLI_ACTOR, code=o["code"], name=o["name"], kind=o["kind"],
                                      rate_per_minute=o["rate_per_minute"], daily_quota=o["daily_quota"])
        self._print(selectors.agency_summary(agency))

    def _add_subsystem(self, o: dict[str, Any]) -> None:
        try:
            jwks = json.loads(Path(o["jwk_file"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read JWK: {exc}") from exc
        subsystem = manage.create_subsystem(actor=CLI_ACTOR, agency=manage.get_agency(o["agency"]), code=o["code"],
                                            name=o["name"], jwks=jwks)
        self._print(selectors.subsystem_summary(subsystem))

    def _set_key(self, o: dict[str, Any]) -> None:
        try:
            jwks = json.loads(Path(o["jwk_file"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read JWK: {exc}") from exc
        subsystem = self._subsystem(o["agency"], o["subsystem"])
        subsystem = manage.replace_subsystem_key(actor=CLI_ACTOR, subsystem=subsystem, jwks=jwks)
        self._print(selectors.subsystem_summary(subsystem))

    def _subsystem(self, agency_code: str, code: str) -> Subsystem:
        subsystem = Subsystem.objects.select_related("agency", "client").filter(
            agency__code=agency_code, code=code).first()
        if subsystem is None:
            raise CommandError(f"no subsystem {agency_code}/{code}")
        return subsystem

    def _grant(self, o: dict[str, Any]) -> None:
        grant = manage.create_grant(
            actor=CLI_ACTOR, subsystem=self._subsystem(o["agency"], o["subsystem"]), service=o["service"],
            fields=_csv(o["fields"]), event_types=_csv(o["events"]), legal_basis=o["legal_basis"],
            expires_at=_date_end(o["expires"]), confidential_allowed=o["confidential"])
        self._print(selectors.grant_summary(grant))

    def _revoke(self, o: dict[str, Any]) -> None:
        grant = Grant.objects.filter(pk=o["grant_id"]).first()
        if grant is None:
            raise CommandError(f"no grant {o['grant_id']}")
        self._print(selectors.grant_summary(manage.revoke_grant(actor=CLI_ACTOR, grant=grant)))

    def _suspend(self, o: dict[str, Any]) -> None:
        agency = manage.set_agency_active(actor=CLI_ACTOR, agency=manage.get_agency(o["agency"]), active=False)
        self._print(selectors.agency_summary(agency))

    def _resume(self, o: dict[str, Any]) -> None:
        agency = manage.set_agency_active(actor=CLI_ACTOR, agency=manage.get_agency(o["agency"]), active=True)
        self._print(selectors.agency_summary(agency))

    def _list(self, o: dict[str, Any]) -> None:
        self._print([selectors.agency_summary(a, deep=True) for a in selectors.agencies(code=o["agency"] or None)])

    def _fields(self, o: dict[str, Any]) -> None:
        from popid.exchange.fields import FIELDS

        self._print([{"name": f.name, "label": str(f.label), "sensitive": f.sensitive, "verifiable": f.verifiable}
                     for f in FIELDS.values()])
