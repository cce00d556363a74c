"""Test helpers (not a test module): an SD-JWT VC issuer outside PopID, served from its own small
HTTP server on another port (issuer metadata, JWKS, status list), signing with the OpenWallet
Foundation ``sd-jwt`` library or, for malformed shapes no library would produce, by hand."""

from __future__ import annotations

import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey

from popid.wallet import sdjwt
from popid.wallet.status import encode


class ExternalIssuer:
    """``iss`` = http://127.0.0.1:<port>/issuer; ``routes`` maps a path to (status, type, body)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True, parameters={"kid": "ext-key-1"})
        self.holder = ECKey.generate_key("P-256", private=True)
        self.hits: list[str] = []
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                issuer.hits.append(self.path)
                status, content_type, body = issuer.routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.iss = f"{self.origin}/issuer"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.publish()

    # --- what the server publishes ------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "kid": "ext-key-1", "alg": "ES256", "use": "sig"}]}

    def publish(self, *, metadata: dict[str, Any] | None = None, inline: bool = True) -> None:
        meta = metadata if metadata is not None else (
            {"issuer": self.iss, "jwks": self.jwks()} if inline else
            {"issuer": self.iss, "jwks_uri": f"{self.iss}/jwks"})
        self.routes["/.well-known/jwt-vc-issuer/issuer"] = (200, "application/json", json.dumps(meta).encode())
        self.routes["/issuer/jwks"] = (200, "application/jwk-set+json", json.dumps(self.jwks()).encode())

    def publish_status(self, statuses: dict[int, int], *, size: int = 1024) -> str:
        uri = f"{self.iss}/status/1"
        payload = {"sub": uri, "iat": int(time.time()), "exp": int(time.time()) + 3600, "ttl": 60,
                   "status_list": {"bits": 2, "lst": sdjwt.b64encode(zlib.compress(encode(statuses.items(), size)))}}
        token = jws.serialize_compact({"alg": "ES256", "typ": "statuslist+jwt", "kid": "ext-key-1"},
                                      json.dumps(payload).encode(), self.key, algorithms=["ES256"])
        self.routes["/issuer/status/1"] = (200, "application/statuslist+jwt", token.encode())
        return uri

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- signing by hand ----------------------------------------------------------------------
    def sign(self, payload: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        return jws.serialize_compact(header or {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "ext-key-1"},
                                     json.dumps(payload, ensure_ascii=False).encode(), self.key,
                                     algorithms=["ES256"])

    def base_claims(self, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.iss, "vct": "https://example.org/credentials/person", "iat": now, "exp": now + 3600,
                "cnf": {"jwk": self.holder.as_dict(private=False)}, **extra}

    def present(self, jwt: str, disclosures: list[str], *, nonce: str, aud: str, sd_alg: str = "sha-256") -> str:
        """What a holder sends: the chosen disclosures and a KB-JWT over them."""
        prefix = "~".join([jwt, *disclosures, ""])
        kb = {"iat": int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": sdjwt.digest(prefix, sd_alg)}
        return prefix + jws.serialize_compact({"alg": "ES256", "typ": "kb+jwt"}, json.dumps(kb).encode(),
                                              self.holder, algorithms=["ES256"])


def disclosure(*parts: Any) -> str:
    """A disclosure of any shape: ``[salt, name, value]``, ``[salt, value]`` or a malformed one."""
    return sdjwt.b64encode(json.dumps(list(parts), ensure_ascii=False).encode())
