"""Registry console forms. They only parse what the browser sends (dates, numbers, choices for
display); every domain rule is checked by ``registry.services`` so the console, the API and
the seeder share one set of checks and one set of error messages."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.core.codes import ETHNIC_GROUPS, FOREIGN_ETHNICITY, NATIONALITIES, RELIGIONS
from popid.registry.models import HouseholdRelationship, MaritalStatus, Sex
from popid.web.fields import CommuneField

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REQUIRED = {"required": True}


def ethnicity_choices() -> list[tuple[str, str]]:
    choices = [(c.code, f"{c.code} – {c.name}") for c in ETHNIC_GROUPS.values()]
    return [*choices, (FOREIGN_ETHNICITY, f"{FOREIGN_ETHNICITY} – Người nước ngoài")]


def religion_choices() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} – {c.name}") for c in RELIGIONS.values()]


def nationality_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} – {name}") for code, name in NATIONALITIES.items()]


def code_select(choices: list[tuple[str, str]], *, blank: bool = False) -> forms.Select:
    """A select for a code list whose posted value the *service* validates (not the form),
    so an unknown code gets the registry's own message next to the field."""
    return forms.Select(choices=[("", "—"), *choices] if blank else choices)


class SearchForm(forms.Form):
    name = forms.CharField(label=_("Họ và tên"), max_length=150, required=False,
                           widget=forms.TextInput(attrs={"placeholder": _("Có dấu hoặc không dấu"),
                                                         "autofocus": True}))
    birth_year = forms.IntegerField(label=_("Năm sinh"), min_value=1850, max_value=2400, required=False)
    birth_date = forms.DateField(label=_("Ngày sinh"), required=False, widget=DATE_WIDGET)
    commune_code = CommuneField()


class LookupForm(forms.Form):
    id_number = forms.CharField(label=_("Số định danh cá nhân"), max_length=20,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "001090000000"}))

    def clean_id_number(self) -> str:
        """A malformed number is a typing error to fix, said once next to the field, not 'not found'."""
        value = "".join(self.cleaned_data.get("id_number", "").split())
        if not (len(value) == 12 and value.isdigit()):
            raise forms.ValidationError(_("Số định danh cá nhân gồm đúng 12 chữ số (đã nhập %(count)s ký tự)."),
                                        params={"count": len(value)})
        return value


class CommandForm(forms.Form):
    """Reason and legal reference are written into the history row of every command."""

    reason = forms.CharField(label=_("Lý do"), max_length=500, required=False,
                             widget=forms.TextInput(attrs=REQUIRED))
    legal_ref = forms.CharField(label=_("Căn cứ pháp lý"), max_length=200, required=False)


