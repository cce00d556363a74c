"""The immigration database: foreign persons and their travel documents, visas, accommodation
establishments with their staff, stays (arrival/departure declarations), overstay alerts and a
watch list with hits for officers to review."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")
    UNSPECIFIED = "X", _("Không xác định")


class ForeignPerson(models.Model):
    """One foreign person. Found by nationality + the number of one of their travel documents
    (``TravelDocument``); a new passport is added to the same person's document history."""

    nationality = models.CharField(max_length=3, db_index=True)
    surname = models.CharField(max_length=80)
    given_names = models.CharField(max_length=120, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNSPECIFIED)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.surname} {self.given_names} ({self.nationality})"

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_names}".strip()


class DocumentKind(models.TextChoices):
    PASSPORT = "passport", _("Hộ chiếu (TD3)")
    ID_CARD = "id_card", _("Thẻ căn cước/giấy tờ đi lại (TD1/TD2)")


class TravelDocument(models.Model):
    """A passport or travel card of a foreign person; ``(nationality, number)`` is the look-up key."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices, default=DocumentKind.PASSPORT)
    nationality = models.CharField(max_length=3)
    issuing_state = models.CharField(max_length=3)
    number = models.CharField(max_length=20)
    expiry_date = models.DateField(null=True, blank=True)
    mrz = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["nationality", "number"], name="imm_document_key")]

    def __str__(self) -> str:
        return f"{self.nationality} {self.number}"


class VisaKind(models.TextChoices):
    VISA = "visa", _("Thị thực")
    E_VISA = "e_visa", _("Thị thực điện tử")
    EXEMPTION = "exemption", _("Miễn thị thực")
    TEMPORARY_RESIDENCE_CARD = "trc", _("Thẻ tạm trú")


class Entries(models.TextChoices):
    SINGLE = "single", _("Một lần")
    MULTIPLE = "multiple", _("Nhiều lần")


class Visa(models.Model):
    """The permission to stay: a visa, an e-visa (at most 90 days), a visa exemption or a
    temporary residence card, with its validity."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.CASCADE, related_name="visas")
    number = models.CharField(max_length=30)
    kind = models.CharField(max_length=10, choices=VisaKind.choices, default=VisaKind.E_VISA)
    entries = models.CharField(max_length=10, choices=Entries.choices, default=Entries.SINGLE)
    valid_from = models.DateField()
    valid_until = models.DateField(db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "number"], name="imm_visa_per_person")]

    def __str__(self) -> str:
        return f"{self.kind} {self.number} → {self.valid_until}"


class EstablishmentKind(models.TextChoices):
    HOTEL = "hotel", _("Khách sạn")
    GUEST_HOUSE = "guest_house", _("Nhà nghỉ")
    HOMESTAY = "homestay", _("Homestay")
    OTHER = "other", _("Cơ sở lưu trú khác")


class Establishment(models.Model):
    """An accommodation establishment registered with the police of its commune. ``remote_area``
    gives it 24 hours instead of 12 to declare; ``subsystem`` is the property-management system
    (an exchange subsystem with the ``accommodation`` grant) allowed to declare for it."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=EstablishmentKind.choices, default=EstablishmentKind.HOTEL)
    commune_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    address = models.CharField(max_length=300)
    remote_area = models.BooleanField(default=False)
    subsystem = models.ForeignKey("exchange.Subsystem", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="establishments")
    is_active = models.BooleanField(default=True)
    registered_by = models.CharField(max_length=200)
    registered_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def deadline_hours(self) -> int:
        return 24 if self.remote_area else 12


class EstablishmentStaff(models.Model):
    """A citizen (identity account) allowed to declare guests for one establishment."""

    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="staff")
    account = models.ForeignKey("identity.CitizenAccount", on_delete=models.CASCADE,
                                related_name="establishment_links")
    is_active = models.BooleanField(default=True)
    added_by = models.CharField(max_length=200)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["establishment", "account"], name="imm_staff_once")]

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.establishment_id}"


class Channel(models.TextChoices):
    WEB = "web", _("Biểu mẫu web")
    API = "api", _("API phần mềm quản lý lưu trú")
    CSV = "csv", _("Tệp CSV")


class Stay(models.Model):
    """A foreign guest's stay at an establishment: the arrival declaration, later the departure.
    ``warnings`` records what was accepted but needs an officer's eye (late declaration, guest
    checked in elsewhere the same night, watch-list hit)."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.PROTECT, related_name="stays")
    document = models.ForeignKey(TravelDocument, on_delete=models.PROTECT, related_name="stays")
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="stays")
    commune_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    room = models.CharField(max_length=20, blank=True)
    arrival_at = models.DateTimeField()
    arrival_declared_at = models.DateTimeField()
    arrival_late = models.BooleanField(default=False)
    departure_at = models.DateTimeField(null=True, blank=True)
    departure_declared_at = models.DateTimeField(null=True, blank=True)
    departure_late = models.BooleanField(default=False)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    declared_by = models.CharField(max_length=200)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["commune_code", "departure_at"]),
                   models.Index(fields=["person", "arrival_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.establishment_id} {self.arrival_at:%Y-%m-%d}"


class BorderEventKind(models.TextChoices):
    ENTRY = "entry", _("Nhập cảnh")
    EXIT = "exit", _("Xuất cảnh")


class BorderEvent(models.Model):
    """An entry or exit of a foreign person at a border gate, recorded by a border subsystem
    (exchange grant ``border_events``). An exit after the latest entry ends the stay in the
    country: no overstay alert is raised for that person any more."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.PROTECT, related_name="border_events")
    document = models.ForeignKey(TravelDocument, on_delete=models.PROTECT, related_name="border_events")
    kind = models.CharField(max_length=5, choices=BorderEventKind.choices)
    gate = models.CharField(max_length=40)
    at = models.DateTimeField()
    visa = models.ForeignKey(Visa, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries_made")
    recorded_by = models.CharField(max_length=200)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["person", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id} {self.gate}"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Chưa xử lý")
    REVIEWED = "reviewed", _("Đã xem xét")


class OverstayAlert(models.Model):
    """A foreigner whose permission to stay expired with no departure declared (computed by
    ``popid immigration overstays``)."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.CASCADE, related_name="overstay_alerts")
    # the permission that ended: a visa or a residence card
    visa = models.ForeignKey(Visa, null=True, blank=True, on_delete=models.CASCADE, related_name="overstay_alerts")
    residence_card = models.ForeignKey("TemporaryResidenceCard", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="overstay_alerts")
    valid_until = models.DateField(null=True, blank=True)
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="overstay_alerts")
    commune_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    days_over = models.PositiveIntegerField()
    computed_on = models.DateField()
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    reviewed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visa", "stay"], name="imm_overstay_once"),
                       models.UniqueConstraint(fields=["residence_card", "stay"], name="imm_overstay_card_once")]

    def __str__(self) -> str:
        return f"overstay {self.person_id} +{self.days_over}d"


