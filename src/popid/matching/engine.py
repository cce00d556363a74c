"""The probabilistic matcher: Fellegi–Sunter on Splink 5, DuckDB by default, Spark for scale.

The model is built from the *features* a source has (``records.ROLE_FEATURE``): each feature
is one Splink comparison over the canonical columns of ``records.SCHEMA``. Training uses no
labels: ``u`` by random sampling of record pairs, ``m`` by expectation–maximisation in two
sessions blocked on different columns (so every comparison is estimated once), the prior
from deterministic rules with an assumed recall. A trained model is a JSON file holding the
feature list and Splink's own settings; loading it for another feature set is refused.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.comparison_creator import ComparisonCreator

from popid.matching.errors import ModelFeatureMismatch, ModelFileInvalid, NothingToCompare

MODEL_FORMAT = "popid-match-model/1"
DEFAULT_THRESHOLD = 0.9  # upper threshold: a pair above it is a probable match
REVIEW_LOWER = 0.5  # lower edge of the uncertain band sent to clerical review
PREDICT_FLOOR = 0.2  # pairs below this are not kept at all
NAME_DIFFERENT_M = 1e-9  # P(names entirely different | same person): fixed, see _name()

logger = logging.getLogger(__name__)


# --- comparisons -----------------------------------------------------------------------------
def _null_any(*cols: str) -> dict[str, Any]:
    # unquoted identifiers: a double-quoted name is a string literal in Spark SQL
    left = " AND ".join(f"{c}_l IS NULL" for c in cols)
    right = " AND ".join(f"{c}_r IS NULL" for c in cols)
    return {"sql_condition": f"({left}) OR ({right})", "label_for_charts": "null", "is_null_level": True}


def _name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="name: diacritics, accent-insensitive, word order, spelling",
        comparison_levels=[
            cll.NullLevel("name_plain"),
            cll.ExactMatchLevel("name_exact").configure(label_for_charts="same name with diacritics"),
            cll.ExactMatchLevel("name_plain", term_frequency_adjustments=True).configure(
                label_for_charts="same name without diacritics"),
            cll.ExactMatchLevel("name_sorted").configure(label_for_charts="same words in another order"),
            # one letter replaced, dropped or doubled; not Jaro-Winkler on the whole name, which
            # scores siblings and twins (same family and middle name) as close
            cll.LevenshteinLevel("name_plain", 1).configure(label_for_charts="one letter different"),
            cll.And(cll.ExactMatchLevel("family"), cll.ExactMatchLevel("given")).configure(
                label_for_charts="same family and given name, middle name differs or missing"),
            # Fixed, not estimated: a person's two records whose names share neither spelling,
            # nor words, nor family and given name, nor all but one letter. EM cannot learn it
            # without labels: in a block on the birth date it takes twins (same parents, place,
            # date) for duplicates and learns that different names are usual; in a block on the
            # given name it finds no such duplicate at all (m = 0, which Splink refuses).
            cll.ElseLevel().configure(m_probability=NAME_DIFFERENT_M, fix_m_probability=True),
        ],
    )


def _middle() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="middle_name",
        comparison_description="middle name, weighted by frequency (Văn, Thị count little)",
        comparison_levels=[
            cll.NullLevel("middle"),
            cll.ExactMatchLevel("middle", term_frequency_adjustments=True).configure(
                label_for_charts="same middle name"),
            cll.ElseLevel(),
        ],
    )


def _birth() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="birth",
        comparison_description="birth date: exact, day/month swapped, year only, one digit off",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="same birth date"),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                label_for_charts="day and month swapped"),
            cll.CustomLevel(
                "(birth_date_l IS NULL OR birth_date_r IS NULL) AND birth_year_l = birth_year_r",
                label_for_charts="same year, one side knows only the year"),
            cll.LevenshteinLevel("birth_date", 1).configure(label_for_charts="one digit different"),
            cll.CustomLevel("birth_year_l = birth_year_r AND birth_month_l = birth_month_r",
                            label_for_charts="same year and month, another day"),
            cll.ExactMatchLevel("birth_year").configure(label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )


def _sex() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="sex", comparison_levels=[
        cll.NullLevel("sex"), cll.ExactMatchLevel("sex").configure(label_for_charts="same sex"), cll.ElseLevel()])


def _document() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="document",
        comparison_description="12-digit citizen ID number or 9-digit old ID card number",
        comparison_levels=[
            _null_any("id_new", "id_old"),
            cll.ExactMatchLevel("id_new").configure(label_for_charts="same ID number"),
            cll.ExactMatchLevel("id_old").configure(label_for_charts="same old 9-digit ID card number"),
            cll.CustomLevel("id_old_l IS NOT NULL AND id_old_r IS NOT NULL",
                            label_for_charts="two different old 9-digit ID card numbers"),
            cll.ElseLevel(),
        ],
    )


def _admin_unit() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="admin_unit",
        comparison_description="place of residence by 2025 administrative unit codes",
        comparison_levels=[
            cll.NullLevel("province"),
            cll.ExactMatchLevel("commune").configure(label_for_charts="same commune"),
            cll.ExactMatchLevel("province").configure(label_for_charts="same province"),
            cll.ElseLevel(),
        ],
    )


def _place(columns: Sequence[str]) -> cl.CustomComparison:
    levels: list[Any] = [_null_any(*columns)]
    labels = {"postcode": "same postcode", "locality": "same locality", "region": "same region"}
    levels += [cll.ExactMatchLevel(c).configure(label_for_charts=labels[c]) for c in columns]
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(output_column_name="place", comparison_levels=levels)


def _address() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="address", comparison_levels=[
        cll.NullLevel("address"),
        cll.ExactMatchLevel("address").configure(label_for_charts="same address"),
        cll.JaroWinklerLevel("address", 0.9).configure(label_for_charts="address close (JW ≥ 0.9)"),
        cll.ElseLevel()])


def _phone() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="phone", comparison_levels=[
        cll.NullLevel("phone"), cll.ExactMatchLevel("phone").configure(label_for_charts="same phone"),
        cll.ElseLevel()])


def _family() -> cl.CustomComparison:
    """Parents' names, birth registration place and hometown as ONE comparison: they agree
    together (a family's children share all three), and as separate comparisons their weights
    would be added as if independent — twins and siblings would score as duplicates."""
    parents = cll.And(cll.ExactMatchLevel("father"), cll.ExactMatchLevel("mother"))
    return cl.CustomComparison(
        output_column_name="family",
        comparison_description="parents' names (registry relations), birth registration place, hometown",
        comparison_levels=[
            _null_any("father", "mother", "birth_commune", "hometown"),
            cll.And(parents, cll.ExactMatchLevel("birth_commune")).configure(
                label_for_charts="same parents' names and birth registration commune"),
            cll.And(cll.ExactMatchLevel("father"), cll.ExactMatchLevel("mother")).configure(
                label_for_charts="same parents' names"),
            cll.Or(cll.ExactMatchLevel("father"), cll.ExactMatchLevel("mother")).configure(
                label_for_charts="one parent's name the same"),
            cll.Or(cll.ExactMatchLevel("birth_commune"), cll.ExactMatchLevel("hometown")).configure(
                label_for_charts="same birth registration commune or hometown"),
            cll.ElseLevel(),
        ],
    )


PLACE_ORDER = ("postcode", "locality", "region")


@dataclass(frozen=True)
class FieldSet:
    """What a source has: the compared features, and for ``place`` which of its columns."""

    features: tuple[str, ...]
    place_columns: tuple[str, ...] = ()

    @classmethod
    def from_roles(cls, roles: Sequence[str]) -> FieldSet:
        from popid.matching.records import features_for_roles

        return cls(features_for_roles(roles), tuple(c for c in PLACE_ORDER if c in roles))

    @classmethod
    def registry(cls) -> FieldSet:
        from popid.matching.records import REGISTRY_FEATURES

        return cls(tuple(sorted(REGISTRY_FEATURES)))

    def as_dict(self) -> dict[str, list[str]]:
        return {"features": list(self.features), "place_columns": list(self.place_columns)}

    def comparisons(self) -> list[cl.CustomComparison]:
        out: list[cl.CustomComparison] = []
        has = set(self.features)
        if "name" in has:
            out += [_name(), _middle()]
        if "birth" in has:
            out.append(_birth())
        if "sex" in has:
            out.append(_sex())
        if "document" in has:
            out.append(_document())
        if "admin_unit" in has:
            out.append(_admin_unit())
        if "place" in has and self.place_columns:
            out.append(_place(self.place_columns))
        if "address" in has:
            out.append(_address())
        if "phone" in has:
            out.append(_phone())
        if "family" in has:
            out.append(_family())
        return out

    def blocking_rules(self) -> list[Any]:
        """Rules whose union finds the hard duplicates while keeping the pair count near-linear:
        each ANDs two selective columns; a typo in one column is caught by another rule."""
        has = set(self.features)
        rules: list[Any] = []
        if {"name", "birth"} <= has:
            rules += [
                block_on("name_plain", "birth_year"),  # day/month swap, year only, exact name
                block_on("name_sorted", "birth_year"),  # name order swapped
                block_on("birth_date", "given"),  # typo in family or middle name
                block_on("birth_date", "family", "middle"),  # typo in given name
            ]
            if "family" in has:
                # family typo and a date error: with the birth registration province, or with the
                # mother's name (either may differ, not both). Without them this rule made 13.0 of
                # the 22.2 million pairs of a million-person registry (BENCHMARKS.md §12)
                rules += [block_on("given", "middle", "birth_year", "sex", "birth_province"),
                          block_on("given", "middle", "birth_year", "sex", "mother")]
            else:
                rules.append(block_on("given", "middle", "birth_year", "sex"))  # family typo and a date error
            # given-name typo and a date error: the birth registration province where the
            # registry has it (a person who moved keeps it), else the place of residence
            place = "birth_province" if "family" in has else "province"
            rules.append(block_on("family", "middle", "birth_year", "sex", place))
        if "document" in has:
            rules += [block_on("id_new"), block_on("id_old")]
        if "phone" in has:
            rules.append(block_on("phone"))
        if "name" in has and "admin_unit" in has:
            rules.append(block_on("name_plain", "commune"))  # birth date badly wrong, same commune
        if "name" in has and "place" in has and self.place_columns:
            rules.append(block_on("name_plain", self.place_columns[0]))
        if "name" in has and "birth" not in has:
            rules.append(block_on("name_plain"))
        if "birth" in has and "name" not in has:
            rules.append(block_on("birth_date"))
        return rules

    def training_rules(self) -> list[Any]:
        """EM sessions: each leaves out the columns it blocks on, so together they estimate all.

        The registry: the birth date and birth province (estimates everything but the birth
        date), then the same family and given name and birth province (estimates the birth
        date). Files: the birth date, then
        the old ID number and the phone (blocks of almost only matches), or the name.
        Blocks made only of matches (same old ID number alone) leave EM with an infinite prior;
        such a session is skipped (``train``)."""
        has = set(self.features)
        rules: list[Any] = []
        if {"name", "birth", "admin_unit"} <= has:
            if "family" in has:
                # same family and given name born in the same province: duplicates and namesakes,
                # never twins or siblings (another given name), who would teach EM that the
                # birth date of a duplicate may differ
                # and the birth date with the birth province: namesakes born the same day
                # elsewhere stay out (in a block on the date alone they outnumber the
                # duplicates at a million persons and EM learns that parents usually differ)
                return [block_on("birth_date", "birth_province"), block_on("family", "given", "birth_province")]
            return [block_on("birth_date"), block_on("name_plain", "province")]
        if "birth" in has:
            rules.append(block_on("birth_date"))
        if {"document", "phone"} <= has:  # nearly all matches: estimates the rest
            # two sessions, not one OR rule: an OR join is a nested loop over all pairs
            rules += [block_on("id_old"), block_on("phone")]
        if "name" in has and "phone" in has:
            pass
        elif "name" in has and "place" in has and self.place_columns:
            rules.append(block_on("name_plain", self.place_columns[-1]))
        elif "name" in has:
            rules.append(block_on("name_plain"))
        if "document" in has and not rules:
            rules.append(block_on("id_new"))
        return rules

    def deterministic_rules(self) -> list[Any]:
        has = set(self.features)
        if {"name", "birth"} <= has:
            return [block_on("name_plain", "birth_date")]
        if "document" in has:
            return [block_on("id_new")]
        if "name" in has:
            return [block_on("name_exact")]
        return []


def settings_for(field_set: FieldSet, *, link: bool) -> SettingsCreator:
    comparisons: list[ComparisonCreator | dict[str, Any]] = list(field_set.comparisons())
    if not comparisons:
        raise NothingToCompare()
    return SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=field_set.blocking_rules(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


_PARAMETERS = ("m_probability", "u_probability", "tf_minimum_u_value", "tf_adjustment_weight")


def transfer_parameters(model: dict[str, Any], field_set: FieldSet, *, link: bool, dialect: str) -> dict[str, Any]:
    """The settings of ``field_set`` written for ``dialect`` with the trained parameters of
    ``model`` (any dialect): so a model trained on DuckDB scores the same pairs on Spark.
    Comparisons are matched by name, levels by position."""
    settings = settings_for(field_set, link=link).create_settings_dict(dialect)
    settings["probability_two_random_records_match"] = model.get("probability_two_random_records_match")
    trained = {c["output_column_name"]: c["comparison_levels"] for c in model.get("comparisons", [])}
    for comparison in settings["comparisons"]:
        levels = trained.get(comparison["output_column_name"])
        if levels is None or len(levels) != len(comparison["comparison_levels"]):
            raise ModelFeatureMismatch(saved=sorted(trained), wanted=field_set.as_dict())
        for target, source in zip(comparison["comparison_levels"], levels, strict=True):
            for key in _PARAMETERS:
                if source.get(key) is not None:
                    target[key] = source[key]
    return settings


# --- backends --------------------------------------------------------------------------------
DUCKDB_THREADS = 2  # this project's machines: 2 vCPUs (POPID_MATCH_THREADS overrides)
DUCKDB_MEMORY_LIMIT = "6GB"  # spills to a temporary directory beyond it (POPID_MATCH_MEMORY overrides)


def duckdb_api() -> Any:
    """An in-memory DuckDB for Splink with bounded threads and memory: a million persons'
    blocked pairs spill to disk rather than take the machine's memory."""
    import os
    import tempfile

    import duckdb
    from splink import DuckDBAPI

    connection = duckdb.connect(":memory:", config={
        "threads": int(os.environ.get("POPID_MATCH_THREADS", DUCKDB_THREADS)),
        "memory_limit": os.environ.get("POPID_MATCH_MEMORY", DUCKDB_MEMORY_LIMIT),
        "temp_directory": tempfile.gettempdir() + "/popid-duckdb",
        "preserve_insertion_order": False,
    })
    return DuckDBAPI(connection=connection)


def spark_api(spark: Any) -> Any:
    from splink import SparkAPI

    return SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]  # splink leaves SparkAPI.__init__ unannotated


