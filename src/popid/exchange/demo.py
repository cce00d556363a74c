"""Demo data for ``popid seed``: the bank "Ngân hàng demo" with one subsystem whose private key is
kept in ``DATA_DIR/exchange-demo-bank.json`` (mode 600), grants for every service, a consent given
by the demo citizen Nguyễn Văn An, and two real calls through the service layer (an eKYC check
and a consented person-data request) so his access history shows both after ``make run``.

``demo_call_over_http`` makes the same calls as the bank would, over HTTP against a running
server: client assertion → /oidc/token (client_credentials) → the agency API.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey

from popid.core.access import Actor
from popid.core.models import AccessRecord
from popid.exchange import management_services as manage
from popid.exchange import services
from popid.exchange.access import RequestContext
from popid.exchange.models import Agency, ConsentStatus, DataConsent, Grant, Service, Subsystem
from popid.identity.demo import FIXTURE_BIRTH_DATE, FIXTURE_COMMUNE, FIXTURE_NAME
from popid.registry.models import Person

AGENCY_CODE = "nh-demo"
AGENCY_NAME = "Ngân hàng demo"
SUBSYSTEM_CODE = "ekyc"
PURPOSE = "Mở tài khoản thanh toán trực tuyến (eKYC)"
LEGAL_BASIS = "Luật Các tổ chức tín dụng 2024; Thông tư 17/2024/TT-NHNN"
OFFICIAL = "Giao dịch viên Phạm Minh Tú (NV0042)"
CONSENT_FIELDS = ["phone"]
ADMIN = Actor.system("popid seed")
GRANTS: list[tuple[str, list[str], list[str]]] = [
    (Service.EKYC, ["full_name", "birth_date", "sex", "id_card", "phone"], []),
    (Service.BATCH_VERIFY, ["full_name", "birth_date", "sex"], []),
    (Service.PERSON_DATA, ["full_name", "birth_date", "sex", "permanent_address", "phone"], []),
    (Service.LIFE_STATUS, [], []),
    # every life event, so the webhook demo shows births and moves too (issue #19 item 11)
    (Service.EVENTS, ["full_name", "birth_date", "life_status"],
     ["birth", "death", "residence_change", "id_reissue", "merge"]),
]


def key_file() -> Path:
    return Path(settings.DATA_DIR) / "exchange-demo-bank.json"


def _write_key_file(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    path.chmod(0o600)


def _read_key_file() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(key_file().read_text())
        return data
    except (OSError, ValueError):
        return None


def _ensure_bank() -> tuple[Agency, Subsystem]:
    agency = Agency.objects.filter(code=AGENCY_CODE).first() or manage.create_agency(
        actor=ADMIN, code=AGENCY_CODE, name=AGENCY_NAME, kind="bank", rate_per_minute=600, daily_quota=100_000)
    subsystem = Subsystem.objects.select_related("client", "agency").filter(agency=agency, code=SUBSYSTEM_CODE).first()
    stored = _read_key_file()
    key_ok = bool(stored and subsystem and stored.get("client_id") == subsystem.client.client_id)
    if not key_ok:
        key = ECKey.generate_key("P-256", private=True,
                                 parameters={"kid": f"nh-demo-{int(time.time())}", "alg": "ES256", "use": "sig"})
        jwks = {"keys": [key.as_dict(private=False)]}
        if subsystem is None:
            subsystem = manage.create_subsystem(actor=ADMIN, agency=agency, code=SUBSYSTEM_CODE,
                                                name="Hệ thống mở tài khoản trực tuyến", jwks=jwks)
        else:  # the key file was lost: register a fresh key
            manage.replace_subsystem_key(actor=ADMIN, subsystem=subsystem, jwks=jwks)
        stored = {"client_id": subsystem.client.client_id, "key": key.as_dict(private=True)}
        _write_key_file(key_file(), stored)
    assert subsystem is not None  # key_ok needs an existing subsystem; otherwise one was just made
    until = timezone.now() + timedelta(days=365)
    for service, fields, events in GRANTS:
        active = [g for g in Grant.objects.filter(subsystem=subsystem, service=service, revoked_at__isnull=True)
                  if g.is_active()]
        for grant in [g for g in active if not set(events) <= set(g.event_types)]:
            manage.revoke_grant(actor=ADMIN, grant=grant)  # seeded by an older version: widen it
            active.remove(grant)
        if not active:
            manage.create_grant(actor=ADMIN, subsystem=subsystem, service=service, fields=fields, event_types=events,
                                legal_basis=LEGAL_BASIS, expires_at=until)
    return agency, subsystem


def _rc(consent_ref: str = "") -> RequestContext:
    return RequestContext(purpose=PURPOSE, legal_basis=LEGAL_BASIS, official=OFFICIAL, consent_ref=consent_ref)


def _ensure_consent(subsystem: Subsystem, person: Person) -> DataConsent:
    existing = (DataConsent.objects.filter(agency=subsystem.agency, person=person, purpose=PURPOSE,
                                           status=ConsentStatus.APPROVED, valid_until__gt=timezone.now())
                .order_by("-id").first())
    if existing is not None:
        return existing
    consent = services.request_consent(subsystem=subsystem, rc=_rc(), id_number=person.id_number,
                                       fields=CONSENT_FIELDS, valid_until=timezone.now() + timedelta(days=180))
    return services.decide_consent(actor=Actor.citizen(id_number=person.id_number, person_id=person.pk),
                                   consent_id=consent.pk, approve=True)


def ensure_demo() -> list[str]:
    """Idempotent: reuses the bank, key, grants and consent; the two demo calls are made once."""
    with transaction.atomic():
        agency, subsystem = _ensure_bank()
    lines = [f"  Cơ quan: {agency.name} (mã {agency.code}), hệ thống {subsystem.code}, "
             f"client_id {subsystem.client.client_id}",
             f"  Khóa bí mật của ngân hàng (mode 600): {key_file()}",
             "  Quyền: " + "; ".join(f"{svc} [{', '.join(fields) or 'life_status'}]" for svc, fields, _e in GRANTS)]
    person = Person.objects.filter(full_name=FIXTURE_NAME, birth_date=FIXTURE_BIRTH_DATE,
                                   commune_code=FIXTURE_COMMUNE).first()
    if person is None:
        return [*lines, "  (Không có công dân mẫu Nguyễn Văn An: bỏ qua đồng ý và lượt gọi mẫu.)"]
    consent = _ensure_consent(subsystem, person)
    lines.append(f"  Đồng ý của {person.full_name} ({person.id_number}): {consent.reference}, "
                 f"trường {', '.join(consent.fields)}, đến {timezone.localtime(consent.valid_until):%d/%m/%Y}")
    done = AccessRecord.objects.filter(person_id_number=person.id_number, actor_unit=agency.name,
                                       channel__in=["ekyc", "exchange"]).exists()
    if not done:
        result = services.verify_identity(
            subsystem=subsystem, rc=_rc(), id_number=person.id_number,
            attributes={"full_name": person.full_name, "birth_date": FIXTURE_BIRTH_DATE.isoformat(), "sex": person.sex})
        data = services.person_data(subsystem=subsystem, rc=_rc(consent.reference), id_number=person.id_number,
                                    fields=["full_name", "birth_date", "permanent_address", "phone"])
        lines.append(f"  Lượt gọi mẫu: eKYC khớp={result.match}; dữ liệu cá nhân: {', '.join(sorted(data['fields']))}")
    else:
        lines.append("  Lượt gọi mẫu: đã có từ lần seed trước (xem lịch sử truy cập của công dân).")
    lines += [
        "  Công dân xem và thu hồi đồng ý: /chia-se/dong-y/ ; quản trị: /chia-se/quan-tri/",
        f"  Gọi lại qua HTTP khi máy chủ đang chạy: popid exchange demo-call (máy chủ {settings.BASE_URL})",
    ]
    return lines


# --- the same calls over HTTP ------------------------------------------------------------------
def _http(method: str, url: str, *, form: dict[str, str] | None = None, body: dict[str, Any] | None = None,
          token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - operator's URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def demo_call_over_http(base_url: str) -> list[str]:
    stored = _read_key_file()
    if not stored:
        raise ValueError(f"no demo bank key in {key_file()}: run popid seed first")
    key = ECKey.import_key(stored["key"])
    client_id = stored["client_id"]
    _status, discovery = _http("GET", f"{base_url}/.well-known/openid-configuration")
    token_url = discovery["token_endpoint"]
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES256", "kid": key.kid},
                           {"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 60,
                            "jti": uuid.uuid4().hex}, key, algorithms=["ES256"])
    status, token = _http("POST", token_url, form={
        "grant_type": "client_credentials", "scope": "exchange.ekyc exchange.person_data",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    lines = [f"POST {token_url} (client_credentials, private_key_jwt) → {status} scope={token.get('scope')}"]
    if status != 200:
        return [*lines, json.dumps(token, ensure_ascii=False)]
    access = token["access_token"]
    person = Person.objects.filter(full_name=FIXTURE_NAME, birth_date=FIXTURE_BIRTH_DATE,
                                   commune_code=FIXTURE_COMMUNE).first()
    if person is None:
        return [*lines, "no demo citizen Nguyễn Văn An in this database"]
    consent = (DataConsent.objects.filter(agency__code=AGENCY_CODE, person=person, status=ConsentStatus.APPROVED)
               .order_by("-id").first())
    context = {"purpose": PURPOSE, "legal_basis": LEGAL_BASIS, "official": OFFICIAL}
    api = f"{base_url}/api/v1/exchange"
    status, verified = _http("POST", f"{api}/ekyc/verify", token=access, body={
        "context": context, "id_number": person.id_number, "full_name": person.full_name,
        "birth_date": FIXTURE_BIRTH_DATE.isoformat(), "attributes": {"sex": person.sex}})
    lines.append(f"POST {api}/ekyc/verify → {status} {json.dumps(verified, ensure_ascii=False)}")
    status, data = _http("POST", f"{api}/persons/query", token=access, body={
        "context": {**context, "consent_ref": consent.reference if consent else ""}, "id_number": person.id_number,
        "fields": ["full_name", "birth_date", "permanent_address", "phone"]})
    lines.append(f"POST {api}/persons/query → {status} {json.dumps(data, ensure_ascii=False)}")
    status, refused = _http("POST", f"{api}/persons/query", token=access, body={
        "context": context, "id_number": person.id_number, "fields": ["religion"]})
    lines.append(f"POST {api}/persons/query (religion, not granted) → {status} {refused.get('code')}")
    return lines
