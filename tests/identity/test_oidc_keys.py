"""Signing-key store: bootstrap, rotation keeps the old key published, CLI."""

from __future__ import annotations

import json
import os
import stat

import pytest
from django.core.management import call_command

from popid.core import keys


@pytest.fixture(autouse=True)
def key_dir(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    return tmp_path / "keys"


def test_first_use_creates_current_and_next_keys_readable_only_by_owner(key_dir):
    current = keys.current_signing_key("ES256")
    published = {k["kid"]: k for k in keys.public_jwks()["keys"]}
    assert current.kid in published
    assert {k["alg"] for k in published.values()} == {"ES256", "RS256"}
    assert len(published) == 4  # current + next for each algorithm
    assert all("d" not in k for k in published.values()), "private parts are never published"
    for path in key_dir.glob("*.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_rotation_promotes_next_and_keeps_retired_key_published(key_dir):
    old = keys.current_signing_key("ES256")
    next_kid = next(k.kid for k in keys.all_keys() if k.alg == "ES256" and k.status == "next")
    new = keys.rotate("ES256")
    assert new.kid == next_kid
    assert keys.current_signing_key("ES256").kid == next_kid
    published = {k["kid"] for k in keys.public_jwks()["keys"]}
    assert old.kid in published, "tokens signed before the rotation must still verify"
    assert keys.prune() == []


def test_retired_keys_are_pruned_after_the_window(key_dir, monkeypatch):
    old = keys.current_signing_key("ES256")
    keys.rotate("ES256")
    monkeypatch.setattr(keys, "RETIRED_PUBLISH_SECONDS", 0)
    assert old.kid not in {k["kid"] for k in keys.public_jwks()["keys"]}
    assert keys.prune() == [old.kid]


def test_cli_rotate_and_list(key_dir, capsys):
    call_command("keys", "list")
    before = json.loads(capsys.readouterr().out)
    call_command("keys", "rotate", "--alg", "ES256")
    assert "current key is now" in capsys.readouterr().out
    call_command("keys", "list")
    after = json.loads(capsys.readouterr().out)
    assert len(after) == len(before) + 1
    assert sum(1 for k in after if k["status"] == "retired") == 1


def test_keysets_are_separate_and_support_ed25519(key_dir):
    ledger = keys.current_signing_key("EdDSA", keyset="ledger")
    assert ledger.public_jwk()["crv"] == "Ed25519" and (key_dir / "ledger" / f"{ledger.kid}.json").exists()
    oidc_kids = {k["kid"] for k in keys.public_jwks()["keys"]}
    assert ledger.kid not in oidc_kids  # the OIDC JWKS never publishes another signer's keys
    assert {k["kid"] for k in keys.public_jwks("ledger")["keys"]} >= {ledger.kid}
    new = keys.rotate("EdDSA", keyset="ledger")
    assert new.kid != ledger.kid and keys.verification_key(ledger.kid, "ledger") is not None
    assert keys.verification_key(ledger.kid) is None
    with pytest.raises(ValueError):
        keys.keys_dir("../escape")