# --- the model -------------------------------------------------------------------------------
@dataclass
class RuleCount:
    rule: str
    comparisons: int
    cumulative: int


@dataclass
class MatchResult:
    pairs: list[dict[str, Any]]
    rule_counts: list[RuleCount]
    total_comparisons: int
    clusters: dict[str, str] = field(default_factory=dict)


class Matcher:
    """One linkage job: data registered in a backend, a model trained or loaded, predictions."""

    def __init__(self, tables: Sequence[pa.Table], field_set: FieldSet, *, db_api: Any | None = None,
                 model: dict[str, Any] | None = None) -> None:
        self.field_set = field_set
        self.link = len(tables) == 2
        self.db_api = db_api or duckdb_api()
        self._row_counts = [t.num_rows for t in tables]
        self.frames = [self.db_api.register(self._for_backend(t)) for t in tables]
        settings: Any = settings_for(field_set, link=self.link)
        if model is not None:
            settings = transfer_parameters(model, field_set, link=self.link,
                                           dialect=self.db_api.sql_dialect.sql_dialect_str)
        self.linker = Linker(self.frames if self.link else self.frames[0], settings, log_level=logging.ERROR)
        self.trained = model is not None

    def _for_backend(self, table: pa.Table) -> Any:
        from popid.matching import spark as spark_support

        return spark_support.to_backend_table(self.db_api, table)

    # training ------------------------------------------------------------------------------
    def train(self, *, max_pairs: float = 2e6, seed: int = 13, recall: float = 0.5,
              progress: Callable[[str], None] | None = None) -> None:
        step = progress or (lambda _: None)
        training = self.linker.training
        rules = self.field_set.deterministic_rules()
        step("prior")
        try:
            training.estimate_probability_two_random_records_match(rules, recall=recall)
        except Exception:  # no deterministic match at all: keep Splink's default prior
            logger.debug("prior estimation found no deterministic matches")
        settings_obj = self.linker._settings_obj  # Splink exposes no setter for the prior
        if not 0 < settings_obj._probability_two_random_records_match < 1:
            records = sum(self._row_counts)
            settings_obj._probability_two_random_records_match = min(0.5, 0.1 / max(records, 1))
        step("u")
        training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        for rule in self.field_set.training_rules():
            step("m")
            before = self.model_dict()
            try:
                self.linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True)
            except Exception as exc:  # too few pairs, or only matches (an infinite prior), under this rule
                # a failed session can leave the linker without the comparisons it set aside:
                # go on from the model as it was before it
                logger.warning("EM session skipped (%s): %s", type(exc).__name__, rule)
                self.linker = Linker(self.frames if self.link else self.frames[0], before, log_level=logging.ERROR)
        self.trained = True

    def model_dict(self) -> dict[str, Any]:
        return self.linker.misc.save_model_to_json()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"format": MODEL_FORMAT, "fields": self.field_set.as_dict(), "splink": self.model_dict()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1))
        tmp.replace(path)

    # prediction ----------------------------------------------------------------------------
    def count_comparisons(self) -> list[RuleCount]:
        records = count_comparisons_from_blocking_rules(
            self.frames if self.link else self.frames[0],
            blocking_rules=self.field_set.blocking_rules(),
            link_type="link_only" if self.link else "dedupe_only",
            record_sample_proportion=1.0,
        )
        return [RuleCount(r["blocking_rule"], int(r["marginal_comparison_count"]),
                          int(r["cumulative_comparison_count"])) for r in records]

    def block(self) -> list[RuleCount]:
        """Make the candidate pairs once and count them per rule: the blocked pairs stay in
        the backend and ``predict`` scores them (no second blocking pass just to count).
        Each pair counts under the first rule that generates it, as Splink scores it."""
        blocked = self.linker.inference.compute_blocked_pairs_for_predict()
        frame = self.db_api.query_sql(
            f"SELECT match_key, COUNT(*) AS n FROM {blocked.physical_name} GROUP BY match_key")  # noqa: S608
        by_key = {int(row["match_key"]): int(row["n"]) for row in frame.as_record_list()}
        frame.drop_table_from_database_and_remove_from_cache()
        dialect = self.db_api.sql_dialect.sql_dialect_str
        counts, cumulative = [], 0
        for key, rule in enumerate(self.field_set.blocking_rules()):
            cumulative += by_key.get(key, 0)
            counts.append(RuleCount(rule.get_blocking_rule(dialect).blocking_rule_sql, by_key.get(key, 0),
                                    cumulative))
        return counts

    def predict(self, *, threshold: float = PREDICT_FLOOR, cluster_threshold: float | None = None,
                count: bool = True) -> MatchResult:
        counts = self.block() if count else []
        predictions = self.linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        pairs = predictions.as_record_list()
        clusters: dict[str, str] = {}
        if cluster_threshold is not None:
            clustered = self.linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=cluster_threshold)
            for row in clustered.as_record_list():
                key = row["unique_id"] if not self.link else f'{row["source_dataset"]}:{row["unique_id"]}'
                clusters[key] = str(row["cluster_id"])
        total = counts[-1].cumulative if counts else len(pairs)
        return MatchResult(pairs=pairs, rule_counts=counts, total_comparisons=total, clusters=clusters)


