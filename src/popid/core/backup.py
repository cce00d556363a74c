"""Backup and restore: one archive with the database, the signing keys, the uploaded files and
the file-backed secret key, with a manifest of SHA-256 checksums.

- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore --clean --if-exists --no-owner``
  (consistent snapshot while the service runs).
- SQLite: the online backup API (``sqlite3.Connection.backup``: consistent while the service
  runs, WAL included); restore replaces the database file.

The archive holds private keys and personal data: it is written with mode 600; keep it
encrypted at rest (docs/operations.md). ``restore`` verifies every checksum before it touches
anything, and refuses a non-empty target unless ``force``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
DB_PG = "database.pgdump"
DB_SQLITE = "database.sqlite3"
TREES = ("keys", "media")  # directories of DATA_DIR carried over
SECRET_FILE = "secret_key"


class BackupError(Exception):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass
class Manifest:
    data: dict[str, Any]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        files: dict[str, dict[str, Any]] = self.data["files"]  # the manifest JSON: path -> {sha256, size}
        return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if result.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {result.stderr.strip()[-500:]}")


def _dump_database(target: Path) -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target / DB_PG), db["NAME"]], _pg_env(db))
        return DB_PG
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target / DB_SQLITE)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
        return DB_SQLITE
    raise BackupError(f"unsupported database engine {connection.vendor}")


def backup(output: Path) -> Manifest:
    """Write the archive to ``output`` (a .tar.gz); returns its manifest."""
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix="popid-backup-") as tmp:
        staging = Path(tmp)
        db_file = _dump_database(staging)
        members = [db_file]
        for tree in TREES:
            if (data_dir / tree).is_dir():
                shutil.copytree(data_dir / tree, staging / tree, symlinks=False)
                members.append(tree)
        if (data_dir / SECRET_FILE).is_file() and not os.environ.get("POPID_SECRET_KEY"):
            shutil.copy2(data_dir / SECRET_FILE, staging / SECRET_FILE)
            members.append(SECRET_FILE)
        files = {}
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            files[path.relative_to(staging).as_posix()] = {"sha256": _sha256(path), "size": path.stat().st_size}
        applied = sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())
        manifest = Manifest({"format": FORMAT, "created_at": timezone.now().isoformat(), "engine": connection.vendor,
                             "database": db_file, "migrations": applied, "files": files})
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            body = json.dumps(manifest.data, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mode, info.mtime = len(body), 0o600, int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(body))
            for name in members:
                archive.add(staging / name, arcname=name)
        os.replace(partial, output)
    return manifest


# --- restore ------------------------------------------------------------------------------------
def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        path = Path(member.name)
        if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"unsafe archive member {member.name!r}")
        members.append(member)
    return members


def read_and_verify(archive_path: Path, into: Path) -> Manifest:
    """Extract to ``into`` and check every checksum; raises ``BackupError`` on any difference."""
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(into, members=_safe_members(archive), filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"not a readable backup archive: {exc}") from exc
    try:
        manifest = Manifest(json.loads((into / "manifest.json").read_text()))
    except (OSError, ValueError) as exc:
        raise BackupError("the archive has no readable manifest.json") from exc
    if manifest.data.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.data.get('format')!r}")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {"manifest.json"}
    if present != set(manifest.files):
        raise BackupError("the archive's files differ from its manifest")
    for name, meta in manifest.files.items():
        path = into / name
        if path.stat().st_size != meta["size"] or _sha256(path) != meta["sha256"]:
            raise BackupError(f"checksum mismatch: {name}")
    return manifest


def _database_is_empty() -> bool:
    tables = connection.introspection.table_names()
    if "registry_person" not in tables:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM registry_person LIMIT 1")
        return cursor.fetchone() is None


def restore(archive_path: Path, *, force: bool = False) -> Manifest:
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix="popid-restore-", dir=data_dir) as tmp:
        staging = Path(tmp)
        manifest = read_and_verify(archive_path, staging)
        engine = manifest.data["engine"]
        if engine != connection.vendor:
            raise BackupError(f"the backup is of a {engine} database; this installation uses {connection.vendor}")
        if not force and not _database_is_empty():
            raise BackupError("the target database already holds persons: restore refused (use --force)")
        db = connection.settings_dict
        if engine == "postgresql":
            connections.close_all()
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                  "--dbname", db["NAME"], str(staging / DB_PG)], _pg_env(db))
        else:
            connections.close_all()
            target = Path(db["NAME"])
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(staging / DB_SQLITE, f"{target}.restoring")
            os.replace(f"{target}.restoring", target)
        for tree in TREES:
            if (staging / tree).is_dir():
                shutil.rmtree(data_dir / tree, ignore_errors=True)
                shutil.copytree(staging / tree, data_dir / tree)
        if (staging / SECRET_FILE).is_file():
            shutil.copy2(staging / SECRET_FILE, data_dir / SECRET_FILE)
            os.chmod(data_dir / SECRET_FILE, 0o600)
    return manifest
