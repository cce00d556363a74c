"""Multipart uploads (citizen pages and API) to ``IncomingFile``: a file over the procedure's
limit is refused from its declared size before it is read; type and magic bytes are then checked
by the services exactly as for base64 JSON uploads."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from popid.core.errors import ValidationFailed
from popid.services.dossiers import IncomingFile
from popid.services.procedures import Procedure


def incoming_files(procedure: Procedure, uploads: list[tuple[str, UploadedFile[bytes]]],
                   *, field: str = "attachments") -> list[IncomingFile]:
    specs = {a.kind: a for a in procedure.attachments}
    errors, files = [], []
    for kind, upload in uploads:
        spec = specs.get(kind)
        name = f"{field}.{kind}"
        if spec is None:
            errors.append({"field": name, "reason": "unknown_kind",
                           "message": _("Thủ tục không yêu cầu loại giấy tờ này")})
        elif (upload.size or 0) > spec.max_size_kb * 1024:
            errors.append({"field": name, "reason": "too_large",
                           "message": _("Tệp vượt quá %(kb)d KB") % {"kb": spec.max_size_kb}})
        else:
            files.append(IncomingFile(kind=kind, name=(upload.name or kind)[:200], content=upload.read(),
                                      content_type=(upload.content_type or "").split(";")[0].strip()))
    if errors:
        raise ValidationFailed(errors)
    return files
