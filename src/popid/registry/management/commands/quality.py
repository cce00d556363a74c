"""``popid quality run`` checks the registry; ``popid quality report`` prints the current run.

    popid quality run
    popid quality report [--format text|json] [--province CODE] [--output FILE] [--truth FILE]

With ``--truth`` (the seeder's truth file) the report ends with recall and precision per kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from popid.core.access import Actor
from popid.core.admin_units import commune_label, province
from popid.registry.quality.engine import run_quality_check
from popid.registry.quality.kinds import KINDS
from popid.registry.quality.selectors import compare_with_truth, latest_run, report_json, scores, tier_label


class Command(BaseCommand):
    help = "Kiểm tra chất lượng dữ liệu dân cư (đúng, đủ, sạch, sống) và in báo cáo."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Chạy kiểm tra toàn bộ cơ sở dữ liệu")
        run.add_argument("--quiet", action="store_true", help="Không in tiến độ")
        report = sub.add_parser("report", help="In báo cáo của lần kiểm tra mới nhất")
        report.add_argument("--format", choices=["text", "json"], default="text")
        report.add_argument("--province", help="Chỉ tỉnh này (mã 2 chữ số): liệt kê các xã")
        report.add_argument("--output", help="Ghi ra tệp thay vì màn hình")
        report.add_argument("--truth", help="Tệp truth của bộ sinh dữ liệu: in recall/precision theo loại")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            run = run_quality_check(progress=not options["quiet"])
            self.stdout.write(f"Lần kiểm tra #{run.pk}: {run.persons_checked:,} công dân, "
                              f"{run.finding_count:,} phát hiện, {run.duration_seconds:.1f}s")
            return
        self._report(options)

    def _report(self, options: dict[str, Any]) -> None:
        run = latest_run()
        if run is None:
            raise CommandError("Chưa có lần kiểm tra nào hoàn thành: chạy `popid quality run` trước.")
        comparison = None
        if options.get("truth"):
            truth = json.loads(Path(options["truth"]).read_text(encoding="utf-8"))
            comparison = compare_with_truth(report_json(run=run), truth)
        if options["format"] == "json":
            data = report_json(run=run)
            if options.get("province"):
                code = options["province"]
                data["scores"] = [s for s in data["scores"] if s["province_code"] == code]
            if comparison is not None:
                data["comparison"] = comparison
            text = json.dumps(data, ensure_ascii=False, indent=2)
        else:
            text = self._text(run, options.get("province"), comparison)
        if options.get("output"):
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stdout.write(f"Đã ghi {options['output']}")
        else:
            self.stdout.write(text)

    def _text(self, run: Any, province_code: str | None, comparison: dict[str, Any] | None) -> str:
        actor = Actor.system("cli")
        kinds = list(KINDS)
        short = {code: f"{i + 1:>2}" for i, code in enumerate(kinds)}
        width = 8
        lines = [
            f"Kiểm tra chất lượng #{run.pk} lúc {run.finished_at:%Y-%m-%d %H:%M}: {run.persons_checked:,} công dân, "
            f"{run.finding_count:,} phát hiện ({run.duration_seconds:.1f}s)",
            "",
        ]
        if province_code:
            rows = list(scores(actor=actor, level="commune", parent_code=province_code, run=run))
            lines.append(f"Các xã của {province(province_code) or province_code}:")
        else:
            rows = list(scores(actor=actor, level="nation", run=run)) + list(
                scores(actor=actor, level="province", run=run))

        def name_of(code: str) -> str:
            if province_code:
                return commune_label(code)
            return "Toàn quốc" if code == "VN" else str(province(code) or code)

        # one column per kind found in these units (35 kinds would not fit a terminal)
        kinds = [k for k in kinds if any(s.findings_by_kind.get(k) for s in rows)]
        header = f"{'Mã':<6}{'Đơn vị':<40}{'Công dân':>10}{'Có lỗi':>9}{'Điểm':>8}  {'Xếp loại':<18}"
        lines.append(header + "".join(f"{short[k]:>{width}}" for k in kinds))
        lines.append("-" * (len(header) + width * len(kinds)))
        for s in rows:
            counts = "".join(f"{s.findings_by_kind.get(k, 0):>{width},}" for k in kinds)
            lines.append(f"{s.unit_code:<6}{name_of(s.unit_code)[:39]:<40}{s.persons:>10,}{s.persons_with_findings:>9,}"
                         f"{s.score:>8.2f}  {tier_label(s.tier):<18}{counts}")
        lines += ["", "Loại phát hiện:"]
        lines += [f"  {short[k]} {k} ({KINDS[k].principle}): {KINDS[k].title_vi}" for k in kinds]
        if comparison is not None:
            lines += ["", "So với truth của bộ sinh dữ liệu:",
                      f"  {'loại':<34}{'truth':>7}{'tìm thấy':>10}{'đúng':>7}{'recall':>9}{'precision':>11}"]

            def fmt(name: str, item: dict[str, Any]) -> str:
                def ratio(value: float | None) -> str:
                    return "-" if value is None else f"{value:.3f}"

                return (f"  {name:<34}{item['expected']:>7}{item['found']:>10}{item['true_positives']:>7}"
                        f"{ratio(item['recall']):>9}{ratio(item['precision']):>11}")

            lines += [fmt(kind, item) for kind, item in comparison["kinds"].items()]
            lines.append(fmt("probable_duplicate (cặp)", comparison["duplicates"]))
            lines.append(fmt("tổng", comparison["overall"]))
        return "\n".join(lines)
