"""API routes of popid.wallet, mounted by popid.api."""

from ninja import Router

router = Router(tags=["wallet"])
