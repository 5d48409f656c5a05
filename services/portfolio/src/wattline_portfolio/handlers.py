"""Portfolio commands and event handlers: load, decide (domain), save + outbox in one
transaction. Commands refuse with a Problem (problem+json at the edge); event handlers never
refuse what DataHub already decided."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

import asyncpg
from wattline_contracts.datahub import (
    MasterDataReceivedV1,
    NotificationReceivedV1,
    ProcessAnsweredV1,
    RequestFailedV1,
    RequestSentV1,
)
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import (
    ContractChangedV1,
    CustomerActivatedV1,
    CustomerOffboardedV1,
    DataHubRequestRaisedV1,
    MeteringPointRegisteredV1,
    OffboardReason,
    Party,
    ProcessStatusChangedV1,
    ProductVersionPublishedV1,
    SupplyPeriodChangedV1,
    SupplyReason,
    transaction_id_for,
)
from wattline_platform.business_days import danish_today
from wattline_platform.grid_areas import price_area
from wattline_platform.identifiers import is_valid_gsrn
from wattline_platform.logging import get_logger
from wattline_platform.problem import Problem

from wattline_portfolio.adapters import metering_points, store
from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.adapters.address_lookup import AddressLookup, AddressLookupUnavailable
from wattline_portfolio.adapters.vault import Vault
from wattline_portfolio.domain.dates import InvalidEffectiveDate
from wattline_portfolio.domain.identity import InvalidIdentity, Person
from wattline_portfolio.domain.metering_point import MeteringPoint
from wattline_portfolio.domain.process import (
    BACK_OFFICE_KINDS,
    COMPLETED_BY_MASTER_DATA,
    SIGNUP_KINDS,
    BackOfficeKind,
    NotCancellable,
    Process,
    Step,
    external_status,
)
from wattline_portfolio.domain.products import (
    InvalidProduct,
    Prices,
    Product,
    ProductVersion,
    next_version,
    version_to_sign,
)
from wattline_portfolio.models import PricesIn, ProductIn, SignupIn
from wattline_portfolio.settings import PortfolioService, PortfolioSettings

log = get_logger(__name__)
_STARTING = ("BRS-001", "BRS-009")
_OFFBOARD_REASON: dict[str, OffboardReason] = {"BRS-002": "end_of_supply", "BRS-010": "move_out"}


@dataclass
class Portfolio:
    """What the portfolio's handlers work with (built in bootstrap)."""

    service: PortfolioService
    settings: PortfolioSettings
    vault: Vault
    addresses: AddressLookup

    async def today(self) -> date:
        """Today in Denmark, by the market clock."""
        return danish_today(await self.service.clock.now())

    async def emit(self, tx: asyncpg.Connection, event: Event, key: str) -> Envelope:
        return await self.service.emit(tx, event, key=key)


def _reasons(answer: ProcessAnsweredV1) -> list[str]:
    return [f"{r.code}: {r.text}" if r.text else r.code for r in answer.reasons]


# -- products -----------------------------------------------------------------------------------


def _version_event(product: Product, version: ProductVersion) -> ProductVersionPublishedV1:
    return ProductVersionPublishedV1(
        product_id=product.product_id,
        version=version.version,
        name=product.name,
        price_type=version.prices.price_type,
        margin_dkk_per_kwh=version.prices.margin_dkk_per_kwh,
        fixed_price_dkk_per_kwh=version.prices.fixed_price_dkk_per_kwh,
        subscription_dkk_per_month=version.prices.subscription_dkk_per_month,
        green_energy=product.green_energy,
        valid_from=version.valid_from,
    )


async def create_product(p: Portfolio, body: ProductIn, product_id: str | None = None) -> Product:
    """A new product with its first price version; published for settlement and invoicing."""
    try:
        prices = Prices(
            body.price_type,
            body.margin_dkk_per_kwh,
            body.subscription_dkk_per_month,
            body.fixed_price_dkk_per_kwh,
        )
    except InvalidProduct as exc:
        raise Problem(400, "invalid-product", "Invalid product", str(exc)) from None
    product = Product(
        product_id or str(uuid.uuid4()),
        body.name,
        body.description,
        body.green_energy,
        body.display_order,
        True,
        (ProductVersion(1, body.valid_from, prices),),
    )
    try:
        async with p.service.database.transaction() as tx:
            await product_store.insert(tx, product)
            await p.emit(tx, _version_event(product, product.versions[0]), product.product_id)
    except asyncpg.UniqueViolationError:
        raise Problem(409, "product-exists", "A product with that name exists", body.name) from None
    return product


async def add_product_version(p: Portfolio, product_id: str, prices_in: PricesIn) -> ProductVersion:
    """A price change from a date: a new version; existing contracts keep theirs."""
    today = await p.today()
    async with p.service.database.transaction() as tx:
        product = await product_store.get(tx, product_id, for_update=True)
        if product is None:
            raise Problem(404, "product-not-found", "No such product", product_id)
        try:
            prices = Prices(
                prices_in.price_type,
                prices_in.margin_dkk_per_kwh,
                prices_in.subscription_dkk_per_month,
                prices_in.fixed_price_dkk_per_kwh,
            )
            number = next_version(product.versions, prices_in.valid_from, today)
        except InvalidProduct as exc:
            raise Problem(
                400, "invalid-product-version", "Invalid price version", str(exc)
            ) from None
        version = ProductVersion(number, prices_in.valid_from, prices)
        await product_store.insert_version(tx, product_id, version)
        await p.emit(tx, _version_event(product, version), product_id)
    return version


