"""``popid match registry|dedupe|link|evaluate``: probabilistic record linkage (Splink)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from popid.core.access import Actor
from popid.core.errors import DomainError
from popid.matching import engine
from popid.matching.evaluation import score_clusters, score_pairs
from popid.matching.files import LoadedFile, load_csv, parse_field_options
from popid.matching.records import to_arrow

STEPS = {
    "records": "đọc hồ sơ", "sample": "lấy mẫu ngẫu nhiên để huấn luyện", "prior": "ước lượng tỉ lệ trùng",
    "u": "ước lượng u (lấy mẫu ngẫu nhiên)", "m": "ước lượng m (EM)",
    "model-outdated": "mô hình đã lưu so sánh trường hoặc mức khác phiên bản này: huấn luyện lại",
    "load": "nạp dữ liệu vào DuckDB", "block": "tạo và đếm các cặp ứng viên theo từng quy tắc chặn",
    "predict": "chấm điểm các cặp", "queue": "ghi hàng đợi xem xét",
}


class Command(BaseCommand):
    help = "Probabilistic matching of person records: registry dedup, CSV dedupe/link, evaluation."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        registry = sub.add_parser("registry", help="find duplicate persons in the registry; fill the review queue")
        registry.add_argument("--upper", type=float, default=engine.DEFAULT_THRESHOLD)
        registry.add_argument("--lower", type=float, default=engine.REVIEW_LOWER)
        registry.add_argument("--retrain", action="store_true", help="train a new model even if one is saved")
        registry.add_argument("--train-sample", type=int, default=None,
                              help="persons in the random training sample (default 250,000; 0 = all)")
        for name in ("dedupe", "link"):
            p = sub.add_parser(name, help=f"{name} CSV files by column roles")
            p.add_argument("files", nargs="+", type=Path)
            p.add_argument("--id", dest="id_column", required=True, help="id column (left file for link)")
            p.add_argument("--field", action="append", default=[], help="ROLE=COLUMN, repeatable")
            p.add_argument("--out", type=Path, required=True, help="pairs.csv")
            p.add_argument("--clusters", type=Path, help="clusters.csv: id and cluster id")
            p.add_argument("--threshold", type=float, default=engine.DEFAULT_THRESHOLD)
            p.add_argument("--model", type=Path, help="a saved model JSON to use (else trained and saved here)")
            p.add_argument("--save-model", type=Path, help="where to save the trained model")
            if name == "link":
                p.add_argument("--right-id", help="id column of the right file (default: --id)")
                p.add_argument("--registry", action="store_true", help="link one file to registry persons")
        evaluate = sub.add_parser("evaluate", help="precision, recall, F1 of pairs and clusters")
        evaluate.add_argument("--truth", type=Path, required=True,
                              help="truth JSON from `popid seed --truth` or a CSV of id_l,id_r pairs")
        evaluate.add_argument("--pairs", type=Path, help="pairs.csv (default: the registry review queue)")
        evaluate.add_argument("--clusters", type=Path, help="clusters.csv")
        evaluate.add_argument("--threshold", type=float, default=engine.DEFAULT_THRESHOLD)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(str(exc.detail or exc.title)) from exc

    # ---------------------------------------------------------------------------------------
    def _bar(self, options: dict[str, Any], total: int | None = None, unit: str = " bước") -> tqdm:
        return tqdm(total=total, unit=unit, file=sys.stderr, disable=options["verbosity"] < 1, leave=False)

    def _registry(self, options: dict[str, Any]) -> None:
        from popid.matching.services import run_registry_match

        timings: list[tuple[str, float]] = []
        with self._bar(options) as bar:
            def step(name: str) -> None:
                timings.append((name, time.perf_counter()))
                bar.set_description(STEPS.get(name, name))
                bar.update(1)

            outcome = run_registry_match(actor=Actor.system("popid match registry"), upper=options["upper"],
                                         lower=options["lower"], retrain=options["retrain"], step=step,
                                         **({"train_sample": options["train_sample"]}
                                            if options["train_sample"] is not None else {}))
        timings.append(("end", time.perf_counter()))
        if options["verbosity"] >= 2:  # where the time went, step by step
            self.stderr.write("  ".join(f"{name} {end - start:.1f} s"
                                        for (name, start), (_, end) in itertools.pairwise(timings)))
        run = outcome.run
        for count in run.rule_counts:
            self.stdout.write(f"  {count['comparisons']:>12,} so sánh  {count['rule']}")
        self.stdout.write(f"Đã so sánh {run.comparisons:,} cặp trong {run.persons:,} người; "
                          f"{run.pairs_found:,} cặp ≥ {run.lower_threshold}; hàng đợi: {outcome.created:,} mới, "
                          f"{outcome.updated:,} cập nhật, {outcome.skipped_decided:,} đã quyết định (bỏ qua), "
                          f"{outcome.withdrawn:,} không còn đạt ngưỡng (rút khỏi hàng đợi). "
                          f"Mô hình: {run.model_file}")

    def _load(self, options: dict[str, Any], files: list[Path],
              id_columns: list[str]) -> tuple[list[LoadedFile], engine.FieldSet]:
        mapping = parse_field_options(options["field"])
        loaded = [load_csv(f, id_column=col, mapping=mapping) for f, col in zip(files, id_columns, strict=True)]
        for item in loaded:
            if item.stats.unparseable_dates:
                rows = ", ".join(map(str, item.stats.unparseable_date_examples))
                self.stderr.write(f"{item.path}: {item.stats.unparseable_dates} dòng có ngày sinh không đọc được "
                                  f"(coi như trống; ví dụ dòng {rows})")
        return loaded, engine.FieldSet.from_roles(list(mapping))

    def _dedupe(self, options: dict[str, Any]) -> None:
        if len(options["files"]) != 1:
            raise CommandError("dedupe takes exactly one file")
        loaded, field_set = self._load(options, options["files"], [options["id_column"]])
        self._run(options, [to_arrow(loaded[0].records)], field_set)

    def _link(self, options: dict[str, Any]) -> None:
        files = options["files"]
        if options["registry"]:
            if len(files) != 1:
                raise CommandError("link --registry takes exactly one file")
            from popid.matching.services import registry_match_table

            loaded, field_set = self._load(options, files, [options["id_column"]])
            registry_fields = engine.FieldSet.registry()
            shared = tuple(f for f in field_set.features if f in registry_fields.features)
            field_set = engine.FieldSet(shared)
            self._run(options, [to_arrow(loaded[0].records), registry_match_table()], field_set,
                      right_is_registry=True)
            return
        if len(files) != 2:
            raise CommandError("link takes LEFT.csv RIGHT.csv (or one file with --registry)")
        id_columns = [options["id_column"], options["right_id"] or options["id_column"]]
        loaded, field_set = self._load(options, files, id_columns)
        self._run(options, [to_arrow(x.records) for x in loaded], field_set)

    def _run(self, options: dict[str, Any], tables: list[pa.Table], field_set: engine.FieldSet, *,
             right_is_registry: bool = False) -> None:
        threshold = options["threshold"]
        if not 0 < threshold < 1:
            raise CommandError("--threshold must be between 0 and 1")
        model = engine.load_model(options["model"], field_set) if options.get("model") else None
        with self._bar(options) as bar:
            matcher = engine.Matcher(tables, field_set, model=model)
            if model is None:
                def step(name: str) -> None:
                    bar.set_description(STEPS.get(name, name))
                    bar.update(1)

                matcher.train(progress=step)
                if options.get("save_model"):
                    matcher.save(options["save_model"])
            bar.set_description(STEPS["predict"])
            result = matcher.predict(threshold=threshold,
                                     cluster_threshold=threshold if options.get("clusters") else None)
            bar.update(1)
        ids = self._registry_ids() if right_is_registry else None
        link = len(tables) == 2
        with options["out"].open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["id_l", "id_r", "match_probability", "match_weight"])
            for pair in sorted(result.pairs, key=lambda p: -p["match_probability"]):
                right = pair["unique_id_r"]
                if ids is not None:
                    right = ids.get(int(right), right)
                writer.writerow([pair["unique_id_l"], right, f"{pair['match_probability']:.6f}",
                                 f"{pair['match_weight']:.4f}"])
        if options.get("clusters"):
            with options["clusters"].open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["source", "id", "cluster_id"] if link else ["id", "cluster_id"])
                for key, cluster in sorted(result.clusters.items()):
                    writer.writerow([*key.split(":", 1), cluster] if link else [key, cluster])
        for count in result.rule_counts:
            self.stderr.write(f"  {count.comparisons:>12,} so sánh  {count.rule}")
        self.stdout.write(f"{len(result.pairs):,} cặp ≥ {threshold} trong {result.total_comparisons:,} so sánh "
                          f"→ {options['out']}")

    def _registry_ids(self) -> dict[int, str]:
        from popid.registry.models import Person

        return dict(Person.objects.values_list("pk", "id_number"))

    def _evaluate(self, options: dict[str, Any]) -> None:
        truth = read_truth(options["truth"])
        threshold = options["threshold"]
        if options.get("pairs"):
            predicted = read_pairs(options["pairs"], threshold)
        else:
            from popid.matching.models import CandidatePair

            predicted = [(a, b) for a, b in CandidatePair.objects.filter(match_probability__gte=threshold)
                         .values_list("left__id_number", "right__id_number")]
        report = {"pairs": score_pairs(predicted, truth).as_dict()}
        if options.get("clusters"):
            report["clusters"] = score_clusters(read_clusters(options["clusters"]), truth).as_dict()
        else:
            from popid.matching.evaluation import components

            report["clusters"] = score_clusters(components(predicted), truth).as_dict()
        for name, scores in report.items():
            self.stdout.write(f"{name:9s} precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
                              f"F1 {scores['f1']:.4f}  (TP {scores['true_positives']}, FP {scores['false_positives']}, "
                              f"FN {scores['false_negatives']})")


def read_truth(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{path}: not JSON") from exc
        pairs = [tuple(p) for p in data.get("duplicates", [])]
        pairs += [tuple(d["pair"]) for d in data.get("match_duplicates", [])]
        return pairs
    rows = list(csv.reader(text.splitlines()))
    return [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]


def read_pairs(path: Path, threshold: float) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(r["id_l"], r["id_r"]) for r in csv.DictReader(f) if float(r["match_probability"]) >= threshold]


def read_clusters(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return {r["id"]: r["cluster_id"] for r in csv.DictReader(f)}
