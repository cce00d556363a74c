"""API routes of popid.exchange, mounted by popid.api."""

from ninja import Router

router = Router(tags=["exchange"])