def load_model(path: Path, field_set: FieldSet) -> dict[str, Any]:
    """The Splink settings of a saved model; refused when it was trained on other fields."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelFileInvalid(path=str(path)) from exc
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT or "splink" not in document:
        raise ModelFileInvalid(path=str(path))
    if document.get("fields") != field_set.as_dict():
        raise ModelFeatureMismatch(saved=document.get("fields"), wanted=field_set.as_dict())
    splink_settings: dict[str, Any] = document["splink"]  # the JSON object Splink saved
    return splink_settings


def _level_shapes(comparisons: Sequence[dict[str, Any]]) -> list[tuple[str, list[tuple[str, float | None]]]]:
    return [(c["output_column_name"], [(lv["sql_condition"], lv.get("m_probability") if lv.get("fix_m_probability")
                                        else None) for lv in c["comparison_levels"]]) for c in comparisons]


def has_current_levels(model: dict[str, Any], field_set: FieldSet) -> bool:
    """Whether a saved model compares with the levels (conditions and fixed *m*) this version
    builds: the registry retrains a model saved before a level changed, rather than scoring on
    with the old one until somebody passes ``--retrain``."""
    dialect = model.get("sql_dialect") or "duckdb"
    wanted = [cast(dict[str, Any], c.get_comparison(dialect).as_dict())  # type: ignore[no-untyped-call]
              for c in field_set.comparisons()]  # Splink's Comparison.as_dict is unannotated
    return _level_shapes(model.get("comparisons", [])) == _level_shapes(wanted)


def level_labels(model: dict[str, Any]) -> dict[tuple[str, int], str]:
    """(comparison, gamma) → the level's label, from a model's Splink settings."""
    labels = {}
    for comparison in model.get("comparisons", []):
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for gamma, level in zip(range(len(levels) - 1, -1, -1), levels, strict=True):
            labels[(comparison["output_column_name"], gamma)] = level.get("label_for_charts") or level["sql_condition"]
        labels.update({(comparison["output_column_name"], -1): "null"})
    return labels


@functools.cache
def comparison_names(field_set: FieldSet) -> tuple[str, ...]:
    """The output names of a field set's comparisons (built once: Splink's comparison objects
    are not cheap to make once per pair)."""
    return tuple(cast(str, c.create_output_column_name()) for c in field_set.comparisons())


def evidence(pair: dict[str, Any], field_set: FieldSet,
             labels: dict[tuple[str, int], str] | None = None) -> list[dict[str, Any]]:
    """The waterfall of one scored pair: prior, then each comparison's weight (and its term
    frequency adjustment), as plain data for the review page."""
    rows = []
    for name in comparison_names(field_set):
        weight = pair.get(f"mw_{name}")
        if weight is None:
            continue
        tf = pair.get(f"mw_tf_adj_{name}")
        level = pair.get(f"gamma_{name}")
        rows.append({"comparison": name, "gamma": level,
                     "level": (labels or {}).get((name, int(level)), "") if level is not None else "",
                     "weight": round(float(weight) + float(tf or 0.0), 3),
                     "tf": round(float(tf), 3) if tf is not None else None})
    return rows
