"""No address lookup configured (it has no default): a lookup answers 503 saying so."""

import uuid

from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient
from wattline_platform.pii import PiiCipher
from wattline_platform.problem import EXCEPTION_HANDLERS
from wattline_platform.testing import caller_identity
from wattline_portfolio.bootstrap import routes, wire
from wattline_portfolio.settings import PortfolioSettings


async def test_an_address_lookup_without_a_configured_lookup_is_a_503_problem(
    postgres_dsn: str,
) -> None:
    p = wire(PortfolioSettings(database_url=postgres_dsn), PiiCipher(PiiCipher.new_key()))
    assert p.settings.address_lookup_url is None
    # The routes without the service's lifespan: the lookup is refused before any I/O.
    app = Litestar(
        [routes(p)],
        dependencies={
            "service": Provide(lambda: p.service, sync_to_thread=False),
            "identity": Provide(lambda: caller_identity(), sync_to_thread=False),  # back office
        },
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app=app) as client:
        response = await client.get(f"/api/address/{uuid.uuid4()}")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/address-lookup-unavailable")
    assert "WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL" in problem["detail"]
    assert "not configured" in problem["detail"]
