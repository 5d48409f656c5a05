"""Given a partner who cannot consume Kafka and subscribes a URL to invoicing's events, when
invoices are issued and payments fail, then each event reaches the partner's receiver
signed per Standard Webhooks, is retried with the same webhook-id until the receiver takes
it, and the delivery log says how it went.

The receiver is a real HTTP server that verifies every signature with the
``standardwebhooks`` package, as a partner would; the service's own API is served over
real HTTP too, on the ``rig``'s Postgres schema.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from wattline_contracts.invoicing import PaymentFailedV1
from wattline_invoicing import webhooks_api
from wattline_invoicing.adapters.webhooks import HttpSender
from wattline_invoicing.domain import webhooks as rules
from wattline_invoicing.domain.webhooks import RetrySchedule
from wattline_invoicing.handlers import webhooks
from wattline_invoicing.jobs import billing
from wattline_invoicing.jobs.webhooks import webhook_job
from wattline_platform.pii import PiiCipher
from wattline_platform.problem import EXCEPTION_HANDLERS
from wattline_platform.testing import identity_auth, serve_app

GSRN = "571313180400000028"
FAILED = "invoicing.payment.failed"
ISSUED = "invoicing.invoice.issued"
AT_ONCE = RetrySchedule(first=timedelta(0))


# -- the partner's receiver ------------------------------------------------------------------


@dataclass
class Hit:
    name: str
    headers: dict[str, str]
    body: dict[str, Any] | None  # None: the signature did not verify
    error: str | None


@dataclass
class Receiver:
    """Endpoints ``/hooks/<name>``: each verifies the signature with the secret it is told,
    answers the statuses scripted for it (then 200), optionally after a pause."""

    base: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    pause_s: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def of(self, name: str) -> list[Hit]:
        return [h for h in self.hits if h.name == name]

    def app(self) -> Litestar:
        @post("/hooks/{name:str}")
        async def hook(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
            raw = await request.body()
            headers = dict(request.headers)
            try:
                body, error = Webhook(self.secrets[name]).verify(raw, headers), None
            except (WebhookVerificationError, KeyError) as exc:
                body, error = None, repr(exc)
            self.hits.append(Hit(name, headers, body, error))
            await asyncio.sleep(self.pause_s.get(name, 0))
            script = self.answers.get(name)
            status = script.pop(0) if script else 200
            return Response("ok" if status < 300 else "<html>boom</html>", status_code=status)

        return Litestar([hook])


@pytest.fixture(autouse=True)
def private_receivers_allowed(rig: Any) -> None:
    """The test's receiver is on 127.0.0.1: private addresses allowed here, as nowhere else
    (``test_a_webhook_never_goes_to_our_own_or_a_private_network`` checks the default)."""
    rig.inv.settings.webhook_allow_private = True


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    partner = Receiver()
    async with serve_app(partner.app()) as base:
        partner.base = base
        yield partner


@pytest.fixture
async def api(rig: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The webhooks API over HTTP (served on its own until bootstrap adds it to the rig's)."""
    app = Litestar(webhooks_api.routes(rig.inv), exception_handlers=EXCEPTION_HANDLERS)
    async with (
        serve_app(app) as base,
        httpx.AsyncClient(base_url=base, auth=identity_auth()) as client,
    ):
        yield client


