"""Procedure definitions: every shipped file loads; a broken one is refused naming file and key."""

from __future__ import annotations

import pytest

from popid.services.procedures import ProcedureDefinitionError, catalogue, load_directory

GOOD = """
code: sample
name: Thủ tục mẫu
who: {level: 1}
fee: {in_person: 0, online: 0}
deadline_working_days: 1
processing_unit: permanent_residence
fields:
  - {name: a, type: string, required: true, label: A}
"""


def test_shipped_procedures_load_with_domain_figures():
    procedures = catalogue()
    assert {"temporary_residence", "permanent_residence", "household_split", "absence_declaration",
            "stay_notification", "residence_confirmation"} <= set(procedures)
    temporary = procedures["temporary_residence"]
    assert (temporary.fee_in_person, temporary.fee_online, temporary.deadline_working_days) == (15000, 7000, 3)
    permanent = procedures["permanent_residence"]
    assert (permanent.fee_in_person, permanent.fee_online, permanent.deadline_working_days) == (20000, 10000, 7)
    assert (procedures["household_split"].fee_in_person, procedures["household_split"].fee_online) == (10000, 5000)
    assert procedures["absence_declaration"].deadline_working_days == 1
    assert temporary.command == "register_temporary_residence"


def test_adding_a_file_adds_a_procedure(tmp_path):
    (tmp_path / "sample.yaml").write_text(GOOD, encoding="utf-8")
    assert list(load_directory(tmp_path)) == ["sample"]


@pytest.mark.parametrize(("change", "key"), [
    (("who: {level: 1}", "who: {level: 3}"), "who.level"),
    (("fee: {in_person: 0, online: 0}", "fee: {in_person: 0}"), "fee.online"),
    (("type: string", "type: blob"), "fields[0].type"),
    (("deadline_working_days: 1", "deadline_working_days: soon"), "deadline_working_days"),
    (("processing_unit: permanent_residence", "processing_unit: target_commune"), "processing_unit"),
    (("code: sample", "code: sample\ncommand: {name: drop_database, args: {}}"), "command.name"),
    (("code: sample", "code: sample\ncolour: red"), "colour"),
])
def test_broken_definition_is_rejected_with_file_and_key(tmp_path, change, key):
    (tmp_path / "broken.yaml").write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(ProcedureDefinitionError) as info:
        load_directory(tmp_path)
    assert info.value.source == "broken.yaml" and info.value.key == key
    assert str(info.value).startswith(f"broken.yaml: {key}:")


def test_invalid_yaml_is_rejected(tmp_path):
    (tmp_path / "bad.yaml").write_text("code: [unclosed", encoding="utf-8")
    with pytest.raises(ProcedureDefinitionError, match=r"bad\.yaml"):
        load_directory(tmp_path)
