"""PopID's OpenID Connect provider: Authlib's OAuth 2.0/OIDC core wired to PopID accounts, plus
the parts Authlib does not have (PAR, pairwise subjects, acr step-up, consent, key rotation).
See docs/oidc.md."""