class VersionedCommandForm(CommandForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CorrectPersonForm(VersionedCommandForm):
    full_name = forms.CharField(label=_("Họ, chữ đệm và tên khai sinh"), max_length=150, required=False)
    birth_date = forms.DateField(label=_("Ngày sinh (không đổi năm)"), required=False, widget=DATE_WIDGET)
    birth_place = forms.CharField(label=_("Nơi sinh"), max_length=300, required=False)
    hometown = forms.CharField(label=_("Quê quán"), max_length=300, required=False)
    ethnicity_code = forms.CharField(label=_("Dân tộc"), required=False, widget=code_select(ethnicity_choices()))
    religion_code = forms.CharField(label=_("Tôn giáo"), required=False, widget=code_select(religion_choices()))
    nationality = forms.CharField(label=_("Quốc tịch"), required=False, widget=code_select(nationality_choices()))
    blood_type = forms.CharField(label=_("Nhóm máu"), max_length=3, required=False)
    old_id_number = forms.CharField(label=_("Số CMND cũ (9 số)"), max_length=9, required=False)
    marital_status = forms.ChoiceField(label=_("Tình trạng hôn nhân"), required=False,
                                       choices=[("", "—"), *MaritalStatus.choices])
    phone = forms.CharField(label=_("Số điện thoại"), max_length=15, required=False)
    email = forms.CharField(label=_("Thư điện tử"), max_length=254, required=False)

    CHANGE_FIELDS = ("full_name", "birth_date", "birth_place", "hometown", "ethnicity_code", "religion_code",
                     "nationality", "blood_type", "old_id_number", "marital_status", "phone", "email")

    field_order = [*CHANGE_FIELDS, "reason", "legal_ref", "version"]

    def changes(self, current: dict[str, Any]) -> dict[str, Any]:
        """Only the fields whose value differs from the record: the service sees a real diff."""
        out: dict[str, Any] = {}
        for name in self.CHANGE_FIELDS:
            value = self.cleaned_data.get(name)
            if name == "birth_date" and value is None:
                continue
            if isinstance(value, str):
                value = value.strip()
            old = current.get(name)
            if (old or "") != (value or ""):
                out[name] = value
        return out


class DeathForm(VersionedCommandForm):
    died_on = forms.DateField(label=_("Ngày chết"), widget=DATE_WIDGET)
    field_order = ["died_on", "reason", "legal_ref", "version"]


class ResidenceForm(VersionedCommandForm):
    commune_code = CommuneField(label=_("Xã/phường (tên hoặc mã)"), required=True)
    address = forms.CharField(label=_("Địa chỉ (số nhà, đường, thôn/tổ)"), max_length=300, required=False)
    valid_from = forms.DateField(label=_("Từ ngày"), widget=DATE_WIDGET)


class PermanentResidenceForm(ResidenceForm):
    household_code = forms.CharField(label=_("Nhập vào hộ (mã hộ, để trống để lập hộ mới)"), max_length=20,
                                     required=False)
    relationship = forms.ChoiceField(label=_("Quan hệ với chủ hộ"), initial=HouseholdRelationship.OTHER,
                                     choices=[c for c in HouseholdRelationship.choices
                                              if c[0] != HouseholdRelationship.HEAD])
    field_order = ["commune_code", "address", "household_code", "relationship", "valid_from", "reason",
                   "legal_ref", "version"]


class TemporaryResidenceForm(ResidenceForm):
    valid_until = forms.DateField(label=_("Đến ngày (tối đa 2 năm)"), widget=DATE_WIDGET)
    field_order = ["commune_code", "address", "valid_from", "valid_until", "reason", "legal_ref", "version"]


class CurrentResidenceForm(ResidenceForm):
    field_order = ["commune_code", "address", "valid_from", "reason", "legal_ref", "version"]


class MarriageForm(CommandForm):
    spouse_id_number = forms.CharField(label=_("Số định danh của vợ/chồng"), max_length=12)
    married_on = forms.DateField(label=_("Ngày đăng ký kết hôn"), widget=DATE_WIDGET)
    field_order = ["spouse_id_number", "married_on", "reason", "legal_ref"]


class ReissueForm(VersionedCommandForm):
    sex = forms.ChoiceField(label=_("Giới tính đúng"), required=False, choices=[("", "—"), *Sex.choices])
    birth_date = forms.DateField(label=_("Ngày sinh đúng"), required=False, widget=DATE_WIDGET)
    birth_registration_commune_code = CommuneField(label=_("Nơi đăng ký khai sinh đúng (xã/phường, tên hoặc mã)"))
    field_order = ["sex", "birth_date", "birth_registration_commune_code", "reason", "legal_ref", "version"]


class BirthForm(CommandForm):
    full_name = forms.CharField(label=_("Họ, chữ đệm và tên khai sinh"), max_length=150)
    birth_date = forms.DateField(label=_("Ngày sinh"), widget=DATE_WIDGET)
    sex = forms.ChoiceField(label=_("Giới tính"), choices=Sex.choices)
    birth_place = forms.CharField(label=_("Nơi sinh"), max_length=300, required=False)
    birth_registration_commune_code = CommuneField(label=_("Nơi đăng ký khai sinh (xã/phường, tên hoặc mã)"),
                                                   required=True)
    hometown = forms.CharField(label=_("Quê quán"), max_length=300, required=False)
    ethnicity_code = forms.CharField(label=_("Dân tộc"), initial="01", widget=code_select(ethnicity_choices()))
    religion_code = forms.CharField(label=_("Tôn giáo"), initial="00", widget=code_select(religion_choices()))
    nationality = forms.CharField(label=_("Quốc tịch"), initial="VN", widget=code_select(nationality_choices()))
    father_id_number = forms.CharField(label=_("Số định danh của cha"), max_length=12, required=False)
    father_name = forms.CharField(label=_("Họ tên cha (nếu chưa có số định danh)"), max_length=150, required=False)
    mother_id_number = forms.CharField(label=_("Số định danh của mẹ"), max_length=12, required=False)
    mother_name = forms.CharField(label=_("Họ tên mẹ (nếu chưa có số định danh)"), max_length=150, required=False)
    household_code = forms.CharField(label=_("Nhập vào hộ (mã hộ, để trống: hộ của mẹ hoặc cha)"), max_length=20,
                                     required=False)


class SplitHouseholdForm(CommandForm):
    member_id_numbers = forms.MultipleChoiceField(label=_("Thành viên tách hộ"), widget=forms.CheckboxSelectMultiple)
    new_head_id_number = forms.ChoiceField(label=_("Chủ hộ mới"))
    field_order = ["member_id_numbers", "new_head_id_number", "reason", "legal_ref"]

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["member_id_numbers"]).choices = members
        cast(forms.ChoiceField, self.fields["new_head_id_number"]).choices = members


class FindingFilterForm(forms.Form):
    commune_code = CommuneField()
    principle = forms.ChoiceField(label=_("Nguyên tắc"), required=False)
    kind = forms.ChoiceField(label=_("Loại lỗi"), required=False)

    def __init__(self, *args: Any, principles: list[tuple[str, str]], kinds: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["principle"]).choices = [("", _("Tất cả")), *principles]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("Tất cả")), *kinds]
