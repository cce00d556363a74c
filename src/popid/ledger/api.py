"""API routes of popid.ledger, mounted by popid.api."""

from ninja import Router

router = Router(tags=["ledger"])