class WatchListEntry(models.Model):
    """A person to be flagged when declared as a guest (exact match on nationality + document
    number, or on nationality + name + birth date)."""

    nationality = models.CharField(max_length=3)
    document_number = models.CharField(max_length=20, blank=True)
    surname = models.CharField(max_length=80)
    given_names = models.CharField(max_length=120, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    added_by = models.CharField(max_length=200)
    added_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.nationality} {self.surname}"


class WatchHit(models.Model):
    """A declared guest who matches a watch-list entry: exactly (``document``,
    ``name_birth_date``, found in the declaration) or by the probabilistic matcher (``matcher``,
    with the Splink match probability and the per-comparison evidence)."""

    entry = models.ForeignKey(WatchListEntry, on_delete=models.CASCADE, related_name="hits")
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="watch_hits")
    matched_on = models.CharField(max_length=20)
    score = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    commune_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    reviewed_by = models.CharField(max_length=200, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "stay"], name="imm_watch_hit_once")]

    def __str__(self) -> str:
        return f"hit {self.entry_id} / stay {self.stay_id}"


class WatchScreening(models.Model):
    """One run of the matcher over declared guests against the watch list (the cursor of the
    screening job is the highest stay id it compared)."""

    last_stay_id = models.BigIntegerField(default=0)
    guests = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)
    comparisons = models.PositiveIntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    ran_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"screening → stay {self.last_stay_id}"


class ResidenceCardKind(models.TextChoices):
    TEMPORARY = "temporary", _("Thẻ tạm trú")
    PERMANENT = "permanent", _("Thẻ thường trú")


class TemporaryResidenceCard(models.Model):
    """A temporary (or permanent) residence card of a foreigner (Law on Entry, Exit, Transit and
    Residence of Foreigners, Art. 36–38): its own record, not a visa. The purpose is the visa
    symbol the card follows (``ĐT1``, ``LĐ1``, ``TT``…); the validity is limited by the purpose
    (``services.TRC_MAX_YEARS``) and by the passport's expiry (Art. 38: at least 30 days shorter)."""

    person = models.ForeignKey(ForeignPerson, on_delete=models.PROTECT, related_name="residence_cards")
    kind = models.CharField(max_length=10, choices=ResidenceCardKind.choices, default=ResidenceCardKind.TEMPORARY)
    number = models.CharField(max_length=20, unique=True)
    purpose = models.CharField(max_length=5)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, db_index=True)  # none for a permanent card
    issuing_unit = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    commune_code = models.CharField(max_length=5, blank=True)
    province_code = models.CharField(max_length=2, blank=True)
    is_active = models.BooleanField(default=True)
    issued_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class PassportStatus(models.TextChoices):
    VALID = "valid", _("Còn giá trị")
    LOST = "lost", _("Đã báo mất")


class Passport(models.Model):
    """An ordinary passport PopID issued to a citizen (procedure ``passport``): number, dates and
    the TD3 machine-readable zone."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="passports")
    number = models.CharField(max_length=9, unique=True)
    issued_on = models.DateField()
    expiry_date = models.DateField()
    mrz = models.TextField()
    status = models.CharField(max_length=10, choices=PassportStatus.choices, default=PassportStatus.VALID)
    issued_by = models.CharField(max_length=200)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number


class PassportLoss(models.Model):
    """The holder's declaration that a passport is lost (Law on Exit and Entry of Vietnamese
    Citizens 2019, Art. 28; its validity is cancelled, Art. 27.1): the passport turns ``lost`` and
    the event that makes its wallet credential invalid is written in the same transaction."""

    passport = models.OneToOneField(Passport, on_delete=models.PROTECT, related_name="loss")
    lost_on = models.DateField()
    place = models.CharField(max_length=200)
    circumstances = models.CharField(max_length=500, blank=True)
    declared_by = models.CharField(max_length=200)
    channel = models.CharField(max_length=10)
    declared_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"lost {self.passport_id}"