async def subscribe(
    api: httpx.AsyncClient, receiver: Receiver, name: str, types: list[str]
) -> dict[str, Any]:
    response = await api.post(
        "/api/webhooks", json={"url": receiver.url(name), "event_types": types}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secrets[name] = created["secret"]
    return created


async def payment_failed(rig: Any, account: str = "ACC-1") -> str:
    """A Betalingsservice collection rejected, as invoicing announces it; its event id."""
    async with rig.inv.service.database.transaction() as tx:
        envelope = await rig.inv.service.emit(
            tx,
            PaymentFailedV1(
                kind="rejected",
                source="betalingsservice",
                account_id=account,
                invoice_id=None,
                number=None,
                payment_id=None,
                amount=Decimal("779.19"),
                due_date=date(2025, 2, 21),
            ),
            key=account,
        )
    return str(envelope.event_id)


async def log(api: httpx.AsyncClient, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"/api/webhooks/{webhook_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# -- scenarios -------------------------------------------------------------------------------


async def test_an_issued_invoice_reaches_the_partner_signed_and_retried_after_a_500(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver, golden: Any
) -> None:
    hook = await subscribe(api, receiver, "erp", [ISSUED])
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) == 32
    listed = (await api.get("/api/webhooks")).json()["items"]
    assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]]
    assert "secret" not in listed[0]
    assert "secret" not in (await api.get(f"/api/webhooks/{hook['webhook_id']}")).json()

    # Given January settled for a monthly payer, when the cycle closes, then one invoice.
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(GSRN, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    [issued] = await rig.events(ISSUED)

    receiver.answers["erp"] = [500]  # the partner's first answer: an error
    t0 = datetime.now(UTC)
    assert (await webhooks.fan_out(rig.inv, now=t0)).created == 1
    assert await webhooks.deliver_due(rig.inv, now=t0) == 1
    [entry] = await log(api, hook["webhook_id"])
    assert (entry["status"], entry["attempts"], entry["last_status"]) == ("pending", 1, 500)
    assert entry["last_error"] == "HTTP 500"  # never the receiver's body ("boom")
    assert datetime.fromisoformat(entry["next_attempt_at"]) == t0 + timedelta(seconds=5)

    assert await webhooks.deliver_due(rig.inv, now=t0 + timedelta(seconds=4)) == 0  # not yet
    assert await webhooks.deliver_due(rig.inv, now=t0 + timedelta(seconds=5)) == 1

    first, second = receiver.of("erp")
    assert first.error is None and second.error is None  # both signatures verify
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == entry["event_id"]
    assert second.body == first.body
    assert second.body is not None
    assert {k: second.body[k] for k in ("type", "version", "event_id")} == {
        "type": ISSUED,
        "version": 1,
        "event_id": entry["event_id"],
    }
    assert second.body["data"] == issued
    assert (second.body["data"]["number"], second.body["data"]["total"]) == ("2025-00001", "779.19")

    [entry] = await log(api, hook["webhook_id"])
    assert (entry["status"], entry["attempts"], entry["last_status"]) == ("succeeded", 2, 200)
    assert (entry["last_error"], entry["next_attempt_at"]) == (None, None)
    assert await webhooks.deliver_due(rig.inv, now=t0 + timedelta(days=1)) == 0  # done


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/hook",
        "javascript:alert(1)",
        "https://",
        "partner.example/hook",
        "https://user:password@partner.example/hook",
        "https://partner.example:99999/hook",
        "https://partner.example/hook#part",
        " https://partner.example/hook",
        "https://partner.example/" + "a" * 2100,
    ],
)
async def test_a_url_we_would_not_post_to_is_a_400_problem(
    api: httpx.AsyncClient, url: str
) -> None:
    response = await api.post("/api/webhooks", json={"url": url, "event_types": [FAILED]})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/invalid-webhook-url")
    assert (await api.get("/api/webhooks")).json()["items"] == []


