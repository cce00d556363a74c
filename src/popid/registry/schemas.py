"""API input/output schemas. Inputs forbid unknown fields, so a typo is a 422 naming it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field

from popid.core import admin_units
from popid.core.codes import (
    ETHNIC_GROUPS,
    FOREIGN_ETHNICITY,
    NATIONALITIES,
    RELIGIONS,
    ethnic_group_name,
    religion_name,
)
from popid.core.schema_types import CommuneCode, NonBlank, OptionalPersonName, PersonName, enum_schema

IdNumber = Field(pattern=r"^\d{12}$", description="Số định danh cá nhân, 12 chữ số")
Reason = Field(description="Lý do")
ReasonText = NonBlank(500)
EthnicityCode = Annotated[str, enum_schema([*ETHNIC_GROUPS, FOREIGN_ETHNICITY])]
ReligionCode = Annotated[str, enum_schema(RELIGIONS)]
Nationality = Annotated[str, enum_schema(NATIONALITIES)]
LegalRefText = NonBlank(200)
LegalRef = Field(default="", max_length=200, description="Căn cứ pháp lý")


class In(Schema):
    model_config = ConfigDict(extra="forbid")


# --- outputs -----------------------------------------------------------------------------
class ResidenceOut(Schema):
    kind: str
    address: str
    commune_code: str
    commune_name: str
    valid_from: date
    valid_until: date | None
    ended_on: date | None
    household_code: str | None

    @staticmethod
    def resolve_commune_name(obj: Any) -> str:
        return admin_units.commune_label(obj.commune_code)

    @staticmethod
    def resolve_household_code(obj: Any) -> str | None:
        return obj.household.code if obj.household_id else None


class RelationOut(Schema):
    kind: str
    name: str = Field(alias="relative_name")
    id_number: str = Field(alias="relative_id_number")
    nationality: str = Field(alias="relative_nationality")


class MemberOut(Schema):
    id_number: str
    full_name: str
    birth_date: date | None
    relationship: str
    joined_on: date

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return str(obj.person.id_number)

    @staticmethod
    def resolve_full_name(obj: Any) -> str:
        return str(obj.person.full_name)

    @staticmethod
    def resolve_birth_date(obj: Any) -> date | None:
        birth_date: date | None = obj.person.birth_date
        return birth_date


class HouseholdOut(Schema):
    code: str
    address: str
    commune_code: str
    commune_name: str
    head_id_number: str | None
    created_on: date
    version: int
    members: list[MemberOut]


class PersonSummary(Schema):
    id_number: str
    full_name: str
    birth_date: date | None
    birth_year: int
    sex: str
    status: str
    commune_code: str
    commune_name: str

    @staticmethod
    def resolve_commune_name(obj: Any) -> str:
        return admin_units.commune_label(obj.commune_code)


class PersonOut(PersonSummary):
    birth_date_precision: str
    birth_place: str
    birth_registration_commune_code: str
    hometown: str
    ethnicity_code: str
    ethnicity: str
    religion_code: str
    religion: str
    nationality: str
    blood_type: str
    old_id_number: str
    absence_status: str
    residence_file_number: str
    marital_status: str
    died_on: date | None
    missing_since: date | None
    phone: str
    email: str
    version: int
    updated_at: datetime

    @staticmethod
    def resolve_ethnicity(obj: Any) -> str:
        return ethnic_group_name(obj.ethnicity_code)

    @staticmethod
    def resolve_religion(obj: Any) -> str:
        return religion_name(obj.religion_code)


class PersonDetailOut(Schema):
    person: PersonOut
    residences: list[ResidenceOut]
    relations: list[RelationOut]
    household: HouseholdOut | None
    cancelled_id_numbers: list[str]


class SearchOut(Schema):
    total: int
    page: int
    page_size: int
    items: list[PersonSummary]


class HistoryOut(Schema):
    at: datetime
    actor: str
    actor_unit: str
    command: str
    reason: str
    legal_ref: str
    before: dict[str, Any]
    after: dict[str, Any]
    version: int


class HistoryPage(Schema):
    total: int
    page: int
    page_size: int
    items: list[HistoryOut]


# --- command inputs ----------------------------------------------------------------------
class BirthIn(In):
    full_name: PersonName(150, min_length=2)  # type: ignore[valid-type]
    birth_date: date
    sex: str = Field(pattern=r"^[MF]$")
    birth_place: str = Field(min_length=1, max_length=300)
    birth_registration_commune_code: CommuneCode
    hometown: NonBlank(300)  # type: ignore[valid-type]
    ethnicity_code: EthnicityCode
    religion_code: ReligionCode = "00"
    nationality: Nationality = "VN"
    father_id_number: str | None = Field(default=None, pattern=r"^\d{12}$")
    mother_id_number: str | None = Field(default=None, pattern=r"^\d{12}$")
    father_name: OptionalPersonName() = ""  # type: ignore[valid-type]
    mother_name: OptionalPersonName() = Field(default="", examples=["Trần Thị Bình"],  # type: ignore[valid-type]
                             description="Cần ít nhất một trong: father_id_number, mother_id_number, "
                                         "father_name, mother_name (không thì 422 required)")
    household_code: str | None = Field(default=None, max_length=20)
    reason: str = Field(default="Đăng ký khai sinh", min_length=1, max_length=500)
    legal_ref: str = LegalRef


class DeathIn(In):
    died_on: date
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: str = LegalRef
    version: int | None = Field(default=None, ge=1)


class PermanentResidenceIn(In):
    commune_code: CommuneCode
    address: str = Field(default="", max_length=300)
    valid_from: date
    household_code: str | None = Field(default=None, max_length=20)
    relationship: str = Field(default="other", max_length=12)
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: str = Field(default="Luật Cư trú 2020, Điều 20-22", max_length=200)
    version: int | None = Field(default=None, ge=1)


class TemporaryResidenceIn(In):
    commune_code: CommuneCode
    address: str = Field(min_length=1, max_length=300)
    valid_from: date
    valid_until: date
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: str = Field(default="Luật Cư trú 2020, Điều 27-28", max_length=200)
    version: int | None = Field(default=None, ge=1)


class CurrentResidenceIn(In):
    commune_code: CommuneCode
    address: str = Field(min_length=1, max_length=300)
    valid_from: date
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: str = Field(default="Luật Cư trú 2020, Điều 19", max_length=200)
    version: int | None = Field(default=None, ge=1)


class SplitHouseholdIn(In):
    member_id_numbers: list[str] = Field(min_length=1, max_length=50)
    new_head_id_number: str = IdNumber
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: str = Field(default="Luật Cư trú 2020, Điều 25", max_length=200)


class MarriageIn(In):
    spouse_id_number: str = IdNumber
    married_on: date
    reason: str = Field(default="Đăng ký kết hôn", min_length=1, max_length=500)
    legal_ref: str = Field(default="Luật Hôn nhân và gia đình 2014", max_length=200)


class CorrectionChanges(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    full_name: PersonName(150) | None = None  # type: ignore[valid-type]
    birth_date: date | None = None
    birth_place: str | None = Field(default=None, max_length=300)
    hometown: str | None = Field(default=None, max_length=300)
    ethnicity_code: str | None = Field(default=None, max_length=2)
    religion_code: str | None = Field(default=None, max_length=2)
    nationality: str | None = Field(default=None, max_length=2)
    blood_type: str | None = Field(default=None, max_length=3)
    old_id_number: str | None = Field(default=None, max_length=9)
    phone: str | None = Field(default=None, max_length=15)
    email: str | None = Field(default=None, max_length=254)
    marital_status: str | None = Field(default=None, max_length=10)


class CorrectionIn(In):
    changes: CorrectionChanges
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: LegalRefText  # type: ignore[valid-type]
    version: int = Field(ge=1, description="Phiên bản hồ sơ đã đọc (khóa lạc quan)")


class ReissueIn(In):
    sex: str | None = Field(default=None, pattern=r"^[MF]$")
    birth_date: date | None = None
    birth_registration_commune_code: CommuneCode | None = None
    reason: ReasonText = Reason  # type: ignore[valid-type]
    legal_ref: LegalRefText  # type: ignore[valid-type]
    version: int = Field(ge=1)
