"""PAdES signature of CT07 PDFs (pyHanko), on top of the JWS token of the QR code: the PDF itself
carries a CAdES-detached signature over its bytes, so any PDF reader shows whether the file was
changed after signing and by which certificate.

Key and certificate: ``DATA_DIR/ct07-signing/`` holds ``signing-key.pem`` (PKCS#8, mode 600) and
``signing-cert.pem``. On first use PopID creates an EC P-256 key and a *self-signed* certificate
("PopID — ký giấy xác nhận cư trú", valid three years) so a development or demo installation signs
out of the box; a production deployment replaces the two files with a key and a certificate issued
by the government CA (the certificate is published at ``/services/xac-minh-cu-tru/chung-thu.pem`` so
verifiers can add it as trusted). Several web workers share the directory: creation takes an
exclusive ``flock`` and writes atomically, like ``core/keys.py``.
"""

from __future__ import annotations

import fcntl
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

FIELD_NAME = "PopID-CT07"
CERT_VALIDITY = timedelta(days=3 * 365)


def signing_dir() -> Path:
    path = Path(settings.DATA_DIR) / "ct07-signing"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _create(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PopID"),
        x509.NameAttribute(NameOID.COMMON_NAME, "PopID — ký giấy xác nhận cư trú (tự ký)"),
    ])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CERT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write(directory / "signing-key.pem", key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()), 0o600)
    _write(directory / "signing-cert.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_signing_material() -> tuple[Path, Path]:
    """The key and certificate files, created on first use."""
    directory = signing_dir()
    key, cert = directory / "signing-key.pem", directory / "signing-cert.pem"
    if key.exists() and cert.exists():
        return key, cert
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if not (key.exists() and cert.exists()):
                _create(directory)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return key, cert


def certificate_pem() -> bytes:
    return ensure_signing_material()[1].read_bytes()


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES (CAdES-detached) signature added as an incremental update."""
    key, cert = ensure_signing_material()
    # pyhanko leaves SimpleSigner.load unannotated
    signer: signers.SimpleSigner | None = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(key), str(cert))
    if signer is None:  # pragma: no cover - files written by _create always load
        raise RuntimeError("CT07 signing key or certificate cannot be loaded")
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    # pyhanko leaves sign_pdf's result unannotated: the BytesIO it wrote to (no output given)
    out: io.BytesIO = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()
