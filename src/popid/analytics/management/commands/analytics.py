"""`popid analytics seed-history | refresh | forecast | evaluate`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from popid.analytics import services
from popid.core.access import Actor


class Command(BaseCommand):
    help = "Analytics store: synthetic history, refresh from the operational database, forecasts, evaluation."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed-history", help="two years of synthetic counts with known truth")
        seed.add_argument("--communes", type=int, default=services.DEMO_COMMUNES,
                          help="how many communes of Hà Nội (from Hoàn Kiếm on)")
        seed.add_argument("--weeks", type=int, default=104)
        seed.add_argument("--seed", type=int, default=1)
        seed.add_argument("--if-empty", action="store_true", help="do nothing when a history is already there")
        sub.add_parser("refresh", help="export new operational rows into the store (incremental)")
        forecast = sub.add_parser("forecast", help="forecast every series, raise alerts for the last weeks")
        forecast.add_argument("--jobs", type=int, default=1)
        forecast.add_argument("--alert-weeks", type=int, default=services.ALERT_WEEKS)
        forecast.add_argument("--mode", choices=["auto", "full", "fast"], default="auto",
                              help="candidate models: full (statsforecast + harmonic), fast (vectorised), auto")
        evaluate = sub.add_parser("evaluate", help="print backtested MASE, interval coverage, alert precision/recall")
        evaluate.add_argument("--jobs", type=int, default=1)
        evaluate.add_argument("--alert-weeks", type=int, default=52)
        evaluate.add_argument("--mode", choices=["auto", "full", "fast"], default="auto")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("popid analytics")
        action = options["action"]
        if action == "seed-history":
            from popid.analytics.store import Store

            store = Store()
            if options["if_empty"] and store.manifest().get("truth"):
                self.stdout.write("analytics: synthetic history already in the store")
                return
            history = services.seed_history(actor=actor, store=store, communes=services.demo_communes(
                options["communes"]), weeks=options["weeks"], seed=options["seed"])
            self.stdout.write(f"analytics: {history.daily.num_rows} daily counts, {history.incidents.num_rows} "
                              f"placed events, {len(history.truth.anomalies)} injected anomalies "
                              f"({len(history.truth.communes)} communes, {options['weeks']} weeks)")
        elif action == "refresh":
            report = services.refresh(actor=actor)
            exported = ", ".join(f"{k}: {v}" for k, v in report.exported.items())
            self.stdout.write(f"analytics store version {report.version}: exported {exported}")
            if report.future_refused:
                self.stderr.write(f"refused {len(report.future_refused)} row(s) dated in the future: "
                                  + ", ".join(f"{r['source']}#{r['id']}" for r in report.future_refused[:20]))
        elif action == "forecast":
            run = services.run_forecasts(actor=actor, n_jobs=options["jobs"], alert_weeks=options["alert_weeks"],
                                         mode=options["mode"])
            self.stdout.write(f"analytics: {run.series} series forecast ({run.short} short, seasonal naive), "
                              f"{run.too_short} too short, models {run.chosen}, {run.alerts} new alert(s)")
        else:
            figures = services.evaluate(n_jobs=options["jobs"], alert_weeks=options["alert_weeks"],
                                        mode=options["mode"])
            self.stdout.write(services.dump(figures))
