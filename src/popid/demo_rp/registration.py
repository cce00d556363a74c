"""The demo relying party's own registration: an EC P-256 key pair kept in the data directory
and one client per origin (http://127.0.0.1:8000 and http://localhost:8000 are different
redirect URIs, and redirect URIs must match exactly).

It registers itself through ``identity.oidc.services.register_client`` like any administrator
would, with ``private_key_jwt`` authentication, and then talks to the provider only over HTTP.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from joserfc.jwk import ECKey

CLIENT_NAME = "Cổng dịch vụ công mẫu (demo)"
SCOPES = "openid profile popid.id_number address phone"
_lock = threading.Lock()


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    key: ECKey
    redirect_uri: str
    post_logout_redirect_uri: str


def state_file() -> Path:
    return Path(settings.DATA_DIR) / "demo-rp.json"


def _load() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(state_file().read_text())
        return data
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _save(data: dict[str, Any]) -> None:
    path = state_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def client_for(origin: str) -> DemoClient:
    """The registration for this origin, created on first use."""
    from popid.identity.oidc.models import RelyingParty
    from popid.identity.oidc.services import register_client

    with _lock:
        data = _load()
        if "key" not in data:
            data["key"] = ECKey.generate_key("P-256", private=True, parameters={"use": "sig", "alg": "ES256"},
                                             auto_kid=True).as_dict(private=True)
            data["clients"] = {}
        key = ECKey.import_key(data["key"])
        redirect_uri, logout_uri = f"{origin}/demo-rp/callback", f"{origin}/demo-rp/"
        client_id = data.get("clients", {}).get(origin)
        if not client_id or not RelyingParty.objects.filter(client_id=client_id).exists():
            client, _secret = register_client(
                name=CLIENT_NAME, redirect_uris=[redirect_uri], post_logout_redirect_uris=[logout_uri],
                token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]},
                created_by="demo_rp",
            )
            client_id = client.client_id
            data.setdefault("clients", {})[origin] = client_id
            _save(data)
        return DemoClient(client_id, key, redirect_uri, logout_uri)
