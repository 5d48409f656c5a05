"""Portfolio HTTP API (thin: parse, call a handler, a typed model out; the handlers' refusals
mapped to problem+json types in one table, ``PROBLEMS``).

Sales channels: ``/api/products``, ``/api/signup`` (seed 000 B1). Back office: ``/api/signups``,
``/api/address``, ``/api/customers``, ``/api/processes``, ``/api/contracts`` (B1b),
``/api/portfolio/imports`` (the go-live import). The gateway routes these public prefixes here.
The controllers receive the handlers' context as ``portfolio`` (bootstrap provides it).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.types import ExceptionHandlersMap
from pydantic import BaseModel, ConfigDict
from wattline_contracts.portfolio import ProcessStatus
from wattline_platform.identity import FOR_CHANNELS, IdentityDep
from wattline_platform.inputs import BusinessDate, Cursor, GsrnQuery, Page, PageSize, SearchText
from wattline_platform.problem import Problem, problem_response, uuid_or_404
from wattline_platform.service import ServiceDep
from wattline_platform.uploads import file_body, read_bounded, require_media_type

from wattline_portfolio import responses as r
from wattline_portfolio.adapters.portfolio_csv import CsvRefused
from wattline_portfolio.domain.metering_point import InvalidMeteringPoint, MeteringPoint
from wattline_portfolio.domain.process import SignupStatus
from wattline_portfolio.handlers import (
    Portfolio,
    channel_prices,
    contracts,
    history,
    imports,
    metering_points,
    processes,
    products,
    queries,
    signups,
)
from wattline_portfolio.handlers import errors as e
from wattline_portfolio.models import (
    CampaignIn,
    Channel,
    ImportPage,
    ImportReport,
    PricesIn,
    ProcessIn,
    ProductChangeIn,
    ProductIn,
    ProductPatch,
    ResubmitIn,
    SignupIn,
)

PortfolioDep = NamedDependency[Portfolio]

# Refusal -> (status, problem type, title); a title may name the refusal's facts ({...}).
PROBLEMS: dict[type[e.Refused], tuple[int, str, str]] = {
    e.InvalidPrices: (400, "invalid-product", "Invalid product"),
    e.InvalidPriceVersion: (400, "invalid-product-version", "Invalid price version"),
    e.ProductExists: (409, "product-exists", "A product with that name exists"),
    e.ProductNotFound: (404, "product-not-found", "No such product"),
    e.ProductNotAvailable: (400, "product-not-available", "No such active product"),
    e.AddressLookupFailed: (503, "address-lookup-unavailable", "Address lookup failed"),
    e.NoMeteringPoint: (400, "no-metering-point", "No metering point at that address"),
    e.MeteringPointNotAtAddress: (
        400,
        "metering-point-not-at-address",
        "The metering point is not at that address",
    ),
    e.SeveralMeteringPoints: (
        400,
        "several-metering-points",
        "Several metering points at that address",
    ),
    e.IdempotencyKeyReused: (
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused with a different request",
    ),
    e.InvalidCprCvr: (400, "invalid-cpr-cvr", "Invalid CPR/CVR number"),
    e.InvalidGsrn: (400, "invalid-gsrn", "Invalid GSRN"),
    e.InvalidGsrnAtAddress: (400, "invalid-gsrn", "Invalid GSRN at the address"),
    e.EffectiveDateNotAllowed: (400, "invalid-effective-date", "Effective date not allowed"),
    e.AlreadyResubmitted: (409, "already-resubmitted", "The signup was already re-submitted"),
    e.OpenProcess: (409, "open-process", "The metering point has an open process"),
    e.AlreadySupplied: (409, "already-supplied", "We already supply that metering point"),
    e.SignupNotFound: (404, "signup-not-found", "No such signup"),
    e.SignupNotRejected: (
        409,
        "signup-not-rejected",
        "Only a rejected or cancelled signup can be re-submitted",
    ),
    e.CannotCancel: (409, "not-cancellable", "Cannot cancel: {current_status}"),
    e.NoSwitchToUndo: (409, "no-switch-to-undo", "No switch away from us to undo"),
    e.NotSupplied: (409, "not-supplied", "We do not supply that metering point"),
    e.EffectiveDateRequired: (400, "effective-date-required", "effective_date is required"),
    e.NotAMoveIn: (409, "not-a-move-in", "Only a move-in's date can be corrected (BRS-011)"),
    e.ContractChanged: (409, "contract-changed", "The product changed since the move-in"),
    e.SupplyStartsThen: (
        400,
        "invalid-effective-date",
        "The supply already starts on that date",
    ),
    e.ProcessNotFound: (404, "process-not-found", "No such process"),
    e.RetroactiveChange: (400, "invalid-date", "A product change cannot be retroactive"),
    e.ChangeBeforeStart: (400, "invalid-date", "from_date must be after the contract's start"),
    e.ContractNotFound: (404, "contract-not-found", "No such contract"),
    e.ContractEnded: (409, "contract-ended", "The contract has ended"),
    e.OutsideMarginCorridor: (
        422,
        "margin-outside-corridor",
        "Margin outside the product's margin corridor",
    ),
    e.InvalidCampaign: (422, "invalid-campaign", "Invalid campaign"),
    e.ChannelNotAllowed: (403, "channel-not-allowed", "Not this key's channel"),
    e.CustomerNotFound: (404, "customer-not-found", "No such customer"),
}


def problem_of(refused: e.Refused) -> Problem:
    """The problem+json of a refusal (by ``PROBLEMS``)."""
    status, kind, title = PROBLEMS[type(refused)]
    return Problem(status, kind, title.format(**refused.facts), refused.detail, **refused.facts)


def _refused(request: Request[Any, Any, Any], exc: e.Refused) -> Response[Any]:
    return problem_response(problem_of(exc), request.url.path)


# What the routes' layer answers a refusal with (bootstrap installs it with the routes).
EXCEPTION_HANDLERS: ExceptionHandlersMap = {e.Refused: _refused}


class MeteringPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gsrn: str
    grid_area: str
    price_area: Literal["DK1", "DK2"]
    metering_point_type: Literal["E17", "E18", "E20"] = "E17"
    settlement_method: Literal["D01", "E02", "E01"] | None = "D01"
    resolution: Literal["PT1H", "PT15M"] = "PT1H"


class MeteringPointOut(MeteringPointIn):
    changed: bool | None = None


class MeteringPointController(Controller):
    path = "/api/portfolio/metering-points"
    tags = ["portfolio"]

    @post("/", status_code=201, summary="Register or update a metering point's master data")
    async def register(
        self, data: JSONBody[MeteringPointIn], service: ServiceDep
    ) -> MeteringPointOut:
        try:
            mp = MeteringPoint(**data.model_dump())
        except InvalidMeteringPoint as exc:
            raise Problem(
                422, "invalid-metering-point", "Invalid metering point", str(exc)
            ) from exc
        changed = await metering_points.register_metering_point(service, mp)
        return MeteringPointOut(**asdict(mp), changed=changed)

    @get("/{gsrn:str}", summary="A metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> r.PortfolioMeteringPoint:
        mp = await metering_points.metering_point(service, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return r.PortfolioMeteringPoint.of(asdict(mp))


class ProductController(Controller):
    path = "/api/products"
    tags = ["products"]

    @get(
        "/",
        summary="Products to offer: our margin and subscription, spot or fixed",
        opt=FOR_CHANNELS,
    )
    async def list_products(
        self,
        portfolio: PortfolioDep,
        identity: IdentityDep,
        include_inactive: FromQuery[bool] = False,
        channel: FromQuery[Channel | None] = None,
    ) -> list[r.PortfolioProductOffer]:
        offers = await queries.offers(
            portfolio,
            include_inactive=include_inactive,
            channel=signups.pricing_channel(identity.channel, channel),
        )
        return [r.PortfolioProductOffer.of(v) for v in offers]

    @get("/{product_id:str}", summary="A product with all its price versions", opt=FOR_CHANNELS)
    async def get_product(
        self, product_id: FromPath[str], portfolio: PortfolioDep
    ) -> r.PortfolioProduct:
        found = await queries.product(portfolio, uuid_or_404(product_id, "product"))
        if found is None:
            raise Problem(404, "product-not-found", "No such product", product_id)
        return r.PortfolioProduct.of(found)

    @post("/", status_code=201, summary="Create a product (its first price version)")
    async def create_product(
        self, data: JSONBody[ProductIn], portfolio: PortfolioDep
    ) -> r.PortfolioProduct:
        product = await products.create_product(portfolio, data)
        return r.PortfolioProduct.of(queries.product_detail(product, await portfolio.today()))

    @post(
        "/{product_id:str}/versions",
        status_code=201,
        summary="A price change from a date (contracts keep the version they signed)",
    )
    async def add_version(
        self, product_id: FromPath[str], data: JSONBody[PricesIn], portfolio: PortfolioDep
    ) -> r.PortfolioPrices:
        key = str(uuid_or_404(product_id, "product"))
        version = await products.add_product_version(portfolio, key, data)
        return r.PortfolioPrices.of(queries.prices_view(version))

    @get(
        "/{product_id:str}/channel-prices",
        summary="Each channel's price on a day (?as_of=, default today) and every channel "
        "version ever published",
    )
    async def channel_prices(
        self,
        product_id: FromPath[str],
        portfolio: PortfolioDep,
        as_of: FromQuery[BusinessDate | None] = None,
    ) -> r.PortfolioChannelPrices:
        key = str(uuid_or_404(product_id, "product"))
        product = await channel_prices.product_with_channels(portfolio, key)
        day = as_of or await portfolio.today()
        return r.PortfolioChannelPrices.of(queries.channel_prices_view(product, day))

    @post(
        "/{product_id:str}/channel-prices",
        status_code=201,
        summary="Publish a campaign: channel prices from a date (new versions; within the "
        "margin corridor)",
    )
    async def publish_campaign(
        self, product_id: FromPath[str], data: JSONBody[CampaignIn], portfolio: PortfolioDep
    ) -> r.PortfolioCampaign:
        key = str(uuid_or_404(product_id, "product"))
        versions = await channel_prices.publish_campaign(portfolio, key, data)
        return r.PortfolioCampaign.of(queries.campaign_view(key, versions))

    @patch("/{product_id:str}", summary="Description, order, green flag, active, corridor")
    async def edit(
        self, product_id: FromPath[str], data: JSONBody[ProductPatch], portfolio: PortfolioDep
    ) -> r.PortfolioProduct:
        product = await products.edit_product(
            portfolio, str(uuid_or_404(product_id, "product")), data
        )
        if product is None:
            raise Problem(404, "product-not-found", "No such product", product_id)
        return r.PortfolioProduct.of(queries.product_detail(product, await portfolio.today()))


# What a channel's key may call: each shows it only the signups that channel made. Every
# other route refuses a channel's key (wattline_platform.identity.FOR_CHANNELS).
class SignupController(Controller):
    path = "/api/signup"
    opt = FOR_CHANNELS
    tags = ["signup"]

    @post(
        "/",
        status_code=201,
        summary="Sign a customer up (switch or move-in) at a DAR address",
    )
    async def submit(
        self,
        data: JSONBody[SignupIn],
        identity: IdentityDep,
        portfolio: PortfolioDep,
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=200)
        ] = None,
    ) -> Response[r.PortfolioSignupAccepted]:
        with history.acting_as(identity.key_name):
            result = await signups.submit_signup(
                portfolio, data, idempotency_key, channel=identity.channel
            )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(
            r.PortfolioSignupAccepted.of(result.body()), status_code=201, headers=headers
        )

    @get("/{signup_id:str}/status", summary="Where a signup is")
    async def status(
        self, signup_id: FromPath[str], identity: IdentityDep, portfolio: PortfolioDep
    ) -> r.PortfolioSignupStatus:
        row = await queries.signup_status(portfolio, signup_id, identity.channel)
        return r.PortfolioSignupStatus(
            signup_id=row["signup_id"],
            status=row["status"],
            gsrn=row["gsrn"],
            effective_date=row["effective_date"].isoformat(),
            rejection_reason=row["rejection_reason"],
            end_reason=row["end_reason"],
            end_date=None if row["end_date"] is None else row["end_date"].isoformat(),
        )

    @post("/{signup_id:str}/cancel", status_code=200, summary="Cancel before activation")
    async def cancel(
        self, signup_id: FromPath[str], identity: IdentityDep, portfolio: PortfolioDep
    ) -> Response[r.PortfolioSignupCancelled]:
        with history.acting_as(identity.key_name):
            status, asked = await signups.cancel_signup(portfolio, signup_id, identity.channel)
        body = r.PortfolioSignupCancelled(
            signup_id=signup_id, status=status, cancellation="requested" if asked else "done"
        )
        return Response(body, status_code=202 if asked else 200)


class BackOfficeSignupController(Controller):
    path = "/api/signups"
    opt = FOR_CHANNELS
    tags = ["back office"]

    @get("/", summary="Signups by status and search (id, GSRN, CPR/CVR, name, e-mail)")
    async def list_signups(
        self,
        identity: IdentityDep,
        portfolio: PortfolioDep,
        status: FromQuery[SignupStatus | None] = None,
        search: FromQuery[SearchText] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 50,
    ) -> r.PortfolioSignupPage:
        found = await queries.signups(
            portfolio,
            status=status,
            search=search,
            page=page,
            page_size=page_size,
            seen_by=identity.channel,
        )
        return r.PortfolioSignupPage.of(found)

    @get("/{signup_id:str}", summary="A signup with its customer, payer and process")
    async def detail(
        self, signup_id: FromPath[str], identity: IdentityDep, portfolio: PortfolioDep
    ) -> r.PortfolioSignupDetail:
        found = await queries.signup_detail(portfolio, signup_id, identity.channel)
        return r.PortfolioSignupDetail.of(found)

    @get("/{signup_id:str}/events", summary="The signup's process timeline")
    async def events(
        self, signup_id: FromPath[str], identity: IdentityDep, portfolio: PortfolioDep
    ) -> list[r.PortfolioProcessEvent]:
        found = await queries.signup_timeline(portfolio, signup_id, identity.channel)
        return [r.PortfolioProcessEvent.of(event) for event in found]

    @post(
        "/{signup_id:str}/resubmit",
        status_code=201,
        summary="Correct a rejected signup and submit it again (a new signup)",
    )
    async def resubmit(
        self,
        signup_id: FromPath[str],
        data: JSONBody[ResubmitIn],
        identity: IdentityDep,
        portfolio: PortfolioDep,
    ) -> r.PortfolioResubmitted:
        with history.acting_as(identity.key_name):
            result = await signups.resubmit_signup(
                portfolio, signup_id, data.model_dump(mode="json"), identity.channel
            )
        return r.PortfolioResubmitted.of({**result.body(), "resubmission_of": signup_id})


@get(
    "/api/address/{dar_id:str}",
    tags=["back office"],
    summary="Metering points at a DAR id",
)
async def address(dar_id: FromPath[str], portfolio: PortfolioDep) -> r.PortfolioAddress:
    key = uuid_or_404(dar_id, "address")
    gsrns = await signups.address_gsrns(portfolio, key)
    if not gsrns:
        raise Problem(404, "address-not-found", "No metering point at that address", dar_id)
    points = await queries.address_points(portfolio, gsrns)
    return r.PortfolioAddress.of({"dar_id": str(key), "gsrns": gsrns, "metering_points": points})


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["back office"]

    @get("/", summary="Customers (search: exact CPR/CVR, name or e-mail)")
    async def list_customers(
        self,
        portfolio: PortfolioDep,
        search: FromQuery[SearchText] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 50,
    ) -> r.PortfolioCustomerPage:
        found = await queries.customers(portfolio, search=search, page=page, page_size=page_size)
        return r.PortfolioCustomerPage.of(found)

    @get("/{customer_id:str}", summary="A customer: contracts, metering points, payer")
    async def detail(
        self, customer_id: FromPath[str], portfolio: PortfolioDep
    ) -> r.PortfolioCustomerDetail:
        found = await queries.customer_detail(portfolio, uuid_or_404(customer_id, "customer"))
        if found is None:
            raise Problem(404, "customer-not-found", "No such customer", customer_id)
        return r.PortfolioCustomerDetail.of(found)

    @get(
        "/{customer_id:str}/history",
        summary="The customer's history, oldest first (keyset: ?after=<next_cursor>)",
    )
    async def customer_history(
        self,
        customer_id: FromPath[str],
        portfolio: PortfolioDep,
        after: FromQuery[Cursor] = None,
        limit: FromQuery[PageSize] = 50,
    ) -> r.PortfolioHistoryPage:
        key = uuid_or_404(customer_id, "customer")
        if after is not None and not (after.isdecimal() and len(after) <= 18):
            raise Problem(400, "invalid-cursor", "Invalid cursor", "?after= takes a next_cursor")
        rows, cursor = await history.history_page(
            portfolio, key, None if after is None else int(after), max(1, min(limit, 200))
        )
        return r.PortfolioHistoryPage(
            items=[
                r.PortfolioHistoryEntry(
                    entry_id=row["entry_id"],
                    occurred_at=row["occurred_at"].isoformat(),
                    kind=row["kind"],
                    performed_by=row["performed_by"],
                    correlation_id=row["correlation_id"],
                    description_da=row["description_da"],
                    description_en=row["description_en"],
                    reference=row["reference"],
                )
                for row in rows
            ],
            next_cursor=None if cursor is None else str(cursor),
        )


class ProcessController(Controller):
    path = "/api/processes"
    tags = ["back office"]

    @post("/", status_code=201, summary="End of supply, move-out, erroneous switch or move")
    async def start(self, data: JSONBody[ProcessIn], portfolio: PortfolioDep) -> r.PortfolioProcess:
        row = await processes.start_process(portfolio, data.kind, data.gsrn, data.effective_date)
        return r.PortfolioProcess.of(queries.process_view(row))

    @get("/", summary="Processes by metering point and status")
    async def list_processes(
        self,
        portfolio: PortfolioDep,
        gsrn: FromQuery[GsrnQuery] = None,
        status: FromQuery[ProcessStatus | None] = None,
        page: FromQuery[Page] = 1,
        page_size: FromQuery[PageSize] = 50,
    ) -> r.PortfolioProcessPage:
        found = await queries.processes(
            portfolio, gsrn=gsrn, status=status, page=page, page_size=page_size
        )
        return r.PortfolioProcessPage.of(found)

    @get("/{process_id:str}", summary="A process with its timeline")
    async def detail(
        self, process_id: FromPath[str], portfolio: PortfolioDep
    ) -> r.PortfolioProcessDetail:
        found = await queries.process_detail(portfolio, uuid_or_404(process_id, "process"))
        if found is None:
            raise Problem(404, "process-not-found", "No such process", process_id)
        return r.PortfolioProcessDetail.of(found)

    @post("/{process_id:str}/cancel", status_code=200, summary="Cancel (RSM-002 if sent)")
    async def cancel(
        self, process_id: FromPath[str], portfolio: PortfolioDep
    ) -> Response[r.PortfolioProcessCancelled]:
        asked = await processes.cancel_process(portfolio, uuid_or_404(process_id, "process"))
        body = r.PortfolioProcessCancelled(
            process_id=process_id, cancellation="requested" if asked else "done"
        )
        return Response(body, status_code=202 if asked else 200)


@post(
    "/api/contracts/{contract_id:str}/product-change",
    status_code=201,
    tags=["back office"],
    summary="Move a contract to another product from a date (a new contract)",
)
async def product_change(
    contract_id: FromPath[str],
    data: JSONBody[ProductChangeIn],
    portfolio: PortfolioDep,
    identity: IdentityDep,
) -> r.PortfolioContractChanged:
    with history.acting_as(identity.key_name):
        row = await contracts.change_product(
            portfolio,
            str(uuid_or_404(contract_id, "contract")),
            str(data.product_id),
            data.from_date,
        )
    return r.PortfolioContractChanged(
        contract_id=str(row["contract_id"]),
        product_id=str(row["product_id"]),
        product_version=row["product_version"],
        start_date=row["start_date"].isoformat(),
        end_date=None if row["end_date"] is None else row["end_date"].isoformat(),
    )


class ImportController(Controller):
    path = "/api/portfolio/imports"
    tags = ["back office"]

    @post(
        "/",
        status_code=201,
        summary="Import the metering points we already supply from a CSV (go-live)",
        description=imports.__doc__,
        request_max_body_size=None,  # bounded below, with the import's own problem type
        operation_class=file_body("text/csv"),
    )
    async def import_csv(
        self, request: Request[Any, Any, Any], portfolio: PortfolioDep
    ) -> ImportReport:
        require_media_type(request.headers.get("content-type"), ["text/csv"])
        body = await read_bounded(request, portfolio.settings.import_max_bytes, "import-too-large")
        try:
            return await imports.import_portfolio(portfolio, body)
        except CsvRefused as exc:
            raise Problem(exc.status, exc.kind, exc.title, exc.detail, **exc.extra) from None

    @get("/", summary="Portfolio imports, newest first (keyset: ?after=<import_id>)")
    async def list_imports(
        self,
        portfolio: PortfolioDep,
        after: FromQuery[Cursor] = None,
        limit: FromQuery[PageSize] = 20,
    ) -> ImportPage:
        try:
            cursor = None if after is None else uuid.UUID(after)
        except ValueError:
            raise Problem(
                400, "invalid-cursor", "Invalid cursor", "?after= takes an import_id"
            ) from None
        return await imports.list_imports(portfolio, limit=max(1, min(limit, 100)), after=cursor)

    @get("/{import_id:str}", summary="The report of a portfolio import")
    async def report(self, import_id: FromPath[str], portfolio: PortfolioDep) -> ImportReport:
        found = await imports.import_report(portfolio, uuid_or_404(import_id, "import"))
        if found is None:
            raise Problem(404, "import-not-found", "No such import", import_id)
        return found


# The portfolio's route handlers; bootstrap mounts them with ``portfolio`` provided.
ROUTES: list[Any] = [
    ImportController,
    MeteringPointController,
    ProductController,
    SignupController,
    BackOfficeSignupController,
    address,
    CustomerController,
    ProcessController,
    product_change,
]
