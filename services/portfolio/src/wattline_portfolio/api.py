"""Portfolio HTTP API (thin: parse, call a handler, map errors).

Sales channels: ``/api/products``, ``/api/signup`` (seed 000 B1). Back office: ``/api/signups``,
``/api/address``, ``/api/customers``, ``/api/processes``, ``/api/contracts`` (B1b),
``/api/portfolio/imports`` (the go-live import). The gateway routes these public prefixes here.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from pydantic import BaseModel, ConfigDict
from wattline_contracts.portfolio import ProcessStatus
from wattline_platform.identity import FOR_CHANNELS, IdentityDep
from wattline_platform.inputs import Cursor, GsrnQuery, Page, PageSize, SearchText
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep
from wattline_platform.uploads import file_body, read_bounded, require_media_type

from wattline_portfolio import handlers, portfolio_import, queries
from wattline_portfolio import responses as r
from wattline_portfolio.adapters import metering_points, store
from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.domain.metering_point import InvalidMeteringPoint, MeteringPoint
from wattline_portfolio.domain.process import SignupStatus
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.models import (
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
        changed = await handlers.register_metering_point(service, mp)
        return MeteringPointOut(**asdict(mp), changed=changed)

    @get("/{gsrn:str}", summary="A metering point's master data")
    async def fetch(self, gsrn: FromPath[str], service: ServiceDep) -> r.PortfolioMeteringPoint:
        async with service.database.connection() as conn:
            mp = await metering_points.get(conn, gsrn)
        if mp is None:
            raise Problem(404, "metering-point-not-found", "Unknown metering point", gsrn)
        return r.PortfolioMeteringPoint.of(asdict(mp))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Problem(404, f"{what}-not-found", f"No such {what}", value) from None


def routes(p: Portfolio) -> list[Any]:
    """The portfolio's route handlers bound to *p*."""

    class ProductController(Controller):
        path = "/api/products"
        tags = ["products"]

        @get(
            "/",
            summary="Products to offer: our margin and subscription, spot or fixed",
            opt=FOR_CHANNELS,
        )
        async def list_products(
            self, include_inactive: FromQuery[bool] = False
        ) -> list[r.PortfolioProductOffer]:
            today = await p.today()
            async with p.service.database.connection() as conn:
                products = await product_store.all_products(conn, only_active=not include_inactive)
            views = (queries.product_view(x, today) for x in products)
            return [r.PortfolioProductOffer.of(v) for v in views if v is not None]

        @get("/{product_id:str}", summary="A product with all its price versions", opt=FOR_CHANNELS)
        async def get_product(self, product_id: FromPath[str]) -> r.PortfolioProduct:
            async with p.service.database.connection() as conn:
                product = await product_store.get(conn, str(_uuid(product_id, "product")))
            if product is None:
                raise Problem(404, "product-not-found", "No such product", product_id)
            return r.PortfolioProduct.of(queries.product_detail(product, await p.today()))

        @post("/", status_code=201, summary="Create a product (its first price version)")
        async def create_product(self, data: JSONBody[ProductIn]) -> r.PortfolioProduct:
            product = await handlers.create_product(p, data)
            return r.PortfolioProduct.of(queries.product_detail(product, await p.today()))

        @post(
            "/{product_id:str}/versions",
            status_code=201,
            summary="A price change from a date (contracts keep the version they signed)",
        )
        async def add_version(
            self, product_id: FromPath[str], data: JSONBody[PricesIn]
        ) -> r.PortfolioPrices:
            version = await handlers.add_product_version(p, str(_uuid(product_id, "product")), data)
            return r.PortfolioPrices.of(queries._prices(version))

        @patch("/{product_id:str}", summary="Description, order, green flag, active")
        async def edit(
            self, product_id: FromPath[str], data: JSONBody[ProductPatch]
        ) -> r.PortfolioProduct:
            key = str(_uuid(product_id, "product"))
            async with p.service.database.transaction() as tx:
                await product_store.update_presentation(tx, key, **data.model_dump())
                product = await product_store.get(tx, key)
            if product is None:
                raise Problem(404, "product-not-found", "No such product", product_id)
            return r.PortfolioProduct.of(queries.product_detail(product, await p.today()))

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
            idempotency_key: Annotated[
                str | None, HeaderParameter(name="Idempotency-Key", max_length=200)
            ] = None,
        ) -> Response[r.PortfolioSignupAccepted]:
            result = await handlers.submit_signup(
                p, data, idempotency_key, channel=identity.channel
            )
            headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
            return Response(
                r.PortfolioSignupAccepted.of(result.body()), status_code=201, headers=headers
            )

        @get("/{signup_id:str}/status", summary="Where a signup is")
        async def status(
            self, signup_id: FromPath[str], identity: IdentityDep
        ) -> r.PortfolioSignupStatus:
            async with p.service.database.connection() as conn:
                row = await store.signup(conn, signup_id, seen_by=identity.channel)
            if row is None:
                raise Problem(404, "signup-not-found", "No such signup", signup_id)
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
            self, signup_id: FromPath[str], identity: IdentityDep
        ) -> Response[r.PortfolioSignupCancelled]:
            status, asked = await handlers.cancel_signup(p, signup_id, identity.channel)
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
            status: FromQuery[SignupStatus | None] = None,
            search: FromQuery[SearchText] = None,
            page: FromQuery[Page] = 1,
            page_size: FromQuery[PageSize] = 50,
        ) -> r.PortfolioSignupPage:
            async with p.service.database.connection() as conn:
                found = await queries.signups(
                    conn,
                    p.vault,
                    status=status,
                    search=search,
                    page=page,
                    page_size=page_size,
                    seen_by=identity.channel,
                )
            return r.PortfolioSignupPage.of(found)

        @get("/{signup_id:str}", summary="A signup with its customer, payer and process")
        async def detail(
            self, signup_id: FromPath[str], identity: IdentityDep
        ) -> r.PortfolioSignupDetail:
            async with p.service.database.connection() as conn:
                found = await queries.signup_detail(conn, p.vault, signup_id, identity.channel)
            if found is None:
                raise Problem(404, "signup-not-found", "No such signup", signup_id)
            return r.PortfolioSignupDetail.of(found)

        @get("/{signup_id:str}/events", summary="The signup's process timeline")
        async def events(
            self, signup_id: FromPath[str], identity: IdentityDep
        ) -> list[r.PortfolioProcessEvent]:
            async with p.service.database.connection() as conn:
                found = await queries.signup_timeline(conn, signup_id, identity.channel)
            if found is None:
                raise Problem(404, "signup-not-found", "No such signup", signup_id)
            return [r.PortfolioProcessEvent.of(event) for event in found]

        @post(
            "/{signup_id:str}/resubmit",
            status_code=201,
            summary="Correct a rejected signup and submit it again (a new signup)",
        )
        async def resubmit(
            self, signup_id: FromPath[str], data: JSONBody[ResubmitIn], identity: IdentityDep
        ) -> r.PortfolioResubmitted:
            result = await handlers.resubmit_signup(
                p, signup_id, data.model_dump(mode="json"), identity.channel
            )
            return r.PortfolioResubmitted.of({**result.body(), "resubmission_of": signup_id})

    @get(
        "/api/address/{dar_id:str}",
        tags=["back office"],
        summary="Metering points at a DAR id",
    )
    async def address(dar_id: FromPath[str]) -> r.PortfolioAddress:
        key = _uuid(dar_id, "address")
        gsrns = await handlers.address_gsrns(p, key)
        if not gsrns:
            raise Problem(404, "address-not-found", "No metering point at that address", dar_id)
        async with p.service.database.connection() as conn:
            points = await queries.address_points(conn, gsrns)
        return r.PortfolioAddress.of(
            {"dar_id": str(key), "gsrns": gsrns, "metering_points": points}
        )

    class CustomerController(Controller):
        path = "/api/customers"
        tags = ["back office"]

        @get("/", summary="Customers (search: exact CPR/CVR, name or e-mail)")
        async def list_customers(
            self,
            search: FromQuery[SearchText] = None,
            page: FromQuery[Page] = 1,
            page_size: FromQuery[PageSize] = 50,
        ) -> r.PortfolioCustomerPage:
            async with p.service.database.connection() as conn:
                found = await queries.customers(
                    conn, p.vault, search=search, page=page, page_size=page_size
                )
            return r.PortfolioCustomerPage.of(found)

        @get("/{customer_id:str}", summary="A customer: contracts, metering points, payer")
        async def detail(self, customer_id: FromPath[str]) -> r.PortfolioCustomerDetail:
            async with p.service.database.connection() as conn:
                found = await queries.customer_detail(conn, p.vault, _uuid(customer_id, "customer"))
            if found is None:
                raise Problem(404, "customer-not-found", "No such customer", customer_id)
            return r.PortfolioCustomerDetail.of(found)

    class ProcessController(Controller):
        path = "/api/processes"
        tags = ["back office"]

        @post("/", status_code=201, summary="End of supply, move-out, erroneous switch or move")
        async def start(self, data: JSONBody[ProcessIn]) -> r.PortfolioProcess:
            row = await handlers.start_process(p, data.kind, data.gsrn, data.effective_date)
            return r.PortfolioProcess.of(queries.process_view(row))

        @get("/", summary="Processes by metering point and status")
        async def list_processes(
            self,
            gsrn: FromQuery[GsrnQuery] = None,
            status: FromQuery[ProcessStatus | None] = None,
            page: FromQuery[Page] = 1,
            page_size: FromQuery[PageSize] = 50,
        ) -> r.PortfolioProcessPage:
            async with p.service.database.connection() as conn:
                found = await queries.processes(
                    conn, gsrn=gsrn, status=status, page=page, page_size=page_size
                )
            return r.PortfolioProcessPage.of(found)

        @get("/{process_id:str}", summary="A process with its timeline")
        async def detail(self, process_id: FromPath[str]) -> r.PortfolioProcessDetail:
            key = _uuid(process_id, "process")
            async with p.service.database.connection() as conn:
                row = await store.process_by(conn, "process_id", key, for_update=False)
                if row is None:
                    raise Problem(404, "process-not-found", "No such process", process_id)
                events = await store.timeline(conn, [key])
            return r.PortfolioProcessDetail.of(
                {**queries.process_view(row), "events": queries.timeline_view(events)}
            )

        @post("/{process_id:str}/cancel", status_code=200, summary="Cancel (RSM-002 if sent)")
        async def cancel(self, process_id: FromPath[str]) -> Response[r.PortfolioProcessCancelled]:
            asked = await handlers.cancel_process(p, _uuid(process_id, "process"))
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
        contract_id: FromPath[str], data: JSONBody[ProductChangeIn]
    ) -> r.PortfolioContractChanged:
        row = await handlers.change_product(
            p, str(_uuid(contract_id, "contract")), str(data.product_id), data.from_date
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
            description=portfolio_import.__doc__,
            request_max_body_size=None,  # bounded below, with the import's own problem type
            operation_class=file_body("text/csv"),
        )
        async def import_csv(self, request: Request[Any, Any, Any]) -> ImportReport:
            require_media_type(request.headers.get("content-type"), ["text/csv"])
            body = await read_bounded(request, p.settings.import_max_bytes, "import-too-large")
            return await portfolio_import.import_portfolio(p, body)

        @get("/", summary="Portfolio imports, newest first (keyset: ?after=<import_id>)")
        async def list_imports(
            self, after: FromQuery[Cursor] = None, limit: FromQuery[PageSize] = 20
        ) -> ImportPage:
            try:
                cursor = None if after is None else uuid.UUID(after)
            except ValueError:
                raise Problem(
                    400, "invalid-cursor", "Invalid cursor", "?after= takes an import_id"
                ) from None
            return await portfolio_import.list_imports(
                p, limit=max(1, min(limit, 100)), after=cursor
            )

        @get("/{import_id:str}", summary="The report of a portfolio import")
        async def report(self, import_id: FromPath[str]) -> ImportReport:
            found = await portfolio_import.import_report(p, _uuid(import_id, "import"))
            if found is None:
                raise Problem(404, "import-not-found", "No such import", import_id)
            return found

    return [
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
