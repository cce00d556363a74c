"""`popid match dedupe|link|evaluate` on generic CSV files, and every kind of bad input."""

from __future__ import annotations

import csv
import json
import random

import pytest
from django.core.management import CommandError, call_command

FIRST = ["John", "Mary", "Peter", "Anna", "James", "Linda", "Paul", "Susan", "Mark", "Laura", "David", "Emma"]
LAST = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker"]
CITIES = ["London", "Leeds", "York", "Bristol", "Leicester", "Derby"]


def _people(n: int, seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"rid": f"r{i}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     "dob": f"{rng.randrange(1940, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                     "sex": rng.choice("MF"), "city": rng.choice(CITIES), "phone": f"07{rng.randrange(10**9):09d}"})
    return rows


def _write(path, rows, *, delimiter=",", encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


FIELDS = ["--field", "full_name=name", "--field", "birth_date=dob", "--field", "sex=sex", "--field", "locality=city",
          "--field", "phone=phone"]


def _duplicated_file(tmp_path):
    rows = _people(400)
    truth = []
    for i in range(0, 40, 2):  # 20 second records: name typo, dd/mm/yyyy date, same phone
        original = rows[i]
        y, m, d = original["dob"].split("-")
        copy = {**original, "rid": f"d{i}", "name": original["name"].replace("a", "e", 1), "dob": f"{d}/{m}/{y}"}
        rows.append(copy)
        truth.append((original["rid"], copy["rid"]))
    return _write(tmp_path / "people.csv", rows), truth


def test_dedupe_finds_duplicates_in_a_non_vietnamese_file(tmp_path):
    path, truth = _duplicated_file(tmp_path)
    out, clusters, model = tmp_path / "pairs.csv", tmp_path / "clusters.csv", tmp_path / "model.json"
    call_command("match", "dedupe", str(path), "--id", "rid", *FIELDS, "--out", str(out), "--clusters", str(clusters),
                 "--save-model", str(model), verbosity=0)
    with out.open() as f:
        pairs = list(csv.DictReader(f))
    assert set(pairs[0]) == {"id_l", "id_r", "match_probability", "match_weight"}
    found = {tuple(sorted((p["id_l"], p["id_r"]))) for p in pairs}
    hits = len(found & {tuple(sorted(t)) for t in truth})
    assert hits >= 18 and len(found) - hits <= 3
    with clusters.open() as f:
        cluster_of = {r["id"]: r["cluster_id"] for r in csv.DictReader(f)}
    assert len(cluster_of) == 420 and cluster_of["r0"] == cluster_of["d0"]
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text("id_l,id_r\n" + "".join(f"{a},{b}\n" for a, b in truth))
    from io import StringIO
    report = StringIO()
    call_command("match", "evaluate", "--truth", str(truth_file), "--pairs", str(out), "--clusters", str(clusters),
                 stdout=report)
    assert "pairs" in report.getvalue() and "clusters" in report.getvalue() and "F1" in report.getvalue()
    # the saved model is reused as it is, and refused for another field set
    call_command("match", "dedupe", str(path), "--id", "rid", *FIELDS, "--out", str(tmp_path / "again.csv"),
                 "--model", str(model), verbosity=0)
    with pytest.raises(CommandError, match="bộ trường khác"):
        call_command("match", "dedupe", str(path), "--id", "rid", "--field", "full_name=name",
                     "--out", str(tmp_path / "x.csv"), "--model", str(model), verbosity=0)


def test_link_two_files_with_different_id_columns(tmp_path):
    rows = _people(300, seed=9)
    left = _write(tmp_path / "left.csv", rows)
    right_rows = [{"key": f"k{i}", **{k: v for k, v in r.items() if k != "rid"}} for i, r in enumerate(rows[:50])]
    right = _write(tmp_path / "right.csv", right_rows, delimiter=";")
    out = tmp_path / "links.csv"
    call_command("match", "link", str(left), str(right), "--id", "rid", "--right-id", "key", *FIELDS,
                 "--out", str(out), verbosity=0)
    with out.open() as f:
        links = {(r["id_l"], r["id_r"]) for r in csv.DictReader(f)}
    assert sum((f"r{i}", f"k{i}") in links for i in range(50)) >= 48


def _dedupe(path, tmp_path, *extra):
    call_command("match", "dedupe", str(path), "--id", "rid", *(extra or FIELDS), "--out", str(tmp_path / "o.csv"),
                 verbosity=0)


@pytest.mark.parametrize(("name", "encoding"), [("Đặng Thị Ánh", "utf-16"), ("José Müller", "latin-1"),
                                               ("Tr\u00e2\u0300n V\u0103n \u0110\u01b0\u0301c", "cp1258")])
def test_wrong_encoding_is_a_clear_error(tmp_path, name, encoding):
    # cp1258 (Windows Vietnamese) writes the tone marks as separate bytes after the letter
    path = _write(tmp_path / "latin.csv", [{"rid": "1", "name": name, "dob": "1990-01-01", "sex": "F",
                                            "city": "Huế" if encoding == "utf-16" else "Köln", "phone": "1"},
                                           {"rid": "2", "name": name, "dob": "1990-01-01", "sex": "F",
                                            "city": "Hue", "phone": "2"}], encoding=encoding)
    with pytest.raises(CommandError, match="UTF-8"):
        _dedupe(path, tmp_path)
    assert not (tmp_path / "o.csv").exists()


def test_a_delimiter_other_than_the_data_uses_is_a_clear_error(tmp_path):
    """Tab-separated header, comma-separated rows: the columns named by --field are not found."""
    path = tmp_path / "mixed.csv"
    path.write_text("rid\tname\tdob\n1,An,1990-01-01\n2,Binh,1991-02-02\n", encoding="utf-8")
    with pytest.raises(CommandError):
        _dedupe(path, tmp_path, "--field", "full_name=name", "--field", "birth_date=dob")
    assert not (tmp_path / "o.csv").exists()


def test_unknown_delimiter_is_a_clear_error(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("rid name dob\n1 An 1990\n2 Binh 1991\n")
    with pytest.raises(CommandError, match="phân cách"):
        _dedupe(path, tmp_path)


def test_missing_and_duplicated_columns(tmp_path):
    path = _write(tmp_path / "p.csv", _people(5))
    with pytest.raises(CommandError, match="thiếu cột: surname"):
        _dedupe(path, tmp_path, "--field", "family_name=surname")
    dup = tmp_path / "dup.csv"
    dup.write_text("rid,name,name\n1,An,Binh\n")
    with pytest.raises(CommandError, match="trùng tên: name"):
        _dedupe(dup, tmp_path, "--field", "full_name=name")


def test_unknown_role_and_repeated_role(tmp_path):
    path = _write(tmp_path / "p.csv", _people(5))
    with pytest.raises(CommandError, match="Vai trò không xác định 'nickname'"):
        _dedupe(path, tmp_path, "--field", "nickname=name")
    with pytest.raises(CommandError, match="hai lần"):
        _dedupe(path, tmp_path, "--field", "full_name=name", "--field", "full_name=city")


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="rỗng"):
        _dedupe(empty, tmp_path)
    header = tmp_path / "header.csv"
    header.write_text("rid,name,dob,sex,city,phone\n")
    with pytest.raises(CommandError, match="tiêu đề"):
        _dedupe(header, tmp_path)


def test_duplicate_ids_are_refused(tmp_path):
    rows = _people(5)
    rows[3]["rid"] = rows[1]["rid"]
    path = _write(tmp_path / "p.csv", rows)
    with pytest.raises(CommandError, match="lặp lại ở dòng 5"):
        _dedupe(path, tmp_path)


def test_unparseable_dates_are_counted_not_fatal(tmp_path, capsys):
    rows = _people(60)
    for row in rows[:7]:
        row["dob"] = "not a date"
    path = _write(tmp_path / "p.csv", rows)
    call_command("match", "dedupe", str(path), "--id", "rid", *FIELDS, "--out", str(tmp_path / "o.csv"), verbosity=0)
    assert "7 dòng có ngày sinh không đọc được" in capsys.readouterr().err
    assert (tmp_path / "o.csv").exists()


def test_model_file_that_is_not_a_model(tmp_path):
    path = _write(tmp_path / "p.csv", _people(20))
    bogus = tmp_path / "model.json"
    bogus.write_text(json.dumps({"hello": 1}))
    with pytest.raises(CommandError, match="mô hình"):
        _dedupe(path, tmp_path, *FIELDS, "--model", str(bogus))


def test_link_a_file_to_the_registry(family, tmp_path):
    an = family["an"]
    rows = [
        {"ref": "A1", "ho_ten": "Nguyeenx Vawn An", "ngay_sinh": "12/05/1990", "gioi": "Nam"},
        {"ref": "A2", "ho_ten": "Trần Thị Bình", "ngay_sinh": "20/08/1992", "gioi": "Nữ"},
        {"ref": "A3", "ho_ten": "Phạm Quốc Việt", "ngay_sinh": "01/01/1970", "gioi": "Nam"},
    ]
    path = _write(tmp_path / "beneficiaries.csv", rows)
    out = tmp_path / "links.csv"
    call_command("match", "link", str(path), "--registry", "--id", "ref", "--field", "full_name=ho_ten",
                 "--field", "birth_date=ngay_sinh", "--field", "sex=gioi", "--out", str(out), "--threshold", "0.5",
                 verbosity=0)
    with out.open() as f:
        links = {(r["id_l"], r["id_r"]) for r in csv.DictReader(f)}
    assert ("A1", an.id_number) in links and ("A2", family["binh"].id_number) in links
    assert not any(left == "A3" for left, _ in links)
