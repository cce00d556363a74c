"""API routes of popid.documents, mounted by popid.api."""

from ninja import Router

router = Router(tags=["documents"])
