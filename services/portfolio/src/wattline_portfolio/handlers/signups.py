"""Signups: a sales channel (or back office) signs a customer up at a DAR address; a rejected
one is corrected and submitted again; one not yet active is cancelled."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
from wattline_contracts.portfolio import transaction_id_for
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.logging import get_logger

from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.adapters import store
from wattline_portfolio.adapters.address_lookup import AddressLookupUnavailable
from wattline_portfolio.domain import channels
from wattline_portfolio.domain import history as entries
from wattline_portfolio.domain.dates import InvalidEffectiveDate
from wattline_portfolio.domain.identity import InvalidIdentity
from wattline_portfolio.domain.process import SIGNUP_KINDS, Step
from wattline_portfolio.domain.products import Channel, version_to_sign
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.handlers.errors import (
    AddressLookupFailed,
    AlreadyResubmitted,
    AlreadySupplied,
    ChannelNotAllowed,
    EffectiveDateNotAllowed,
    IdempotencyKeyReused,
    InvalidCprCvr,
    InvalidGsrn,
    InvalidGsrnAtAddress,
    MeteringPointNotAtAddress,
    NoMeteringPoint,
    OpenProcess,
    ProductNotAvailable,
    SeveralMeteringPoints,
    SignupNotFound,
    SignupNotRejected,
)
from wattline_portfolio.handlers.history import record
from wattline_portfolio.handlers.parties import save_party
from wattline_portfolio.handlers.processes import (
    cancel,
    open_process,
    refuse_open_process,
    status_event,
)
from wattline_portfolio.models import SignupIn

log = get_logger(__name__)


@dataclass(frozen=True)
class SignupResult:
    signup_id: str
    status: str
    gsrn: str
    effective_date: date
    replayed: bool = False

    def body(self) -> dict[str, str]:
        return {
            "signup_id": self.signup_id,
            "status": self.status,
            "gsrn": self.gsrn,
            "effective_date": self.effective_date.isoformat(),
        }


async def address_gsrns(p: Portfolio, dar_id: uuid.UUID) -> list[str]:
    """The GSRNs at a DAR address (AddressLookupFailed when the lookup fails)."""
    try:
        return await p.addresses.gsrns(dar_id)
    except AddressLookupUnavailable as exc:
        raise AddressLookupFailed(str(exc)) from None


async def resolve_gsrn(p: Portfolio, dar_id: uuid.UUID, chosen: str | None) -> str:
    """The metering point of the signup: the one at the address, or the chosen one of several."""
    gsrns = await address_gsrns(p, dar_id)
    if not gsrns:
        raise NoMeteringPoint(f"DAR id {dar_id}")
    if chosen is not None:
        if chosen not in gsrns:
            raise MeteringPointNotAtAddress(
                f"{chosen} is not one of {', '.join(gsrns)}", gsrns=gsrns
            )
        return chosen
    if len(gsrns) > 1:
        raise SeveralMeteringPoints(f"choose one of {', '.join(gsrns)} (field gsrn)", gsrns=gsrns)
    return gsrns[0]


def _replay(row: asyncpg.Record, request_index: str) -> SignupResult:
    if row["request_index"] != request_index:
        raise IdempotencyKeyReused("send a new key for a new signup")
    return SignupResult(
        row["signup_id"], row["status"], row["gsrn"], row["effective_date"], replayed=True
    )


async def _first_result(
    p: Portfolio, idempotency_key: str | None, channel: str | None, request_index: str
) -> SignupResult | None:
    """The result of the request this one repeats (same Idempotency-Key of the same channel),
    replayed; None when there is no key or no such request (yet). Asked before the signup's
    transaction and again when it fails on an open process or a unique key: a concurrent
    retry of the same request may have committed first, and its result wins."""
    if idempotency_key is None:
        return None
    async with p.service.database.connection() as conn:
        first = await store.signup_by_key(conn, idempotency_key, channel)
    return None if first is None else _replay(first, request_index)


def pricing_channel(key_channel: str | None, asked: Channel | None) -> Channel | None:
    """The channel whose prices a caller sees and signs (see domain.channels)."""
    try:
        return channels.signing_channel(key_channel, asked)
    except channels.ChannelNotAllowed as exc:
        raise ChannelNotAllowed(str(exc)) from None


async def submit_signup(
    p: Portfolio,
    body: SignupIn,
    idempotency_key: str | None = None,
    resubmission_of: str | None = None,
    channel: str | None = None,
) -> SignupResult:
    """Validate a signup, resolve its metering point and register customer, payer, signup and
    process in one transaction. No metering point, contract or supply period yet: those come
    with DataHub's master data on the effective date. *channel*: the sales channel making it
    (it alone sees the signup then; an Idempotency-Key is one channel's)."""
    # Without a channel the request is as it was before signups had one (its fingerprint
    # unchanged: a repeated request of then still replays).
    request_json = body.model_dump_json(exclude={"channel"} if body.channel is None else None)
    request_index = p.vault.fingerprint(request_json)
    replayed = await _first_result(p, idempotency_key, channel, request_index)
    if replayed is not None:
        return replayed
    price_channel = pricing_channel(channel, body.channel)
    try:
        customer, payer = body.customer(), body.payer()
    except InvalidIdentity as exc:
        raise InvalidCprCvr(str(exc)) from None
    if body.gsrn is not None and not is_valid_gsrn(body.gsrn):
        raise InvalidGsrn("18 digits, starts 57, GS1 check digit")
    gsrn = await resolve_gsrn(p, body.dar_id, body.gsrn)
    if not is_valid_gsrn(gsrn):
        raise InvalidGsrnAtAddress(gsrn)
    kind = SIGNUP_KINDS[body.type]
    today = await p.today()
    effective_date = body.effective_date or p.settings.date_rules.earliest(kind, today)
    try:
        p.settings.date_rules.check(kind, effective_date, today)
    except InvalidEffectiveDate as exc:
        raise EffectiveDateNotAllowed(str(exc)) from None
    process_id = uuid.uuid4()
    try:
        async with p.service.database.transaction() as tx:
            product = await product_store.get(tx, str(body.product_id))
            version = version_to_sign(product, effective_date, price_channel, today)
            if version is None:
                raise ProductNotAvailable(str(body.product_id))
            await store.lock_gsrn(tx, gsrn)
            await refuse_open_process(tx, gsrn)
            customer_id = await save_party(p, tx, "customer", customer)
            await _refuse_supplied(tx, gsrn, effective_date, body.type, customer_id)
            payer_id = await save_party(p, tx, "payer", payer) if payer else None
            signup_id = await store.next_signup_id(tx, today.year)
            await store.insert_process(
                tx,
                process_id=process_id,
                kind=kind,
                gsrn=gsrn,
                effective_date=effective_date,
                transaction_id=transaction_id_for(str(process_id)),
                send_after=datetime.now(UTC) + timedelta(seconds=p.settings.send_delay_s),
                signup_id=signup_id,
                customer_id=customer_id,
            )
            await store.insert_signup(
                tx,
                signup_id=signup_id,
                idempotency_key=idempotency_key,
                request_index=request_index,
                request_sealed=p.vault.seal(request_json),
                dar_id=body.dar_id,
                gsrn=gsrn,
                customer_id=uuid.UUID(customer_id),
                payer_id=uuid.UUID(payer_id) if payer_id else None,
                product_id=body.product_id,
                product_version=version.version,
                type=body.type,
                effective_date=effective_date,
                status="registered",
                process_id=process_id,
                resubmission_of=resubmission_of,
                channel=channel,
                price_channel=price_channel,
            )
            await record(
                tx,
                customer_id,
                entries.signup_registered(
                    signup_id, body.type, gsrn, effective_date, price_channel, version.version
                ),
            )
            step = Step("pending", f"signup {signup_id} registered ({body.type})")
            await store.add_timeline(tx, process_id, [step], "api")
            await p.emit(tx, status_event(process_id, kind, gsrn, signup_id, step, None,
                                          effective_date), gsrn)  # fmt: skip
    except OpenProcess:
        replayed = await _first_result(p, idempotency_key, channel, request_index)
        if replayed is not None:
            return replayed
        if channel is not None:
            # The open process may be another channel's signup: its ids are not this one's.
            raise open_process(gsrn, None) from None
        raise
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "signup_idempotency_per_channel" and idempotency_key:
            replayed = await _first_result(p, idempotency_key, channel, request_index)
            assert replayed is not None
            return replayed
        if exc.constraint_name == "process_one_open_per_gsrn":
            replayed = await _first_result(p, idempotency_key, channel, request_index)
            if replayed is not None:
                return replayed
            raise open_process(gsrn, None) from None
        if exc.constraint_name == "signup_one_resubmission":
            raise AlreadyResubmitted(resubmission_of) from None
        raise
    log.info("signup_registered", signup_id=signup_id, gsrn=gsrn, kind=kind)
    return SignupResult(signup_id, "registered", gsrn, effective_date)


def already_supplied(gsrn: str, period: asyncpg.Record, hint: str) -> AlreadySupplied:
    """``already-supplied``: we supply *gsrn* under *period* (from a signup or an import)."""
    end = period["end_date"]
    until = f" until {end.isoformat()}" if end is not None else ""
    return AlreadySupplied(
        f"{gsrn} is supplied by us from {period['start_date'].isoformat()}{until}: {hint}",
        gsrn=gsrn,
        supply_period_id=str(period["supply_period_id"]),
    )


async def _refuse_supplied(
    tx: asyncpg.Connection, gsrn: str, effective_date: date, kind: str, customer_id: str
) -> None:
    """A switch to us, or a move-in of the customer we already supply there, onto a metering
    point we supply on or after the effective date is refused. A supply of ours that has ended
    by then is no obstacle; a new customer of ours moving in (BRS-009) is not refused either:
    the previous one moves out on that date."""
    period = await store.supplying_period(tx, gsrn, effective_date)
    if period is None:
        return
    if kind == "switch":
        raise already_supplied(gsrn, period, "a new customer there is a move-in")
    if str(period["customer_id"]) == customer_id:
        raise already_supplied(gsrn, period, "the customer already lives there")


async def resubmit_signup(
    p: Portfolio, signup_id: str, corrections: dict[str, object], seen_by: str | None = None
) -> SignupResult:
    """Back office (or the channel that made it, *seen_by*) corrects a rejected signup: a new
    signup of the same channel from the old one's data and the corrections, linked both ways."""
    async with p.service.database.connection() as conn:
        old = await store.signup(conn, signup_id, seen_by=seen_by)
    if old is None:
        raise SignupNotFound(signup_id)
    if old["status"] not in ("rejected", "cancelled"):
        raise SignupNotRejected(f"{signup_id} is {old['status']}")
    data = json.loads(p.vault.open(old["request_sealed"]))
    data.update({k: v for k, v in corrections.items() if v is not None})
    if "dar_id" in corrections and corrections["dar_id"] is not None and "gsrn" not in corrections:
        data["gsrn"] = None
    body = SignupIn.model_validate(data)
    return await submit_signup(p, body, resubmission_of=signup_id, channel=old["channel"])


async def cancel_signup(
    p: Portfolio, signup_id: str, seen_by: str | None = None
) -> tuple[str, bool]:
    """Cancel a signup: at once if DataHub never heard of it, else through RSM-002.
    Returns (external status, whether the cancellation waits for DataHub). CannotCancel once
    active or rejected; SignupNotFound for another channel's signup when *seen_by* is a
    channel."""
    async with p.service.database.transaction() as tx:
        signup = await store.signup(tx, signup_id, seen_by=seen_by)
        if signup is None:
            raise SignupNotFound(signup_id)
        # The process first, then the signup: the order DataHub's events take them in.
        row = await store.process_by(tx, "process_id", signup["process_id"])
        assert row is not None
        await cancel(p, tx, row, "api")
        process = await store.process_by(tx, "process_id", signup["process_id"])
        status = await store.signup_status(tx, signup_id)
    assert process is not None
    return str(status), process["status"] == "cancellation_pending"
