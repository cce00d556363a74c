"""Backup and restore drill (issue #12): back up a running installation (database, keys, uploads),
restore into a fresh database and data directory, and the restored system passes
``popid ledger verify`` and serves the same person to the same staff token. A tampered archive
is refused before anything changes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from popid.core.access import AccessContext, record_access
from popid.core.auth import issue_staff_token
from popid.core.backup import BackupError, read_and_verify
from popid.ledger import services as ledger
from popid.registry.models import Person

SRC = str(Path(__file__).resolve().parents[2] / "src")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_target(tmp_path):
    """A new data directory and an empty database of the suite's engine."""
    data_dir = tmp_path / "restored"
    data_dir.mkdir()
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        yield data_dir, f"sqlite:///{data_dir / 'popid.sqlite3'}"
        return
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield data_dir, f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def popid(*args: str, data_dir: Path, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "DJANGO_SETTINGS_MODULE": "popid.settings", "POPID_DATA_DIR": str(data_dir),
           "POPID_DATABASE_URL": database_url, "POPID_DB_CONN_MAX_AGE": "0", "POPID_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-c", "from popid.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=300)


SERVE_PERSON = """
import json, sys
import django
django.setup()
from django.test import Client
response = Client(headers={"Authorization": "Bearer " + sys.argv[2]}).get("/api/v1/persons/" + sys.argv[1],
                                                                           HTTP_HOST="127.0.0.1")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_backup_restore_into_a_fresh_installation_verifies_and_serves_the_same_person(
        family, officer_hoan_kiem, admin_actor, tmp_path, fresh_target):
    an = family["an"]
    token = issue_staff_token(user=officer_hoan_kiem, name="drill")
    record_access(ctx=AccessContext(actor=admin_actor, purpose="Diễn tập", channel="console"),
                  person_id_numbers=[p.id_number for p in family.values()], fields=["full_name"])
    ledger.integrate()
    upload = Path(settings.MEDIA_ROOT) / "drill" / "scan.txt"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"uploaded attachment")
    archive = tmp_path / "popid.tar.gz"
    call_command("backup", "--output", str(archive), stdout=io.StringIO())
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    manifest = read_and_verify(archive, tmp_path / "check")
    assert manifest.data["engine"] == connection.vendor and "media/drill/scan.txt" in manifest.files
    assert any(name.startswith("keys/ledger/") for name in manifest.files)

    data_dir, url = fresh_target
    restored = popid("restore", str(archive), data_dir=data_dir, database_url=url)
    assert restored.returncode == 0, restored.stderr
    assert (data_dir / "media" / "drill" / "scan.txt").read_bytes() == b"uploaded attachment"
    verify = popid("ledger", "verify", data_dir=data_dir, database_url=url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    env = {**os.environ, "PYTHONPATH": SRC, "DJANGO_SETTINGS_MODULE": "popid.settings", "POPID_DATA_DIR": str(data_dir),
           "POPID_DATABASE_URL": url, "POPID_LOG_LEVEL": "WARNING"}
    served = subprocess.run([sys.executable, "-c", SERVE_PERSON, an.id_number, token], capture_output=True, text=True,
                            timeout=120, env=env)
    answer = json.loads(served.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, served.stderr
    person = answer["body"].get("person", answer["body"])
    assert (person["id_number"], person["full_name"]) == (an.id_number, an.full_name), answer
    # a second restore over the now non-empty database is refused without --force
    again = popid("restore", str(archive), data_dir=data_dir, database_url=url)
    assert again.returncode != 0 and "--force" in again.stderr


def test_a_tampered_archive_is_refused_and_nothing_changes(family, tmp_path):
    archive = tmp_path / "popid.tar.gz"
    call_command("backup", "--output", str(archive), stdout=io.StringIO())
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.startswith("keys/") and member.isfile() and data:
                data = data.replace(b'"', b"'", 1)
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(BackupError, match="checksum mismatch"):
        read_and_verify(tampered, tmp_path / "check")
    persons = Person.objects.count()
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("restore", str(tampered), "--force", stdout=io.StringIO())
    assert Person.objects.count() == persons
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "missing.tar.gz"))
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(tmp_path / "junk.tar.gz"))
