"""Scanned paper records (old household registers, case files, decisions) of a police unit,
their OCR text page by page (with a diacritic-free copy for search) and the links from what the
text names (ID numbers, names with birth dates) to registry persons, proposed by the system and
confirmed or rejected by an officer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    HOUSEHOLD_REGISTER = "household_register", _("Sổ hộ khẩu, sổ đăng ký hộ khẩu cũ")
    CASE_FILE = "case_file", _("Hồ sơ vụ việc")
    DECISION = "decision", _("Quyết định")
    OTHER = "other", _("Tài liệu khác")


class OcrState(models.TextChoices):
    PENDING = "pending", _("Chờ nhận dạng")
    DONE = "done", _("Đã nhận dạng")
    RETRY = "retry", _("Nhận dạng lỗi, chờ thử lại")
    FAILED = "failed", _("Nhận dạng lỗi")


class ScannedRecord(models.Model):
    unit_code = models.CharField(max_length=5, db_index=True)  # the uploading unit: commune or province code
    province_code = models.CharField(max_length=2, db_index=True)  # denormalised for the province's filter
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    title = models.CharField(max_length=300)
    original_ref = models.CharField(max_length=120, blank=True)  # number/shelf mark of the paper original
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)  # from the magic bytes, not the name
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content = models.BinaryField()
    uploaded_by = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    ocr_state = models.CharField(max_length=10, choices=OcrState.choices, default=OcrState.PENDING)
    ocr_attempts = models.PositiveSmallIntegerField(default=0)
    ocr_error = models.CharField(max_length=300, blank=True)
    ocr_at = models.DateTimeField(null=True, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["unit_code", "ocr_state"], name="records_unit_state")]

    def __str__(self) -> str:
        return self.title


class RecordPage(models.Model):
    """One page's recognised text; ``text_norm`` is lower-case without diacritics (core.text)."""

    record = models.ForeignKey(ScannedRecord, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    unit_code = models.CharField(max_length=5)  # denormalised from the record: the search is cut by unit
    province_code = models.CharField(max_length=2)
    text = models.TextField()
    text_norm = models.TextField()

    class Meta:
        ordering = ["record_id", "number"]
        constraints = [models.UniqueConstraint(fields=["record", "number"], name="records_page_unique")]
        indexes = [models.Index(fields=["unit_code"], name="records_page_unit"),
                   models.Index(fields=["province_code"], name="records_page_province")]

    def __str__(self) -> str:
        return f"{self.record_id}#{self.number}"


class LinkSource(models.TextChoices):
    ID_NUMBER = "id_number", _("Số định danh/CMND trong văn bản")
    NAME_BIRTH = "name_birth", _("Họ tên và ngày sinh trong văn bản")
    MANUAL = "manual", _("Cán bộ nhập")


class LinkState(models.TextChoices):
    PROPOSED = "proposed", _("Đề xuất")
    CONFIRMED = "confirmed", _("Đã xác nhận")
    REJECTED = "rejected", _("Đã bác bỏ")


class PersonLink(models.Model):
    """A registry person named by a record: proposed from the text, decided by an officer."""

    record = models.ForeignKey(ScannedRecord, on_delete=models.CASCADE, related_name="links")
    page_number = models.PositiveIntegerField(null=True, blank=True)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=LinkSource.choices)
    mention = models.CharField(max_length=300)  # what the text says (number, or name and birth date)
    score = models.FloatField()  # 0–1: how well the mention agrees with the person
    state = models.CharField(max_length=10, choices=LinkState.choices, default=LinkState.PROPOSED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [models.UniqueConstraint(fields=["record", "person"], name="records_link_unique")]
        indexes = [models.Index(fields=["record", "state"], name="records_link_state")]

    def __str__(self) -> str:
        return f"{self.record_id}→{self.person_id}"
