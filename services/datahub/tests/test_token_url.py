"""The OAuth2 token endpoint is its own URL (DataHub 3: Entra ID, on another host than the API)."""

import httpx
from wattline_datahub.adapters.datahub_client import DataHubClient

API = "https://b2b.datahub3.example"
TOKEN_URL = "https://login.microsoftonline.example/tenant-1/oauth2/v2.0/token"


async def _client(scope: str | None, seen: list[httpx.Request]) -> DataHubClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3600})
        return httpx.Response(204)

    client = DataHubClient(API, TOKEN_URL, "our-app-id", "s3cret", scope=scope)
    await client.http.aclose()  # answered by the mock instead
    client.http = httpx.AsyncClient(base_url=API, transport=httpx.MockTransport(answer))
    return client


async def test_the_token_comes_from_the_token_host_and_the_queue_from_datahub() -> None:
    seen: list[httpx.Request] = []
    client = await _client("app-of-datahub/.default", seen)
    assert await client.peek("MeasureData") is None

    token, peek = seen
    assert str(token.url) == TOKEN_URL
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "our-app-id",
        "client_secret": "s3cret",
        "scope": "app-of-datahub/.default",
    }
    assert str(peek.url) == f"{API}/v1.0/cim/peek/MeasureData"
    assert peek.headers["Authorization"] == "Bearer tok-1"
    await client.close()


async def test_no_scope_is_sent_when_none_is_configured() -> None:
    seen: list[httpx.Request] = []
    client = await _client(None, seen)
    assert await client.reachable()
    assert "scope" not in dict(httpx.QueryParams(seen[0].content.decode()))
    assert "s3cret" not in repr(client)
    await client.close()
