"""Traffic: the violation catalogue loads and refuses broken files; plates normalise and validate."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from popid.traffic import catalogue
from popid.traffic.catalogue import CATALOGUE_FILE, CatalogueError, load
from popid.traffic.plates import InvalidPlate, Plate, parse_plate, plate_key_or_raw


def test_catalogue_has_at_least_25_violations_with_legal_references():
    violations = catalogue.catalogue()
    assert len(violations) >= 25
    red_light_car = violations["C06-09B"]
    assert (red_light_car.fine_min, red_light_car.fine_max, red_light_car.points) == (18_000_000, 20_000_000, 4)
    assert red_light_car.legal_ref == "điểm b khoản 9 Điều 6 Nghị định 168/2024/NĐ-CP"
    assert violations["M07-07C"].fine_max == 6_000_000
    assert all(v.fine_min <= v.fine_max and v.points <= 12 for v in violations.values())
    assert all(v.confirmed or v.note for v in violations.values())


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    mutate(raw["violations"])
    path = tmp_path / "violations.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("mutate", "key"), [
    (lambda v: v[0].update(fine_min=900_000, fine_max=100_000), "fine_max"),
    (lambda v: v[0].update(points=13), "points"),
    (lambda v: v[0].pop("article"), "article"),
    (lambda v: v[0].update(vehicle_kinds=["tank"]), "vehicle_kinds"),
    (lambda v: v[0].update(measured="speed"), "measured"),
    (lambda v: v[0].update(colour="red"), "colour"),
    (lambda v: v[1].update(code=v[0]["code"]), "code"),
    (lambda v: v[0].update(confirmed=False, note=""), "note"),
    (lambda v: v[0].update(suspension_months=[4, 2]), "suspension_months"),
])
def test_broken_catalogue_is_refused_naming_the_key(tmp_path, mutate, key):
    with pytest.raises(CatalogueError) as error:
        load(_write(tmp_path, mutate))
    assert error.value.key == key


def test_catalogue_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "violations.yaml"
    path.write_text("violations: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError):
        load(path)


@pytest.mark.parametrize(("raw", "kind", "display", "key"), [
    ("30A-123.45", "", "30A-123.45", "30A12345"),
    ("30a 12345", "", "30A-123.45", "30A12345"),
    ("29-B1 123.45", "", "29-B1 123.45", "29B112345"),
    ("29B1-12345", "", "29-B1 123.45", "29B112345"),
    ("30A-1234", "", "30A-1234", "30A1234"),
    ("29-B1 1234", "", "29-B1 1234", "29B11234"),
    ("51LD-123.45", "", "51LD-123.45", "51LD12345"),
    ("80NG 12345", "", "80NG-123.45", "80NG12345"),
    ("29-AA 123.45", "", "29AA-123.45", "29AA12345"),
    ("30A11234", "car", "30A-112.34", "30A11234"),
    ("30A11234", "motorbike", "30-A1 1234", "30A11234"),
])
def test_plates_normalise(raw, kind, display, key):
    plate = parse_plate(raw, vehicle_kind=kind)
    assert (plate.display, plate.key) == (display, key)


@pytest.mark.parametrize("raw", ["", "30A-123.4567", "05A-123.45", "ABC-123.45", "30QX-123.45", "30A-12.345x",
                                 "30" * 20, "30A-123,45"])
def test_malformed_plates_are_refused(raw):
    with pytest.raises(InvalidPlate):
        parse_plate(raw)


plates = st.builds(
    Plate, province=st.integers(11, 99).map(lambda n: f"{n:02d}"),
    series=st.one_of(st.sampled_from(string.ascii_uppercase),
                     st.tuples(st.sampled_from(string.ascii_uppercase), st.sampled_from("123456789")).map("".join),
                     st.sampled_from(["LD", "NG", "NN", "KT", "AA"])),
    number=st.one_of(st.integers(0, 99999).map(lambda n: f"{n:05d}"), st.integers(0, 9999).map(lambda n: f"{n:04d}")))


@given(plates)
def test_display_and_spellings_round_trip(plate):
    kind = "motorbike" if plate.series[-1].isdigit() else "car"
    assert parse_plate(plate.display) == plate
    for spelling in plate.spellings():
        assert parse_plate(spelling, vehicle_kind=kind).key == plate.key


@given(st.text(max_size=30))
def test_any_text_is_a_plate_or_a_clean_refusal(text):
    plate, key = plate_key_or_raw(text)
    assert key and len(key) <= 20
    if plate is not None:
        assert parse_plate(plate.display) == plate
