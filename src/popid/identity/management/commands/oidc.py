"""`popid oidc register-client|list-clients|disable-client`: relying parties from the shell."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core.errors import DomainError
from popid.identity.oidc import selectors, services


class Command(BaseCommand):
    help = "Register, list and disable OpenID Connect relying parties."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reg = sub.add_parser("register-client", help="register a relying party; prints its registration as JSON")
        reg.add_argument("--name", required=True)
        reg.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        auth = reg.add_mutually_exclusive_group(required=True)
        auth.add_argument("--jwks-file", help="public JWKS of the client (private_key_jwt)")
        auth.add_argument("--secret", action="store_true", help="issue a client secret (client_secret_basic)")
        reg.add_argument("--secret-method", choices=["client_secret_basic", "client_secret_post"],
                         default="client_secret_basic")
        reg.add_argument("--sector-identifier", default="")
        reg.add_argument("--post-logout-redirect-uri", action="append", default=[], dest="post_logout_redirect_uris")
        reg.add_argument("--id-token-alg", choices=["ES256", "RS256"], default="ES256")
        reg.add_argument("--require-par", action="store_true")
        sub.add_parser("list-clients", help="list relying parties as JSON")
        dis = sub.add_parser("disable-client", help="disable a relying party and revoke its tokens")
        dis.add_argument("client_id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except DomainError as exc:
            reasons = "; ".join(e.get("message", "") for e in exc.errors()) or str(exc.detail or exc.title)
            raise CommandError(reasons) from exc

    def _register_client(self, options: dict[str, Any]) -> None:
        jwks = None
        if options["jwks_file"]:
            try:
                jwks = json.loads(Path(options["jwks_file"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read JWKS: {exc}") from exc
        client, secret = services.register_client(
            name=options["name"], redirect_uris=options["redirect_uris"],
            token_endpoint_auth_method=options["secret_method"] if options["secret"] else "private_key_jwt",
            jwks=jwks, sector_identifier=options["sector_identifier"],
            post_logout_redirect_uris=options["post_logout_redirect_uris"],
            id_token_signed_response_alg=options["id_token_alg"],
            require_pushed_authorization_requests=options["require_par"], created_by="cli")
        out: dict[str, Any] = {
            "client_id": client.client_id, "client_name": client.name, "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "id_token_signed_response_alg": client.id_token_signed_response_alg,
            "subject_type": "pairwise", "require_pushed_authorization_requests":
                client.require_pushed_authorization_requests,
        }
        if secret:
            out["client_secret"] = secret
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))

    def _list_clients(self, options: dict[str, Any]) -> None:
        rows = [{"client_id": c.client_id, "name": c.name, "active": c.is_active,
                 "token_endpoint_auth_method": c.token_endpoint_auth_method, "redirect_uris": c.redirect_uris}
                for c in selectors.relying_parties()]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))

    def _disable_client(self, options: dict[str, Any]) -> None:
        client = services.disable_client(client_id=options["client_id"], by="cli")
        self.stdout.write(json.dumps({"client_id": client.client_id, "active": False}))
