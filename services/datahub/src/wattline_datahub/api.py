"""Datahub HTTP API: the dead letters back office and support look at and retry, and
DataHub's reminders of missing measure data. Thin: query in, a handler, a typed model out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel, Field, PlainSerializer
from wattline_platform.inputs import AfterId, GsrnQuery, Offset, PageSize
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_datahub.handlers import inbound


def _as_isoformat(moment: datetime) -> str:
    return moment.isoformat()


class DeadLetterOut(BaseModel):
    """A DataHub message kept aside: it could not be parsed or validated."""

    id: str = Field(description="DataHub's MessageId")
    category: str = Field(description="the queue it came from (MeasureData, MasterData, ...)")
    reason: str | None = Field(description="why it could not be used")
    received_at: Annotated[datetime, PlainSerializer(_as_isoformat, return_type=str)]
    size_bytes: int = Field(description="length of the raw message")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    total: int = Field(description="dead letters in all, not only on this page")


class RetriedOut(BaseModel):
    """A dead letter that parsed this time: kept, its events published."""

    id: str
    status: Literal["retried"] = "retried"
    events: int = Field(description="events the message became")


class DeadLetterController(Controller):
    path = "/api/datahub/dead-letters"
    tags = ["datahub"]

    @get("/", summary="DataHub messages that could not be parsed or validated")
    async def list_dead_letters(
        self,
        service: ServiceDep,
        limit: FromQuery[PageSize] = 100,
        offset: FromQuery[Offset] = 0,
    ) -> DeadLetterPage:
        page = await inbound.dead_letters(service, limit, offset)
        return DeadLetterPage(
            items=[
                DeadLetterOut(
                    id=r["message_id"],
                    category=r["category"],
                    reason=r["reason"],
                    received_at=r["received_at"],
                    size_bytes=r["size"],
                )
                for r in page.rows
            ],
            total=page.total,
        )

    @post("/{message_id:str}/retry", status_code=200, summary="Parse a dead letter again")
    async def retry(self, message_id: FromPath[str], service: ServiceDep) -> RetriedOut:
        result = await inbound.retry_dead_letter(service, message_id)
        if result is None:
            raise Problem(404, "dead-letter-not-found", "No such dead letter", message_id)
        if result.outcome == "dead_lettered":
            raise Problem(422, "still-invalid", "The message still cannot be used", result.reason)
        return RetriedOut(id=message_id, events=result.events)


class MissingDataReminderOut(BaseModel):
    """A reminder from DataHub that it misses a metering point's measure data (RSM-018)."""

    id: int = Field(description="keyset cursor: pass as ?after= for the next page")
    gsrn: str
    missing_since: datetime | None = Field(
        default=None, description="the start of the first period DataHub has no data for"
    )
    datahub_message_id: str
    transaction_id: str
    received_at: datetime


class MissingDataReminderPage(BaseModel):
    items: list[MissingDataReminderOut]
    next_after: int | None = Field(description="?after= for the next page; null at the end")


class MissingDataReminderController(Controller):
    path = "/api/datahub/missing-data-reminders"
    tags = ["datahub"]

    @get("/", summary="DataHub's reminders of missing measure data, newest first (?after=)")
    async def list_reminders(
        self,
        service: ServiceDep,
        gsrn: FromQuery[GsrnQuery] = None,
        after: FromQuery[AfterId] = None,
        limit: FromQuery[PageSize] = 100,
    ) -> MissingDataReminderPage:
        rows = await inbound.missing_data_reminders(service, after, limit, gsrn)
        items = [
            MissingDataReminderOut(
                id=r["id"],
                gsrn=r["gsrn"],
                missing_since=r["missing_since"],
                datahub_message_id=r["datahub_message_id"],
                transaction_id=r["transaction_id"],
                received_at=r["received_at"],
            )
            for r in rows
        ]
        return MissingDataReminderPage(
            items=items, next_after=items[-1].id if len(items) == limit else None
        )


ROUTES: list[Any] = [DeadLetterController, MissingDataReminderController]