DEFAULT_CATALOGUE = (
    ("Spot", "Timepris: spotpris + vores tillæg. Ingen binding.", False, 10,
     "spot", "0.040000", "39.00", None),
    ("Spot Grøn", "Timepris med oprindelsesgarantier fra dansk vind og sol. Ingen binding.",
     True, 20, "spot", "0.060000", "39.00", None),
    ("Fastpris", "Samme pris på el hver time. Ingen binding.", False, 30,
     "fixed", "0", "29.00", "1.100000"),
)  # fmt: skip


async def ensure_default_products(p: Portfolio) -> int:
    """Create the default catalogue when there are no products (once, under a lock)."""
    if not p.settings.default_products:
        return 0
    async with p.service.database.transaction() as tx:
        await tx.execute("SELECT pg_advisory_xact_lock(hashtext('portfolio.default_products'))")
        if await tx.fetchval("SELECT count(*) FROM product"):
            return 0
        today = await p.today()
        for name, text, green, order, kind, margin, subscription, fixed in DEFAULT_CATALOGUE:
            product = Product(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"wattline:product:{name}")),
                name,
                text,
                green,
                order,
                True,
                (
                    ProductVersion(
                        1,
                        date(today.year, 1, 1) - timedelta(days=366 * 2),
                        Prices(
                            kind,  # type: ignore[arg-type]
                            Decimal(margin),
                            Decimal(subscription),
                            None if fixed is None else Decimal(fixed),
                        ),
                    ),
                ),
            )
            await product_store.insert(tx, product)
            await p.emit(tx, _version_event(product, product.versions[0]), product.product_id)
    return len(DEFAULT_CATALOGUE)


# -- signups ------------------------------------------------------------------------------------


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
    """The GSRNs at a DAR address (503 problem when the lookup fails)."""
    try:
        return await p.addresses.gsrns(dar_id)
    except AddressLookupUnavailable as exc:
        raise Problem(
            503, "address-lookup-unavailable", "Address lookup failed", str(exc)
        ) from None


async def resolve_gsrn(p: Portfolio, dar_id: uuid.UUID, chosen: str | None) -> str:
    """The metering point of the signup: the one at the address, or the chosen one of several."""
    gsrns = await address_gsrns(p, dar_id)
    if not gsrns:
        raise Problem(
            400, "no-metering-point", "No metering point at that address", f"DAR id {dar_id}"
        )
    if chosen is not None:
        if chosen not in gsrns:
            raise Problem(
                400,
                "metering-point-not-at-address",
                "The metering point is not at that address",
                f"{chosen} is not one of {', '.join(gsrns)}",
                gsrns=gsrns,
            )
        return chosen
    if len(gsrns) > 1:
        raise Problem(
            400,
            "several-metering-points",
            "Several metering points at that address",
            f"choose one of {', '.join(gsrns)} (field gsrn)",
            gsrns=gsrns,
        )
    return gsrns[0]


async def save_party(
    p: Portfolio, tx: asyncpg.Connection, role: str, person: Person, *, overwrite: bool = False
) -> str:
    """The party id of *person* in *role*, sealed and blind-indexed; its details replace the
    stored ones only when *overwrite* (confirmed data: an activation, an import)."""
    return await store.upsert_party(
        tx,
        role=role,
        contact_type=person.contact_type,
        cpr_cvr_index=p.vault.index(f"{person.contact_type}:{person.cpr_cvr}"),
        cpr_cvr_masked=person.cpr_cvr_masked,
        name_index=p.vault.index(person.name),
        email_index=p.vault.index(person.email) if person.email else None,
        sealed=p.vault.seal_person(person),
        overwrite=overwrite,
    )


