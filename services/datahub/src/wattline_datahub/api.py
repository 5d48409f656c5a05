"""Datahub HTTP API: the dead letters back office and support look at and retry."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from wattline_platform.inputs import Offset, PageSize
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_datahub import handlers
from wattline_datahub.adapters import inbound_messages


class DeadLetterController(Controller):
    path = "/api/datahub/dead-letters"
    tags = ["datahub"]

    @get("/", summary="DataHub messages that could not be parsed or validated")
    async def list_dead_letters(
        self,
        service: ServiceDep,
        limit: FromQuery[PageSize] = 100,
        offset: FromQuery[Offset] = 0,
    ) -> dict[str, Any]:
        async with service.database.connection() as conn:
            rows = await inbound_messages.dead_letters(conn, limit, offset)
            counts = await inbound_messages.counts(conn)
        return {
            "items": [
                {
                    "id": r["message_id"],
                    "category": r["category"],
                    "reason": r["reason"],
                    "received_at": r["received_at"].isoformat(),
                    "size_bytes": r["size"],
                }
                for r in rows
            ],
            "total": counts.get("dead_lettered", 0),
        }

    @post("/{message_id:str}/retry", status_code=200, summary="Parse a dead letter again")
    async def retry(self, message_id: FromPath[str], service: ServiceDep) -> dict[str, Any]:
        result = await handlers.retry_dead_letter(service, message_id)
        if result is None:
            raise Problem(404, "dead-letter-not-found", "No such dead letter", message_id)
        if result.outcome == "dead_lettered":
            raise Problem(422, "still-invalid", "The message still cannot be used", result.reason)
        return {"id": message_id, "status": "retried", "events": result.events}


ROUTES: list[Any] = [DeadLetterController]
