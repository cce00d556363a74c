"""The National Population Database: persons with the 26 fields of the Law on
Identification 2023 Art. 9, households, residences, cards, cancelled numbers, vital events,
history and the outbox.

Rows change only through ``registry.services``; each command bumps ``Person.version``
(optimistic locking), writes a ``HistoryEntry`` and an ``OutboxEvent`` in one transaction.
Field numbers in comments refer to Art. 9.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class PersonStatus(models.TextChoices):
    ALIVE = "alive", _("Còn sống")
    DECEASED = "deceased", _("Đã chết")
    MISSING = "missing", _("Mất tích")
    MERGED = "merged", _("Đã hợp nhất vào hồ sơ khác")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Ngày")
    MONTH = "month", _("Tháng")
    YEAR = "year", _("Năm")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Chưa kết hôn")
    MARRIED = "married", _("Đã kết hôn")
    DIVORCED = "divorced", _("Ly hôn")
    WIDOWED = "widowed", _("Góa")


class Person(models.Model):
    id_number = models.CharField(max_length=12, unique=True)  # 3
    full_name = models.CharField(max_length=150)  # 1
    name_norm = models.CharField(max_length=150)  # accent-free, lower-case: search and blocking
    # 4: old records may only know the year (precision=year, birth_date = 1 Jan of that year)
    birth_date = models.DateField(null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField()
    birth_date_precision = models.CharField(max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    sex = models.CharField(max_length=1, choices=Sex.choices)  # 5
    birth_place = models.CharField(max_length=300, blank=True)  # 6
    birth_registration_commune_code = models.CharField(max_length=5, blank=True)  # 7
    birth_registration_province_code = models.CharField(max_length=2, blank=True)  # 7 (blocking key)
    hometown = models.CharField(max_length=300, blank=True)  # 8 quê quán
    ethnicity_code = models.CharField(max_length=2, blank=True)  # 9
    religion_code = models.CharField(max_length=2, blank=True)  # 10
    nationality = models.CharField(max_length=2, default="VN")  # 11 ISO 3166-1 alpha-2
    blood_type = models.CharField(max_length=3, blank=True)  # 12
    old_id_number = models.CharField(max_length=9, blank=True)  # 13 CMND
    absence_status = models.CharField(max_length=100, blank=True)  # 19 khai báo tạm vắng
    absence_until = models.DateField(null=True, blank=True)
    residence_file_number = models.CharField(max_length=30, blank=True)  # 20
    marital_status = models.CharField(max_length=10, choices=MaritalStatus.choices, blank=True)  # 21
    status = models.CharField(max_length=10, choices=PersonStatus.choices, default=PersonStatus.ALIVE)
    died_on = models.DateField(null=True, blank=True)  # 24
    missing_since = models.DateField(null=True, blank=True)  # 24
    phone = models.CharField(max_length=15, blank=True)  # 25
    email = models.EmailField(blank=True)  # 25
    other_info = models.JSONField(default=dict, blank=True)  # 26
    # Jurisdiction: the commune of permanent residence, else current residence, else birth
    # registration. Kept in step by the services that change residences.
    commune_code = models.CharField(max_length=5, blank=True)
    province_code = models.CharField(max_length=2, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # pattern ops: on PostgreSQL the same index serves "=" and the LIKE 'prefix%' search
            # (the database collation is not C); other backends ignore opclasses.
            models.Index(fields=["name_norm", "birth_year"], name="person_name_year_pattern",
                         opclasses=["varchar_pattern_ops", "int2_ops"]),
            models.Index(fields=["commune_code", "name_norm"], name="person_commune_name"),
            models.Index(fields=["province_code"], name="person_province"),
            models.Index(fields=["birth_date", "birth_registration_province_code"], name="person_dup_block"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.id_number})"


class OtherName(models.Model):  # 2
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="other_names")
    name = models.CharField(max_length=150)
    name_norm = models.CharField(max_length=150, db_index=True)
    kind = models.CharField(max_length=30, default="alias")

    def __str__(self) -> str:
        return self.name


class RelationKind(models.TextChoices):
    FATHER = "father", _("Cha")
    MOTHER = "mother", _("Mẹ")
    SPOUSE = "spouse", _("Vợ/chồng")
    CHILD = "child", _("Con")
    GUARDIAN = "guardian", _("Người đại diện hợp pháp")
    WARD = "ward", _("Người được đại diện")


class FamilyRelation(models.Model):  # 15: name, ID number and nationality of each relative
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=10, choices=RelationKind.choices)
    relative = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    relative_name = models.CharField(max_length=150)
    relative_id_number = models.CharField(max_length=12, blank=True)
    relative_nationality = models.CharField(max_length=2, default="VN")
    valid_from = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["relative", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.relative_name}"


class Household(models.Model):  # 23
    code = models.CharField(max_length=20, unique=True)
    head = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=300)
    commune_code = models.CharField(max_length=5)
    province_code = models.CharField(max_length=2)
    created_on = models.DateField()
    dissolved_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["commune_code"])]

    def __str__(self) -> str:
        return self.code


class HouseholdRelationship(models.TextChoices):  # 22 quan hệ với chủ hộ
    HEAD = "head", _("Chủ hộ")
    SPOUSE = "spouse", _("Vợ/chồng")
    CHILD = "child", _("Con")
    PARENT = "parent", _("Cha/mẹ")
    GRANDCHILD = "grandchild", _("Cháu")
    SIBLING = "sibling", _("Anh/chị/em")
    OTHER = "other", _("Khác")


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="household_memberships")
    relationship = models.CharField(max_length=12, choices=HouseholdRelationship.choices)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(left_on__isnull=True),
                                    name="one_active_household_per_person"),
        ]
        indexes = [models.Index(fields=["household", "left_on"])]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.household_id}"


class ResidenceKind(models.TextChoices):
    PERMANENT = "permanent", _("Thường trú")  # 16
    TEMPORARY = "temporary", _("Tạm trú")  # 17
    CURRENT = "current", _("Nơi ở hiện tại")  # 18


class Residence(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    kind = models.CharField(max_length=10, choices=ResidenceKind.choices)
    address = models.CharField(max_length=300)
    commune_code = models.CharField(max_length=5)
    province_code = models.CharField(max_length=2, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)  # temporary residence: at most 2 years
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], condition=Q(ended_on__isnull=True),
                                    name="one_active_residence_per_kind"),
        ]
        indexes = [models.Index(fields=["commune_code", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.address}"


class IdentityCard(models.Model):  # 14
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cards")
    card_number = models.CharField(max_length=12)
    issued_on = models.DateField()
    issued_by = models.CharField(max_length=200)
    valid_until = models.DateField(null=True, blank=True)  # null: no expiry (issued after 60)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.card_number} ({self.issued_on})"


class CancelledIdNumber(models.Model):
    """Numbers cancelled under Circular 59/2021 Art. 6 (wrong birth data, sex change, ...)."""

    id_number = models.CharField(max_length=12, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cancelled_numbers")
    replaced_by = models.CharField(max_length=12)
    cancelled_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300)
    legal_ref = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.id_number} -> {self.replaced_by}"


class VitalEventKind(models.TextChoices):
    BIRTH = "birth", _("Khai sinh")
    DEATH = "death", _("Khai tử")
    MARRIAGE = "marriage", _("Kết hôn")
    DIVORCE = "divorce", _("Ly hôn")
    MISSING = "missing", _("Tuyên bố mất tích")


class VitalEvent(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="vital_events")
    kind = models.CharField(max_length=10, choices=VitalEventKind.choices)
    occurred_on = models.DateField()
    commune_code = models.CharField(max_length=5, blank=True)
    details = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_on}"


class HistoryEntry(models.Model):
    """Who changed what, when, why, and under which legal reference: before and after."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    actor_unit = models.CharField(max_length=200, blank=True)
    command = models.CharField(max_length=50)
    reason = models.CharField(max_length=500)
    legal_ref = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.command} v{self.version}"


class PersonMerge(models.Model):
    """Two records of one person merged (``services.merge_persons``): what moved, so that a
    supervisor can undo it within ``MERGE_UNDO_WINDOW`` (``services.split_persons``)."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_absorbed")
    merged_id_number = models.CharField(max_length=12)
    # [[app_label.Model, pk, field, "moved" | "ended"], ...] in the order applied
    moved = models.JSONField(default=list)
    survivor_before = models.JSONField(default=dict)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)
    legal_ref = models.CharField(max_length=200, blank=True)
    merged_at = models.DateTimeField(auto_now_add=True)
    split_at = models.DateTimeField(null=True, blank=True)
    split_by = models.CharField(max_length=200, blank=True)
    split_reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.merged_id_number} -> {self.survivor_id}"


class OutboxEvent(models.Model):
    """Events written in the same transaction as the change; delivered after commit by the
    consumers of later issues (exchange, wallet)."""

    topic = models.CharField(max_length=50, db_index=True)
    aggregate_id = models.CharField(max_length=20, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["published_at", "id"])]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate_id}"
