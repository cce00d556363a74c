"""Crime reports from the public (tố giác, tin báo về tội phạm), their handling by the commune
police unit, case files with the persons involved, and evidence with a hash-chained chain of
custody. Internal notes never leave the officer side; the reporter sees ``public_status`` only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Trực tuyến")
    COUNTER = "counter", _("Trực tiếp tại trụ sở")
    PHONE = "phone", _("Qua điện thoại")


class ReportState(models.TextChoices):
    RECEIVED = "received", _("Đã tiếp nhận")
    CLASSIFIED = "classified", _("Đã phân loại")
    ASSIGNED = "assigned", _("Đang giải quyết")
    TRANSFERRED = "transferred", _("Đã chuyển Công an tỉnh")
    SUSPENDED = "suspended", _("Tạm đình chỉ giải quyết")
    RESOLVED = "resolved", _("Đã có kết quả giải quyết")


class Report(models.Model):
    code = models.CharField(max_length=24, unique=True)  # receipt number shown to the reporter
    tracking_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the tracking code; code never stored
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    reporter_account = models.ForeignKey("identity.CitizenAccount", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    anonymous = models.BooleanField(default=False)
    category_code = models.CharField(max_length=40)
    commune_code = models.CharField(max_length=5)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    occurred_at = models.DateTimeField()
    description = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=ReportState.choices, default=ReportState.RECEIVED)
    unit_code = models.CharField(max_length=5, db_index=True)  # handling unit: commune, or province after transfer
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    extensions = models.PositiveSmallIntegerField(default=0)  # art. 147(2): at most 2
    outcome_code = models.CharField(max_length=20, blank=True)
    outcome_legal_ref = models.CharField(max_length=200, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # accent-free copy of the code, description and officers' notes for the free-text search
    # (core.fulltext; PostgreSQL adds a generated tsvector column with a GIN index, migration 0004)
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        indexes = [models.Index(fields=["unit_code", "state"])]

    def __str__(self) -> str:
        return self.code


class ReportAttachment(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.name


class ReportEvent(models.Model):
    """The report's timeline. ``public`` events are shown to the reporter with ``public_text``
    only; ``internal_note`` is for officers and never rendered on the reporter's pages."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=30)
    public = models.BooleanField(default=False)
    public_text = models.CharField(max_length=300, blank=True)
    internal_note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}:{self.action}"


class Confidentiality(models.TextChoices):
    NORMAL = "normal", _("Thường")
    SECRET = "secret", _("Mật")


class Case(models.Model):
    number = models.CharField(max_length=30, unique=True)
    report = models.OneToOneField(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="case")
    title = models.CharField(max_length=300)
    unit_code = models.CharField(max_length=5, db_index=True)
    confidentiality = models.CharField(max_length=8, choices=Confidentiality.choices, default=Confidentiality.NORMAL)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Look-ups of persons for this case are written to the access log hidden until this moment,
    # fixed when the case opens (access records are append-only, see docs/police.md).
    sealed_until = models.DateTimeField()
    investigators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="police_cases", blank=True)
    # accent-free copy of the number, title, report, notes, document titles and evidence for the
    # free-text search (core.fulltext; PostgreSQL: generated tsvector + GIN index, migration 0004)
    search_text = models.TextField(blank=True, default="", editable=False)

    def __str__(self) -> str:
        return self.number


class PersonRole(models.TextChoices):
    VICTIM = "victim", _("Bị hại")
    WITNESS = "witness", _("Người làm chứng")
    SUSPECT = "suspect", _("Người bị tố giác, nghi vấn")
    REPORTER = "reporter", _("Người tố giác")


class LinkMethod(models.TextChoices):
    ID_NUMBER = "id_number", _("Theo số định danh")
    MATCHER = "matcher", _("Đối sánh họ tên, năm sinh (cán bộ xác nhận)")


class CasePerson(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="persons")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    id_number = models.CharField(max_length=12)  # the number used when linking
    role = models.CharField(max_length=10, choices=PersonRole.choices)
    linked_by = models.CharField(max_length=200)
    linked_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=10, choices=LinkMethod.choices, default=LinkMethod.ID_NUMBER)
    # matcher links: what the officer knew and the probability of the candidate they confirmed
    query = models.JSONField(default=dict, blank=True)
    match_probability = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "person", "role"], name="caseperson_unique_role")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.role}"


class CaseOpening(models.Model):
    """Who opened which case file, for the supervisor's audit (append-only by use)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="openings")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    actor_unit = models.CharField(max_length=200, blank=True)
    allowed = models.BooleanField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor} → {self.case_id}"


class EvidenceItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    label = models.CharField(max_length=40)
    description = models.CharField(max_length=500)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "label"], name="evidence_label_unique")]

    def __str__(self) -> str:
        return self.label


class CustodyRecord(models.Model):
    """One hand-over of an evidence item. ``hash`` = SHA-256 over the previous record's hash
    (of the whole chain, all items) and this record's canonical fields; ``popid police
    verify-custody`` recomputes the chain and names the first record that does not match."""

    seq = models.PositiveIntegerField(unique=True)
    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="custody")
    at = models.DateTimeField()
    from_holder = models.CharField(max_length=200)
    to_holder = models.CharField(max_length=200)
    purpose = models.CharField(max_length=300)
    recorded_by = models.CharField(max_length=200)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"custody #{self.seq}"


class CaseEvent(models.Model):
    """A step of the case file (opened, investigator added, person linked, document added, closed),
    append-only; the timeline page combines these with the report's events, notes and custody."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=30)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.action}"


class CaseNote(models.Model):
    """An investigator's note on the case (append-only: a correction is a new note)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    at = models.DateTimeField(auto_now_add=True)
    author = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} of {self.case_id}"


class DocumentKind(models.TextChoices):
    RECORD = "record", _("Biên bản")
    DECISION = "decision", _("Quyết định")
    STATEMENT = "statement", _("Lời khai, tường trình")
    EXPERT = "expert", _("Kết luận giám định")
    PHOTO = "photo", _("Ảnh hiện trường")
    OTHER = "other", _("Tài liệu khác")


class CaseDocument(models.Model):
    """A document of the case file (PDF, PNG or JPEG by content), with its SHA-256 (append-only)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.title