def _replay(row: asyncpg.Record, request_index: str) -> SignupResult:
    if row["request_index"] != request_index:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused with a different request",
            "send a new key for a new signup",
        )
    return SignupResult(
        row["signup_id"], row["status"], row["gsrn"], row["effective_date"], replayed=True
    )


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
    request_json = body.model_dump_json()
    request_index = p.vault.fingerprint(request_json)
    if idempotency_key is not None:
        async with p.service.database.connection() as conn:
            first = await store.signup_by_key(conn, idempotency_key, channel)
        if first is not None:
            return _replay(first, request_index)
    try:
        customer, payer = body.customer(), body.payer()
    except InvalidIdentity as exc:
        raise Problem(400, "invalid-cpr-cvr", "Invalid CPR/CVR number", str(exc)) from None
    if body.gsrn is not None and not is_valid_gsrn(body.gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN", "18 digits, starts 57, GS1 check digit")
    gsrn = await resolve_gsrn(p, body.dar_id, body.gsrn)
    if not is_valid_gsrn(gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN at the address", gsrn)
    kind = SIGNUP_KINDS[body.type]
    today = await p.today()
    effective_date = body.effective_date or p.settings.date_rules.earliest(kind, today)
    try:
        p.settings.date_rules.check(kind, effective_date, today)
    except InvalidEffectiveDate as exc:
        raise Problem(
            400, "invalid-effective-date", "Effective date not allowed", str(exc)
        ) from None
    process_id = uuid.uuid4()
    try:
        async with p.service.database.transaction() as tx:
            product = await product_store.get(tx, str(body.product_id))
            version = version_to_sign(product, effective_date)
            if version is None:
                raise Problem(
                    400, "product-not-available", "No such active product", str(body.product_id)
                )
            await store.lock_gsrn(tx, gsrn)
            await _refuse_open_process(tx, gsrn)
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
            )
            step = Step("pending", f"signup {signup_id} registered ({body.type})")
            await store.add_timeline(tx, process_id, [step], "api")
            await p.emit(tx, _status_event(process_id, kind, gsrn, signup_id, step, None,
                                           effective_date), gsrn)  # fmt: skip
    except Problem as exc:
        # A concurrent retry of the same request may have committed first: its result wins.
        if exc.type == "open-process" and idempotency_key:
            async with p.service.database.connection() as conn:
                first = await store.signup_by_key(conn, idempotency_key, channel)
            if first is not None:
                return _replay(first, request_index)
        if exc.type == "open-process" and channel is not None:
            # The open process may be another channel's signup: its ids are not this one's.
            raise _open_process_problem(gsrn, None) from None
        raise
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "signup_idempotency_per_channel" and idempotency_key:
            async with p.service.database.connection() as conn:
                first = await store.signup_by_key(conn, idempotency_key, channel)
            assert first is not None
            return _replay(first, request_index)
        if exc.constraint_name == "process_one_open_per_gsrn":
            if idempotency_key:  # a concurrent retry of the same request may have won
                async with p.service.database.connection() as conn:
                    first = await store.signup_by_key(conn, idempotency_key, channel)
                if first is not None:
                    return _replay(first, request_index)
            raise _open_process_problem(gsrn, None) from None
        if exc.constraint_name == "signup_one_resubmission":
            raise Problem(
                409, "already-resubmitted", "The signup was already re-submitted", resubmission_of
            ) from None
        raise
    log.info("signup_registered", signup_id=signup_id, gsrn=gsrn, kind=kind)
    return SignupResult(signup_id, "registered", gsrn, effective_date)


def _open_process_problem(gsrn: str, row: asyncpg.Record | None) -> Problem:
    detail = f"metering point {gsrn} has an open process"
    extra: dict[str, str] = {}
    if row is not None:
        detail += f" ({row['kind']}, {row['status']})"
        extra["process_id"] = str(row["process_id"])
        if row["signup_id"]:
            extra["signup_id"] = row["signup_id"]
    return Problem(409, "open-process", "The metering point has an open process", detail, **extra)


def already_supplied_problem(gsrn: str, period: asyncpg.Record, hint: str) -> Problem:
    """409 ``already-supplied``: we supply *gsrn* under *period* (from a signup or an import)."""
    end = period["end_date"]
    until = f" until {end.isoformat()}" if end is not None else ""
    return Problem(
        409,
        "already-supplied",
        "We already supply that metering point",
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
        raise already_supplied_problem(gsrn, period, "a new customer there is a move-in")
    if str(period["customer_id"]) == customer_id:
        raise already_supplied_problem(gsrn, period, "the customer already lives there")


async def _refuse_open_process(tx: asyncpg.Connection, gsrn: str) -> None:
    row = await store.open_process(tx, gsrn)
    if row is not None:
        raise _open_process_problem(gsrn, row)


async def resubmit_signup(
    p: Portfolio, signup_id: str, corrections: dict[str, object], seen_by: str | None = None
) -> SignupResult:
    """Back office (or the channel that made it, *seen_by*) corrects a rejected signup: a new
    signup of the same channel from the old one's data and the corrections, linked both ways."""
    async with p.service.database.connection() as conn:
        old = await store.signup(conn, signup_id, seen_by=seen_by)
    if old is None:
        raise Problem(404, "signup-not-found", "No such signup", signup_id)
    if old["status"] not in ("rejected", "cancelled"):
        raise Problem(
            409,
            "signup-not-rejected",
            "Only a rejected or cancelled signup can be re-submitted",
            f"{signup_id} is {old['status']}",
        )
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
    Returns (external status, whether the cancellation waits for DataHub). 409 once active or
    rejected; 404 for another channel's signup when *seen_by* is a channel."""
    async with p.service.database.transaction() as tx:
        signup = await store.signup(tx, signup_id, seen_by=seen_by)
        if signup is None:
            raise Problem(404, "signup-not-found", "No such signup", signup_id)
        # The process first, then the signup: the order DataHub's events take them in.
        row = await store.process_by(tx, "process_id", signup["process_id"])
        assert row is not None
        await _cancel(p, tx, row, "api")
        process = await store.process_by(tx, "process_id", signup["process_id"])
        status = await tx.fetchval("SELECT status FROM signup WHERE signup_id = $1", signup_id)
    assert process is not None
    return str(status), process["status"] == "cancellation_pending"


async def _cancel(p: Portfolio, tx: asyncpg.Connection, row: asyncpg.Record, source: str) -> bool:
    try:
        process, steps, ask = store.to_domain(row).cancel()
    except NotCancellable as exc:
        status = external_status(row["status"]) if row["signup_id"] else row["status"]
        raise Problem(
            409, "not-cancellable", f"Cannot cancel: {status}", str(exc), current_status=status
        ) from None
    if ask:
        # A new request per attempt: DataHub may refuse one and a later one go through.
        request_id = str(uuid.uuid4())
        await store.set_cancel_request(
            tx, row["process_id"], request_id, transaction_id_for(request_id)
        )
        await p.emit(
            tx,
            DataHubRequestRaisedV1(
                request_id=request_id,
                kind="RSM-002",
                gsrn=row["gsrn"],
                cancels_request_id=row["request_id"],
                cancels_kind=row["kind"],
            ),
            row["gsrn"],
        )
    await _apply(p, tx, row, process, steps, source)
    return ask


# -- back-office processes ----------------------------------------------------------------------


async def start_process(
    p: Portfolio, kind_name: BackOfficeKind, gsrn: str, effective_date: date | None
) -> asyncpg.Record:
    """Back office ends, moves out, or corrects our supply of a metering point."""
    kind = BACK_OFFICE_KINDS[kind_name]
    if not is_valid_gsrn(gsrn):
        raise Problem(400, "invalid-gsrn", "Invalid GSRN", gsrn)
    today = await p.today()
    process_id = uuid.uuid4()
    try:
        async with p.service.database.transaction() as tx:
            await _refuse_open_process(tx, gsrn)
            if kind == "BRS-003":
                period = await store.latest_period(tx, gsrn)
                if period is None or period["end_reason"] != "switched_away":
                    raise Problem(
                        409,
                        "no-switch-to-undo",
                        "No switch away from us to undo",
                        f"{gsrn}: our latest supply did not end by another supplier's switch",
                    )
                effective_date = period["end_date"]
            else:
                period = await store.current_period(tx, gsrn)
                if period is None:
                    raise Problem(409, "not-supplied", "We do not supply that metering point", gsrn)
                if effective_date is None:
                    raise Problem(400, "effective-date-required", "effective_date is required")
                try:
                    p.settings.date_rules.check(kind, effective_date, today)
                except InvalidEffectiveDate as exc:
                    raise Problem(
                        400, "invalid-effective-date", "Effective date not allowed", str(exc)
                    ) from None
                if kind in ("BRS-002", "BRS-010") and effective_date <= period["start_date"]:
                    raise Problem(
                        400,
                        "invalid-effective-date",
                        "Effective date not allowed",
                        f"the supply started {period['start_date'].isoformat()}",
                    )
                if kind == "BRS-011":
                    await _refuse_move_correction(tx, period, effective_date)
            assert effective_date is not None
            await store.insert_process(
                tx,
                process_id=process_id,
                kind=kind,
                gsrn=gsrn,
                effective_date=effective_date,
                transaction_id=transaction_id_for(str(process_id)),
                send_after=datetime.now(UTC) + timedelta(seconds=p.settings.send_delay_s),
                supply_period_id=str(period["supply_period_id"]),
                customer_id=str(period["customer_id"]),
            )
            step = Step("pending", f"{kind_name} requested by back office")
            await store.add_timeline(tx, process_id, [step], "api")
            await p.emit(
                tx, _status_event(process_id, kind, gsrn, None, step, None, effective_date), gsrn
            )
            row = await store.process_by(tx, "process_id", process_id, for_update=False)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "process_one_open_per_gsrn":
            raise _open_process_problem(gsrn, None) from None
        raise
    assert row is not None
    return row


async def _refuse_move_correction(
    tx: asyncpg.Connection, period: asyncpg.Record, corrected: date
) -> None:
    """BRS-011 corrects the date of our own move-in, before anything else changed on it."""
    moved_in = await tx.fetchval(
        "SELECT type = 'move_in' FROM signup WHERE signup_id = $1", period["signup_id"]
    )
    if not moved_in:
        raise Problem(409, "not-a-move-in", "Only a move-in's date can be corrected (BRS-011)")
    if len(await store.contracts_of_period(tx, period["supply_period_id"])) != 1:
        raise Problem(
            409,
            "contract-changed",
            "The product changed since the move-in",
            "correct the move-in date before changing the product",
        )
    if corrected == period["start_date"]:
        raise Problem(400, "invalid-effective-date", "The supply already starts on that date")


async def cancel_process(p: Portfolio, process_id: uuid.UUID) -> bool:
    """Cancel a back-office process; True while the cancellation waits for DataHub."""
    async with p.service.database.transaction() as tx:
        row = await store.process_by(tx, "process_id", process_id)
        if row is None:
            raise Problem(404, "process-not-found", "No such process", str(process_id))
        await _cancel(p, tx, row, "api")
        status = await tx.fetchval("SELECT status FROM process WHERE process_id = $1", process_id)
    return bool(status == "cancellation_pending")


# -- the process state, its timeline and its events ---------------------------------------------


def _status_event(
    process_id: uuid.UUID,
    kind: str,
    gsrn: str,
    signup_id: str | None,
    step: Step,
    previous: str | None,
    effective_date: date,
    reasons: Sequence[str] = (),
) -> ProcessStatusChangedV1:
    return ProcessStatusChangedV1(
        process_id=str(process_id),
        kind=kind,
        gsrn=gsrn,
        signup_id=signup_id,
        status=step.status,
        previous_status=previous,
        effective_date=effective_date,
        reasons=list(reasons),
    )


async def _apply(
    p: Portfolio,
    tx: asyncpg.Connection,
    row: asyncpg.Record,
    process: Process,
    steps: Sequence[Step],
    source: str,
    *,
    reasons: Sequence[str] = (),
    datahub_reference: str | None = None,
) -> None:
    """Store a transition: state, timeline, one status event per step, the signup's status."""
    await store.save_process(
        tx, row, process, steps, source, reasons=reasons, datahub_reference=datahub_reference
    )
    previous = row["status"]
    for step in steps:
        await p.emit(
            tx,
            _status_event(
                row["process_id"],
                row["kind"],
                row["gsrn"],
                row["signup_id"],
                step,
                previous,
                row["effective_date"],
                reasons,
            ),
            row["gsrn"],
        )
        previous = step.status
    if steps and row["signup_id"]:
        rejected = steps[-1].detail if process.status == "rejected" else None
        await store.sync_signup(tx, row["signup_id"], external_status(process.status), rejected)


# -- the scheduler: raise due requests, complete ending processes -------------------------------


async def raise_due(p: Portfolio, limit: int = 200) -> int:
    """Hand the processes whose hold is over to the datahub service (one transaction; replicas
    skip each other's rows)."""
    async with p.service.database.transaction() as tx:
        rows = await store.due_to_raise(tx, limit)
        raised = 0
        for row in rows:
            try:
                async with tx.transaction():  # a savepoint: one bad row never blocks the rest
                    await _raise(p, tx, row)
                raised += 1
            except Exception as exc:
                log.error("raise_failed", process_id=str(row["process_id"]), error=repr(exc))
    return raised


async def _raise(p: Portfolio, tx: asyncpg.Connection, row: asyncpg.Record) -> None:
    """Hand one process to the datahub service."""
    scheme: str | None = None
    sealed: str | None = None
    if row["kind"] in _STARTING:
        party = await store.party(tx, str(row["customer_id"]))
        assert party is not None
        person = p.vault.open_person(party["sealed"])
        scheme, sealed = person.scheme, p.vault.seal(person.cpr_cvr)
    await p.emit(
        tx,
        DataHubRequestRaisedV1(
            request_id=row["request_id"],
            kind=row["kind"],
            gsrn=row["gsrn"],
            effective_date=row["effective_date"],
            balance_responsible_gln=p.settings.balance_responsible_gln
            if row["kind"] in (*_STARTING, "BRS-003")
            else None,
            customer_scheme=scheme,
            customer_id_sealed=sealed,
        ),
        row["gsrn"],
    )
    process, _ = store.to_domain(row).raise_request()
    await store.save_process(
        tx, row, process, [Step("pending", "request handed to DataHub")], "scheduler"
    )


async def complete_due(p: Portfolio, limit: int = 200) -> int:
    """Complete ending processes (end of supply, move-out) whose effective date has come."""
    today = await p.today()
    async with p.service.database.transaction() as tx:
        rows = await store.due_endings(tx, today, limit)
        for row in rows:
            process, steps = store.to_domain(row).effectuated(
                f"effective {row['effective_date'].isoformat()}: our supply ended"
            )
            await _apply(p, tx, row, process, steps, "scheduler")
            period = await store.current_period(tx, row["gsrn"])
            if period is not None:
                await _end_period(
                    p, tx, period, row["effective_date"], _OFFBOARD_REASON[row["kind"]], row
                )
    return len(rows)


# -- events from the datahub service ------------------------------------------------------------


async def on_request_sent(
    p: Portfolio, tx: asyncpg.Connection, event: RequestSentV1, _: Envelope
) -> None:
    row = await store.process_by(tx, "request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).sent()
        await _apply(p, tx, row, process, steps, "datahub")
        return
    row = await store.process_by(tx, "cancel_request_id", event.request_id)
    if row is not None:
        step = Step(row["status"], "cancellation (RSM-002) received by DataHub")
        await store.add_timeline(tx, row["process_id"], [step], "datahub")


async def on_request_failed(
    p: Portfolio, tx: asyncpg.Connection, event: RequestFailedV1, _: Envelope
) -> None:
    reason = event.reason[:300]  # the datahub service's own words, maybe DataHub's response
    row = await store.process_by(tx, "request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).send_failed(reason)
        await _apply(p, tx, row, process, steps, "datahub", reasons=[reason])
        return
    row = await store.process_by(tx, "cancel_request_id", event.request_id)
    if row is not None:
        process, steps = store.to_domain(row).cancel_answered(False, [reason])
        await _apply(p, tx, row, process, steps, "datahub")


async def on_process_answered(
    p: Portfolio, tx: asyncpg.Connection, event: ProcessAnsweredV1, _: Envelope
) -> None:
    reasons = _reasons(event)
    row = await store.process_by(tx, "transaction_id", event.original_transaction_id)
    if row is not None:
        process, steps = store.to_domain(row).answered(event.accepted, reasons)
        await _apply(
            p,
            tx,
            row,
            process,
            steps,
            "datahub",
            reasons=reasons,
            datahub_reference=event.process_reference,
        )
        return
    row = await store.process_by(tx, "cancel_transaction_id", event.original_transaction_id)
    if row is not None:
        process, steps = store.to_domain(row).cancel_answered(event.accepted, reasons)
        await _apply(p, tx, row, process, steps, "datahub", reasons=reasons)
        return
    log.warning("answer_for_unknown_request", transaction_id=event.original_transaction_id)


async def on_master_data(
    p: Portfolio, tx: asyncpg.Connection, event: MasterDataReceivedV1, _: Envelope
) -> None:
    """RSM-022: on the effective date of one of our processes it completes it (our supply
    starts, restarts or moves its start); otherwise it updates a metering point we supply."""
    row = await store.open_process(tx, event.gsrn, for_update=True)
    start = danish_today(event.supply_start or event.validity_start)
    if row is not None and _effectuates(row, event, start):
        mp = _metering_point(event)
        await store_metering_point(p.service, tx, mp)
        process, steps = store.to_domain(row).effectuated("master data (RSM-022) received")
        await _apply(p, tx, row, process, steps, "datahub")
        if row["kind"] in _STARTING:
            await _activate(p, tx, row, start)
        elif row["kind"] == "BRS-011":
            await _correct_start(p, tx, row, start)
        else:
            await _reopen(p, tx, row)
        return
    if await metering_points.get(tx, event.gsrn) is not None:
        await store_metering_point(p.service, tx, _metering_point(event))


def _effectuates(row: asyncpg.Record, event: MasterDataReceivedV1, start: date) -> bool:
    """Whether this RSM-022 is the one that completes our open process *row*: a process that
    DataHub completes with master data, the same effective date, and DataHub's process id
    when both sides know it (a master-data update for the metering point is not)."""
    if row["kind"] not in COMPLETED_BY_MASTER_DATA or start != row["effective_date"]:
        return False
    reference, ours = event.process_reference, row["datahub_reference"]
    return reference is None or ours is None or reference == ours


async def on_notification(
    p: Portfolio, tx: asyncpg.Connection, event: NotificationReceivedV1, _: Envelope
) -> None:
    """RSM-004: another supplier takes over from a date (our supply ends the day before), or
    rolls back a switch to us (D07: the period was never ours). A notice for a date on or
    before our period's start (late or replayed) changes nothing."""
    day = danish_today(event.validity_start)
    if event.process_type == "D07":
        period = await tx.fetchrow(
            """SELECT * FROM supply_period WHERE gsrn = $1 AND status <> 'rolled_back'
               AND start_date = $2 FOR UPDATE""",
            event.gsrn,
            day,
        )
        if period is not None:
            await _roll_back(p, tx, period)
        return
    period = await store.current_period(tx, event.gsrn)
    if period is None or period["start_date"] >= day:
        log.warning("notification_ignored", gsrn=event.gsrn, date=day.isoformat())
        return
    # Another supplier's move-in means our customer moved out; anything else is a switch.
    reason: OffboardReason = "move_out" if event.process_type == "E65" else "switched_away"
    await _end_period(p, tx, period, day, reason, None)


def _metering_point(event: MasterDataReceivedV1) -> MeteringPoint:
    area = price_area(event.grid_area)
    if area is None:
        raise ValueError(f"grid area {event.grid_area} has no known price area")
    return MeteringPoint(
        gsrn=event.gsrn,
        grid_area=event.grid_area,
        price_area=area,
        metering_point_type=event.metering_point_type,  # type: ignore[arg-type]
        settlement_method=event.settlement_method,  # type: ignore[arg-type]
        resolution=(event.resolution or "PT1H"),  # type: ignore[arg-type]
    )


# -- supply periods and contracts ---------------------------------------------------------------


def _period_event(
    row: asyncpg.Record, reason: SupplyReason, process_id: object | None
) -> SupplyPeriodChangedV1:
    return SupplyPeriodChangedV1(
        supply_period_id=str(row["supply_period_id"]),
        gsrn=row["gsrn"],
        customer_id=str(row["customer_id"]),
        start_date=row["start_date"],
        end_date=row["end_date"],
        reason=reason,
        process_id=None if process_id is None else str(process_id),
    )


def _contract_event(row: asyncpg.Record) -> ContractChangedV1:
    return ContractChangedV1(
        contract_id=str(row["contract_id"]),
        gsrn=row["gsrn"],
        customer_id=str(row["customer_id"]),
        payer_id=None if row["payer_id"] is None else str(row["payer_id"]),
        product_id=str(row["product_id"]),
        product_version=row["product_version"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        billing_frequency=row["billing_frequency"],
        payment_model=row["payment_model"],
    )


def _offboarded(period: asyncpg.Record, end: date, reason: OffboardReason) -> CustomerOffboardedV1:
    return CustomerOffboardedV1(
        customer_id=str(period["customer_id"]),
        gsrn=period["gsrn"],
        supply_period_id=str(period["supply_period_id"]),
        end_date=end,
        reason=reason,
    )


def _party_event(row: asyncpg.Record) -> Party:
    return Party(
        party_id=str(row["party_id"]),
        contact_type=row["contact_type"],
        cpr_cvr_masked=row["cpr_cvr_masked"],
        sealed=row["sealed"],
    )


async def _activate(
    p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record, start: date
) -> None:
    """A signup's supply starts: supply period, contract and the customer activated."""
    signup = await store.signup(tx, process["signup_id"], for_update=True)
    assert signup is not None
    # The customer (and payer) are now confirmed: their details become the signup's.
    request = SignupIn.model_validate_json(p.vault.open(signup["request_sealed"]))
    await save_party(p, tx, "customer", request.customer(), overwrite=True)
    payer_person = request.payer()
    if payer_person is not None:
        await save_party(p, tx, "payer", payer_person, overwrite=True)
    await start_supply(
        p,
        tx,
        NewSupply(
            gsrn=signup["gsrn"],
            customer_id=str(signup["customer_id"]),
            payer_id=None if signup["payer_id"] is None else str(signup["payer_id"]),
            product_id=str(signup["product_id"]),
            product_version=signup["product_version"],
            start=start,
            billing_frequency=p.settings.billing_frequency,
            payment_model=p.settings.payment_model,
            signup_id=signup["signup_id"],
        ),
        process,
    )
    log.info("customer_activated", signup_id=signup["signup_id"], gsrn=signup["gsrn"])


@dataclass(frozen=True)
class NewSupply:
    """A supply of ours that starts: a signup DataHub confirmed, or a row of a portfolio
    import (``signup_id`` None; ``reference`` names the row in ``customer.activated``)."""

    gsrn: str
    customer_id: str
    payer_id: str | None
    product_id: str
    product_version: int
    start: date
    billing_frequency: Literal["monthly", "quarterly"]
    payment_model: Literal["aconto", "arrears"]
    signup_id: str | None = None
    reference: str | None = None


async def start_supply(
    p: Portfolio, tx: asyncpg.Connection, supply: NewSupply, process: asyncpg.Record | None
) -> tuple[str, str]:
    """Our supply of a metering point starts: its supply period, its contract and the customer
    activated, with the events settlement and invoicing build on. A customer of ours supplied
    there before moved out. Returns (supply period id, contract id)."""
    gsrn, customer_id = supply.gsrn, supply.customer_id
    process_id = None if process is None else process["process_id"]
    current = await store.current_period(tx, gsrn)
    if current is not None:  # a new customer of ours moved in: the previous one moved out
        await _end_period(p, tx, current, supply.start, "move_out", process)
    period_id = await store.insert_supply_period(
        tx, gsrn=gsrn, customer_id=customer_id, start_date=supply.start, signup_id=supply.signup_id
    )
    period = await tx.fetchrow(
        "SELECT * FROM supply_period WHERE supply_period_id = $1::uuid", period_id
    )
    contract = await store.insert_contract(
        tx,
        supply_period_id=period_id,
        gsrn=gsrn,
        customer_id=customer_id,
        payer_id=supply.payer_id,
        product_id=supply.product_id,
        product_version=supply.product_version,
        start_date=supply.start,
        billing_frequency=supply.billing_frequency,
        payment_model=supply.payment_model,
    )
    customer = await store.party(tx, customer_id)
    payer = await store.party(tx, supply.payer_id) if supply.payer_id else None
    assert customer is not None and period is not None
    reference = supply.signup_id or supply.reference
    assert reference is not None
    await p.service.emit_many(
        tx,
        [
            (_period_event(period, "started", process_id), gsrn),
            (_contract_event(contract), gsrn),
            (
                CustomerActivatedV1(
                    customer=_party_event(customer),
                    payer=_party_event(payer) if payer else None,
                    signup_id=reference,
                    gsrn=gsrn,
                    effective_date=supply.start,
                    contract_id=str(contract["contract_id"]),
                    supply_period_id=period_id,
                ),
                gsrn,
            ),
        ],
    )
    return period_id, str(contract["contract_id"])


async def _end_period(
    p: Portfolio,
    tx: asyncpg.Connection,
    period: asyncpg.Record,
    end: date,
    reason: OffboardReason,
    process: asyncpg.Record | None,
) -> None:
    end = max(end, period["start_date"])
    row = await store.update_period(
        tx, period["supply_period_id"], status="ended", end_date=end, end_reason=reason
    )
    events: list[tuple[Event, str]] = [
        (_period_event(row, "ended", process["process_id"] if process else None), row["gsrn"])
    ]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["end_date"] is None or contract["end_date"] > end:
            changed = await store.update_contract(
                tx, contract["contract_id"], end_date=max(end, contract["start_date"])
            )
            events.append((_contract_event(changed), row["gsrn"]))
    events.append((_offboarded(row, end, reason), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.end_signup(tx, row["signup_id"], reason, end)
    await p.service.emit_many(tx, events)
    log.info("supply_ended", gsrn=row["gsrn"], end_date=end.isoformat(), reason=reason)


async def _roll_back(p: Portfolio, tx: asyncpg.Connection, period: asyncpg.Record) -> None:
    """The previous supplier undid the switch to us (BRS-003): the period was never ours."""
    start = period["start_date"]
    row = await store.update_period(
        tx,
        period["supply_period_id"],
        status="rolled_back",
        end_date=start,
        end_reason="erroneous_switch",
    )
    events: list[tuple[Event, str]] = [(_period_event(row, "rolled_back", None), row["gsrn"])]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        changed = await store.update_contract(tx, contract["contract_id"], end_date=start)
        events.append((_contract_event(changed), row["gsrn"]))
    events.append((_offboarded(row, start, "erroneous_switch"), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.end_signup(tx, row["signup_id"], "erroneous_switch", start)
    await p.service.emit_many(tx, events)


async def _reopen(p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record) -> None:
    """Our BRS-003 went through: the switch away from us is undone, our period continues."""
    period = await tx.fetchrow(
        "SELECT * FROM supply_period WHERE supply_period_id = $1 FOR UPDATE",
        process["supply_period_id"],
    )
    assert period is not None
    old_end = period["end_date"]
    row = await store.update_period(
        tx, period["supply_period_id"], status="active", end_date=None, end_reason=None
    )
    events: list[tuple[Event, str]] = [
        (_period_event(row, "reopened", process["process_id"]), row["gsrn"])
    ]
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["end_date"] == old_end:
            changed = await store.update_contract(tx, contract["contract_id"], end_date=None)
            events.append((_contract_event(changed), row["gsrn"]))
    if row["signup_id"] is not None:
        await store.reopen_signup(tx, row["signup_id"])
    await p.service.emit_many(tx, events)


async def _correct_start(
    p: Portfolio, tx: asyncpg.Connection, process: asyncpg.Record, start: date
) -> None:
    """Our BRS-011 went through: the move-in date was wrong, the supply starts on *start*."""
    period = await tx.fetchrow(
        "SELECT * FROM supply_period WHERE supply_period_id = $1 FOR UPDATE",
        process["supply_period_id"],
    )
    assert period is not None
    old_start = period["start_date"]
    events: list[tuple[Event, str]] = []
    # A customer of ours who moved out when this one moved in moved out on the corrected date.
    before = await tx.fetchrow(
        """SELECT * FROM supply_period WHERE gsrn = $1 AND status = 'ended' AND end_date = $2
           AND supply_period_id <> $3 FOR UPDATE""",
        period["gsrn"],
        old_start,
        period["supply_period_id"],
    )
    if before is not None:
        new_end = max(start, before["start_date"])
        moved = await store.update_period(tx, before["supply_period_id"], end_date=new_end)
        events.append((_period_event(moved, "ended", process["process_id"]), moved["gsrn"]))
        if moved["signup_id"] is not None and moved["end_reason"] is not None:
            await store.end_signup(tx, moved["signup_id"], moved["end_reason"], new_end)
        for contract in await store.contracts_of_period(tx, before["supply_period_id"]):
            if contract["end_date"] == old_start:
                changed = await store.update_contract(
                    tx, contract["contract_id"], end_date=max(new_end, contract["start_date"])
                )
                events.append((_contract_event(changed), moved["gsrn"]))
    row = await store.update_period(tx, period["supply_period_id"], start_date=start)
    events.append((_period_event(row, "start_corrected", process["process_id"]), row["gsrn"]))
    for contract in await store.contracts_of_period(tx, period["supply_period_id"]):
        if contract["start_date"] == old_start:
            changed = await store.update_contract(tx, contract["contract_id"], start_date=start)
            events.append((_contract_event(changed), row["gsrn"]))
    await p.service.emit_many(tx, events)


async def change_product(
    p: Portfolio, contract_id: str, product_id: str, from_date: date
) -> asyncpg.Record:
    """Move a running contract to another product (or its current version) from a date: the
    old contract ends, a new one starts with the version in force on that date."""
    today = await p.today()
    if from_date < today:
        raise Problem(400, "invalid-date", "A product change cannot be retroactive", str(from_date))
    async with p.service.database.transaction() as tx:
        # The period before its contracts: the order supply changes lock them in.
        await tx.execute(
            """SELECT 1 FROM supply_period WHERE supply_period_id =
                   (SELECT supply_period_id FROM contract WHERE contract_id = $1::uuid)
               FOR UPDATE""",
            contract_id,
        )
        old = await store.contract(tx, contract_id, for_update=True)
        if old is None:
            raise Problem(404, "contract-not-found", "No such contract", contract_id)
        if old["end_date"] is not None and old["end_date"] <= from_date:
            raise Problem(409, "contract-ended", "The contract has ended", contract_id)
        if from_date <= old["start_date"]:
            raise Problem(400, "invalid-date", "from_date must be after the contract's start")
        version = version_to_sign(await product_store.get(tx, product_id), from_date)
        if version is None:
            raise Problem(400, "product-not-available", "No such active product", product_id)
        ended = await store.update_contract(tx, old["contract_id"], end_date=from_date)
        new = await store.insert_contract(
            tx,
            supply_period_id=str(old["supply_period_id"]),
            gsrn=old["gsrn"],
            customer_id=str(old["customer_id"]),
            payer_id=None if old["payer_id"] is None else str(old["payer_id"]),
            product_id=product_id,
            product_version=version.version,
            start_date=from_date,
            billing_frequency=old["billing_frequency"],
            payment_model=old["payment_model"],
        )
        if old["end_date"] is not None:
            new = await store.update_contract(tx, new["contract_id"], end_date=old["end_date"])
        await p.service.emit_many(
            tx, [(_contract_event(ended), old["gsrn"]), (_contract_event(new), old["gsrn"])]
        )
    return new


# -- metering points ----------------------------------------------------------------------------


async def store_metering_point(
    service: PortfolioService, tx: asyncpg.Connection, mp: MeteringPoint
) -> bool:
    """Store *mp* in *tx*; publish ``portfolio.metering_point.registered`` when it is new or
    changed. Returns True if changed."""
    current = await metering_points.get(tx, mp.gsrn, for_update=True)
    if not mp.differs_from(current):
        return False
    await metering_points.save(tx, mp)
    await service.emit(
        tx,
        MeteringPointRegisteredV1(
            gsrn=mp.gsrn,
            grid_area=mp.grid_area,
            price_area=mp.price_area,
            metering_point_type=mp.metering_point_type,
            settlement_method=mp.settlement_method,
            resolution=mp.resolution,
        ),
        key=mp.gsrn,
    )
    return True


async def register_metering_point(service: PortfolioService, mp: MeteringPoint) -> bool:
    """Store *mp*'s master data; publish it when new or changed. Returns True if changed."""
    async with service.database.transaction() as tx:
        return await store_metering_point(service, tx, mp)