@pytest.mark.parametrize(
    "types", [["invoicing.invoice.paid"], [FAILED, "settlement.completed"], []]
)
async def test_an_event_type_invoicing_does_not_publish_is_a_400_problem(
    api: httpx.AsyncClient, types: list[str]
) -> None:
    response = await api.post(
        "/api/webhooks", json={"url": "https://partner.example/hook", "event_types": types}
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/unknown-event-type")


async def test_the_event_types_offered_are_invoicings_from_the_registry(
    api: httpx.AsyncClient,
) -> None:
    offered = (await api.get("/api/webhooks/event-types")).json()["event_types"]
    assert offered == [
        "invoicing.credit_note.issued",
        "invoicing.invoice.issued",
        "invoicing.payment.failed",
        "invoicing.payment.overdue",
        "invoicing.payment.received",
        "invoicing.reminder.sent",
    ]


async def test_a_webhook_gets_only_the_types_it_chose_and_only_events_after_it(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    before = await payment_failed(rig)
    issued_only = await subscribe(api, receiver, "issued", [ISSUED])
    failures = await subscribe(api, receiver, "failures", [FAILED])
    after = await payment_failed(rig)
    assert (await webhooks.fan_out(rig.inv)).created == 1
    await webhooks.deliver_due(rig.inv)
    assert [h.headers["webhook-id"] for h in receiver.of("failures")] == [after]
    assert before != after and receiver.of("issued") == []
    assert await log(api, issued_only["webhook_id"]) == []
    assert [e["event_id"] for e in await log(api, failures["webhook_id"])] == [after]


async def test_a_webhook_that_failed_every_attempt_is_failed_and_a_resend_delivers_it(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await subscribe(api, receiver, "flaky", [FAILED])
    receiver.answers["flaky"] = [503, 503]
    event_id = await payment_failed(rig)
    twice = RetrySchedule(first=timedelta(0), max_attempts=2)
    await webhooks.fan_out(rig.inv)
    assert await webhooks.deliver_due(rig.inv, schedule=twice) == 1
    assert await webhooks.deliver_due(rig.inv, schedule=twice) == 1
    [entry] = await log(api, hook["webhook_id"])
    assert (entry["status"], entry["attempts"], entry["last_status"]) == ("failed", 2, 503)
    assert entry["next_attempt_at"] is None
    assert await webhooks.deliver_due(rig.inv, schedule=twice) == 0  # given up
    assert [e["event_id"] for e in await log(api, hook["webhook_id"], status="failed")] == [
        event_id
    ]

    base = f"/api/webhooks/{hook['webhook_id']}/deliveries"
    response = await api.post(f"{base}/{entry['delivery_id']}/resend")
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 2)
    assert await webhooks.deliver_due(rig.inv, schedule=twice) == 1
    [entry] = await log(api, hook["webhook_id"])
    assert (entry["status"], entry["attempts"], entry["last_status"]) == ("succeeded", 3, 200)
    hits = receiver.of("flaky")
    assert [h.headers["webhook-id"] for h in hits] == [event_id] * 3
    assert all(h.error is None for h in hits)

    unknown = await api.post(f"{base}/00000000-0000-0000-0000-000000000000/resend")
    assert (unknown.status_code, unknown.json()["type"].split("/")[-1]) == (
        404,
        "delivery-not-found",
    )
    garbage = await api.post(f"{base}/not-a-uuid/resend")
    assert garbage.status_code == 404


async def test_a_disabled_webhook_gets_nothing_new(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    gone = await subscribe(api, receiver, "gone", [FAILED])
    kept = await subscribe(api, receiver, "kept", [FAILED])
    await payment_failed(rig)
    await webhooks.fan_out(rig.inv)  # a delivery to "gone" waits when it is disabled

    response = await api.delete(f"/api/webhooks/{gone['webhook_id']}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disabled" and response.json()["disabled_at"]
    again = await api.delete(f"/api/webhooks/{gone['webhook_id']}")
    assert again.json()["disabled_at"] == response.json()["disabled_at"]

    await payment_failed(rig)
    await webhooks.fan_out(rig.inv)
    await webhooks.deliver_due(rig.inv)
    assert receiver.of("gone") == []
    assert len(receiver.of("kept")) == 2
    [waiting] = await log(api, gone["webhook_id"])  # fanned out before; never sent
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    refused = await api.post(
        f"/api/webhooks/{gone['webhook_id']}/deliveries/{waiting['delivery_id']}/resend"
    )
    assert (refused.status_code, refused.json()["type"].split("/")[-1]) == (409, "webhook-disabled")
    assert len(await log(api, kept["webhook_id"])) == 2


async def test_two_delivery_passes_at_once_send_each_attempt_once(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(api, receiver, "busy", [FAILED])
    receiver.pause_s["busy"] = 0.02  # so the two passes overlap
    events = [await payment_failed(rig, f"ACC-{n}") for n in range(30)]
    fanned = await asyncio.gather(*(webhooks.fan_out(rig.inv, batch=7) for _ in range(4)))
    while (await webhooks.fan_out(rig.inv, batch=7)).read:
        pass
    assert sum(f.created for f in fanned) <= 30

    async def worker() -> int:
        attempted = 0
        while sent := await webhooks.deliver_due(rig.inv, batch=4, concurrency=2):
            attempted += sent
        return attempted

    first, second = await asyncio.gather(worker(), worker())
    assert first + second == 30 and first > 0 and second > 0
    ids = Counter(h.headers["webhook-id"] for h in receiver.of("busy"))
    assert sorted(ids) == sorted(events) and set(ids.values()) == {1}
    rows = await rig.inv.service.database.fetch("SELECT status, attempts FROM webhook_delivery")
    assert {(r["status"], r["attempts"]) for r in rows} == {("succeeded", 1)} and len(rows) == 30


async def test_the_fan_out_waits_for_an_outbox_writer_still_in_flight(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    """An outbox id drawn but not committed must not be overtaken: this also proves the
    fan-out takes the lock the platform's outbox writers take (its name is copied)."""
    await subscribe(api, receiver, "ordered", [FAILED])
    async with rig.inv.service.database.transaction() as tx:
        await rig.inv.service.emit(
            tx,
            PaymentFailedV1(
                kind="cancelled", source="betalingsservice", account_id="ACC-0",
                invoice_id=None, number=None, payment_id=None, amount=Decimal("1.00"),
                due_date=date(2025, 2, 21),
            ),
            key="ACC-0",
        )  # fmt: skip
        later = await payment_failed(rig)  # a larger id, committed first
        assert await webhooks.fan_out(rig.inv) == webhooks.FannedOut(0, 0)
    assert await webhooks.fan_out(rig.inv) == webhooks.FannedOut(2, 2)
    await webhooks.deliver_due(rig.inv)
    assert later in {h.headers["webhook-id"] for h in receiver.of("ordered")}
    assert len(receiver.of("ordered")) == 2


async def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await subscribe(api, receiver, "slow", [FAILED])
    receiver.pause_s["slow"] = 1.0
    await payment_failed(rig)
    await webhooks.fan_out(rig.inv)
    async with HttpSender(timeout_s=0.2, allow_private=True) as impatient:
        assert await webhooks.deliver_due(rig.inv, sender=impatient) == 1
    [entry] = await log(api, hook["webhook_id"])
    assert (entry["status"], entry["last_status"]) == ("pending", None)
    assert entry["last_error"] == "no answer within 0.2 s"


async def test_secrets_are_sealed_with_the_pii_key_and_opened_to_sign(
    rig: Any, receiver: Receiver
) -> None:
    cipher = PiiCipher(PiiCipher.new_key())
    created = await webhooks.subscribe(rig.inv, receiver.url("sealed"), [FAILED], cipher=cipher)
    receiver.secrets["sealed"] = created.secret
    stored = await rig.inv.service.database.fetchval(
        "SELECT secret_sealed FROM webhook_subscription"
    )
    assert stored.startswith("fernet:") and created.secret.removeprefix("whsec_") not in stored
    await payment_failed(rig)
    await webhooks.fan_out(rig.inv)

    # A process without the key cannot sign: the attempt fails and is tried again.
    assert await webhooks.deliver_due(rig.inv, schedule=AT_ONCE) == 1
    [row] = await rig.inv.service.database.fetch("SELECT status, last_error FROM webhook_delivery")
    assert row["status"] == "pending" and "no PII key" in row["last_error"]
    assert receiver.hits == []

    assert await webhooks.deliver_due(rig.inv, cipher=cipher) == 1
    [hit] = receiver.of("sealed")
    assert hit.error is None


async def test_the_delivery_log_pages_newest_first(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await subscribe(api, receiver, "paged", [FAILED])
    events = [await payment_failed(rig, f"ACC-{n}") for n in range(3)]
    await webhooks.fan_out(rig.inv)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({} if cursor is None else {"after": cursor})
        page = await api.get(f"/api/webhooks/{hook['webhook_id']}/deliveries", params=params)
        body = page.json()
        seen += [e["event_id"] for e in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == events[::-1]

    bad = await api.get(f"/api/webhooks/{hook['webhook_id']}/deliveries", params={"after": "x"})
    assert (bad.status_code, bad.json()["type"].split("/")[-1]) == (400, "invalid-cursor")
    for missing in ("00000000-0000-0000-0000-000000000000", "nope"):
        response = await api.get(f"/api/webhooks/{missing}/deliveries")
        assert (response.status_code, response.json()["type"].split("/")[-1]) == (
            404,
            "webhook-not-found",
        )


async def test_the_job_fans_out_and_delivers_on_its_own(
    rig: Any, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(api, receiver, "job", [FAILED])
    event_id = await payment_failed(rig)
    job = asyncio.create_task(webhook_job(rig.inv, interval_s=0.05))
    try:
        for _ in range(100):
            if receiver.of("job"):
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    [hit] = receiver.of("job")
    assert hit.headers["webhook-id"] == event_id and hit.error is None


# -- the rules -------------------------------------------------------------------------------


def test_the_retry_schedule_backs_off_exponentially_up_to_a_cap_and_then_gives_up() -> None:
    schedule = RetrySchedule()
    waits = [schedule.delay(n).total_seconds() for n in range(1, schedule.max_attempts)]
    assert waits[:4] == [5, 25, 125, 625]
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert max(waits) == 6 * 3600 and schedule.delay(500) == timedelta(hours=6)
    failed_at = datetime(2025, 1, 1, tzinfo=UTC)
    assert schedule.next_attempt(1, failed_at) == failed_at + timedelta(seconds=5)
    assert schedule.next_attempt(schedule.max_attempts, failed_at) is None
    assert AT_ONCE.next_attempt(3, failed_at) == failed_at
    with pytest.raises(ValueError):
        RetrySchedule(max_attempts=0)


def test_the_body_carries_the_event_under_data_with_its_identity() -> None:
    envelope = {
        "event_id": "2b0b6b1e-52c4-4f8e-9d1c-6c8f0e6d2a11",
        "type": FAILED,
        "version": 1,
        "occurred_at": "2025-02-21T08:00:00Z",
        "payload": {"type": "not the envelope's", "amount": "779.19"},
        "producer": "invoicing",
    }
    assert json.loads(rules.body(envelope)) == {
        "type": FAILED,
        "version": 1,
        "event_id": "2b0b6b1e-52c4-4f8e-9d1c-6c8f0e6d2a11",
        "occurred_at": "2025-02-21T08:00:00Z",
        "data": {"type": "not the envelope's", "amount": "779.19"},
    }


def test_a_subscription_wants_its_types_after_its_start() -> None:
    assert rules.wants({FAILED}, 10, 11, FAILED)
    assert not rules.wants({FAILED}, 10, 10, FAILED)
    assert not rules.wants({FAILED}, 10, 11, ISSUED)
    assert rules.check_url("https://erp.example.dk:8443/hook?token=abc") == (
        "https://erp.example.dk:8443/hook?token=abc"
    )
    assert rules.short_error("a\n  b" + "c" * 500).startswith("a b")
    assert len(rules.short_error("x" * 500)) == rules.MAX_ERROR_LENGTH


async def test_a_webhook_never_goes_to_our_own_or_a_private_network(rig: Any) -> None:
    from wattline_invoicing.adapters.webhooks import HttpSender
    from wattline_invoicing.domain.webhooks import InvalidWebhookUrl, check_url

    for url in (
        "http://127.0.0.1:8104/api/invoices/cycles/2025-Q1/close",
        "http://[::1]/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.7/",
        "http://localhost:8000/", "http://invoicing:8104/",
    ):  # fmt: skip
        with pytest.raises(InvalidWebhookUrl, match="public"):
            check_url(url)
    assert check_url("https://partner.example.com/hooks") == "https://partner.example.com/hooks"
    async with HttpSender() as sender:  # at sending, whatever the subscription said
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        sent = await sender.send("http://127.0.0.1:9/x", msg_id="m", body="{}", secret=secret)
    assert sent.status is None and "public" in (sent.error or "")
