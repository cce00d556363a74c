"""``popid seed``: a synthetic population, demo staff accounts and the Nguyễn Văn An fixture."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from popid.core.demo_accounts import accounts_file, demo_account_specs, ensure_demo_accounts, format_accounts
from popid.registry.synthetic import (
    FIXTURE_BIRTH_DATE,
    FIXTURE_COMMUNE,
    FIXTURE_NAME,
    REFERENCE_DATE,
    seed_population,
)


def demo_communes() -> tuple[str, ...]:
    """The communes of the demo commune officers (canbo.hoankiem, the Ho Chi Minh City one)."""
    return tuple(unit for _u, _role, level, unit, _d in demo_account_specs() if level == "commune")


class Command(BaseCommand):
    help = "Sinh dân cư tổng hợp (có thể kèm lỗi đã biết), tạo tài khoản cán bộ và công dân demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=10_000, help="number of person records")
        parser.add_argument("--seed", type=int, default=1, help="random seed: same seed, same population")
        parser.add_argument("--error-rate", type=float, default=0.0, help="share of persons given a known error")
        parser.add_argument("--duplicate-rate", type=float, default=0.0,
                            help="share of persons given a second record with hard errors (probabilistic matcher)")
        parser.add_argument("--truth", type=Path, help="write the injected errors (JSON) to this file")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if persons exist")
        parser.add_argument("--batch-size", type=int, default=5000, help="persons per COPY/insert batch")
        parser.add_argument("--reference-date", type=date.fromisoformat, default=REFERENCE_DATE,
                            help="the 'today' of the generated population (default %(default)s)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--demo-commune-share", type=float, default=0.0,
                            help="share of households placed in the demo commune officers' communes (Hoàn Kiếm "
                                 "and the Ho Chi Minh City one), so their pages show their own figures; "
                                 "`make run` uses 0.06")

    def handle(self, *args: Any, **options: Any) -> None:
        from popid.registry.models import Person

        persons, rate = int(options["persons"]), float(options["error_rate"])
        duplicate_rate = float(options["duplicate_rate"])
        focus_share = float(options["demo_commune_share"])
        if not 0.0 <= focus_share <= 1.0:
            raise CommandError("--demo-commune-share must be between 0 and 1")
        if persons < 0 or not 0.0 <= rate <= 1.0 or not 0.0 <= duplicate_rate <= 0.5:
            raise CommandError("--persons must be ≥ 0, --error-rate between 0 and 1, --duplicate-rate 0 to 0.5")
        if options["if_empty"] and Person.objects.exists():
            self.stdout.write("Đã có dữ liệu dân cư: bỏ qua sinh dữ liệu (--if-empty).")
        else:
            result = seed_population(
                persons=persons, seed=int(options["seed"]), error_rate=rate,
                progress=not options["no_progress"] and options["verbosity"] > 0,
                batch_size=int(options["batch_size"]), reference_date=options["reference_date"],
                duplicate_rate=duplicate_rate, focus_communes=demo_communes() if focus_share else (),
                focus_share=focus_share,
            )
            rate_per_s = result.persons / result.seconds if result.seconds else 0
            self.stdout.write(f"Đã nạp {result.persons:,} người, {result.households:,} hộ trong "
                              f"{result.seconds:.1f} s ({rate_per_s:,.0f} người/s).")
            if options["truth"]:
                path = Path(options["truth"])
                path.write_text(json.dumps(result.truth, ensure_ascii=False, indent=1), encoding="utf-8")
                self.stdout.write(f"Sự thật về lỗi đã chèn: {path} ({len(result.truth['errors'])} lỗi, "
                                  f"{len(result.truth['duplicates'])} cặp trùng).")
        accounts = ensure_demo_accounts()
        self.stdout.write("\nTài khoản demo (" + str(accounts_file()) + "):\n" + format_accounts(accounts))
        from popid.identity.demo import ensure_demo_citizens, format_citizens

        citizens = ensure_demo_citizens()
        if citizens:
            self.stdout.write("\nCông dân demo (tài khoản định danh điện tử; mã OTP trong DATA_DIR/outbox):\n"
                              + format_citizens(citizens))
        from popid.services.demo import ensure_demo_dossiers, format_dossiers

        dossiers = ensure_demo_dossiers()
        if dossiers:
            self.stdout.write("\nHồ sơ dịch vụ công mẫu:\n" + format_dossiers(dossiers))
        # Later apps (data sharing, documents, wallet) seed their demo data through a
        # ``seed_demo()`` method on their AppConfig returning the lines to print, so this command
        # does not grow an import per app.
        for config in apps.get_app_configs():
            seed_demo = getattr(config, "seed_demo", None)
            if callable(seed_demo):
                lines = seed_demo()
                if lines:
                    self.stdout.write(f"\n{config.verbose_name}:\n" + "\n".join(lines))
        fixture = Person.objects.filter(full_name=FIXTURE_NAME, birth_date=FIXTURE_BIRTH_DATE,
                                        commune_code=FIXTURE_COMMUNE).first()
        if fixture is not None:
            self.stdout.write(f"\nCông dân mẫu: {fixture.full_name}, sinh {fixture.birth_date:%d/%m/%Y}, "
                              f"số định danh {fixture.id_number}, thường trú Phường Hoàn Kiếm.")
