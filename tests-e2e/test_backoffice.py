"""The back office as customer service uses it, in a real browser (issue 16).

A system of its own (the tests move its market clock a month ahead, and the datahub tests of
the session's system count every dead letter and stored message there): a market of 30
metering points of which the go-live import made about a third ours. Staff log in with the
login `wattline up` made (`system.json`), then sign a customer up at an address with three
metering points and follow the signup to active, correct a rejected signup, cancel one, open a
customer, a settlement run's lines and an invoice's PDF, place a payment from the suspense
list and retry a dead letter. Each page is asserted on the data it shows (a GSRN, an amount in
Danish format, a status in Danish), so a broken API call behind it fails the test; each is
checked by axe-core (no critical violation) and photographed (browser.py).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from browser import (
    Watched,
    accessible,
    credentials,
    danish_date,
    dkk,
    normalised,
)
from playwright.async_api import Locator, Page, expect
from pypdf import PdfReader
from scenario import Scenario, eventually, started
from wattline_simulator.domain.seeding import SeededPoint, seeded_points

pytestmark = pytest.mark.e2e

SEED, POINTS, OURS_SHARE = 5, 30, "0.3"
OUR_GLN = "5799994000015"  # the simulator's supplier: us


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from started(
        tmp_path_factory.mktemp("wattline-backoffice"),
        {
            "WATTLINE_PORTFOLIO_BILLING_FREQUENCY": "monthly",
            "WATTLINE_PORTFOLIO_PAYMENT_MODEL": "arrears",
            "WATTLINE_INVOICING_JOB_INTERVAL_S": "1",
        },
    )


@pytest.fixture(scope="module")
async def market(system: Scenario, tmp_path_factory: pytest.TempPathFactory) -> list[SeededPoint]:
    """DataHub's market; the go-live import made the points of our share ours."""
    await system.given_the_go_live_import(
        metering_points=POINTS, seed=SEED, ours_share=OURS_SHARE, customers=1,
        cwd=tmp_path_factory.mktemp("go-live"),
    )  # fmt: skip
    return list(seeded_points(SEED, POINTS, supplier_gln=OUR_GLN, ours_share=float(OURS_SHARE)))


def free_points(market: list[SeededPoint]) -> list[SeededPoint]:
    """Consumption points another supplier holds alone at their address, not blocked."""
    at: dict[object, list[SeededPoint]] = defaultdict(list)
    for point in market:
        at[point.dar_id].append(point)
    return [
        p
        for p in market
        if p.metering_point_type == "E17" and p.supplier_gln != OUR_GLN and not p.blocked
        and len(at[p.dar_id]) == 1
    ]  # fmt: skip


def take(system: Scenario, market: list[SeededPoint]) -> SeededPoint:
    point = next(p for p in free_points(market) if p.gsrn not in system.taken)
    system.taken.add(point.gsrn)
    return point


async def test_staff_log_in_and_out(anonymous: Watched, system: Scenario) -> None:
    page = anonymous.page
    login = credentials(system.home)
    # Not logged in, a deep link shows the login page (GET /api/session answers 401).
    with anonymous.expecting(401, "/api/session"):
        await anonymous.open("/signups")
        await expect(page.get_by_role("button", name="Log ind")).to_be_visible()
        await accessible(anonymous, "login")
        await anonymous.screenshot("login")
        # A wrong password is refused with the problem's title.
        await page.get_by_label("Brugernavn").fill(login["username"])
        await page.get_by_label("Adgangskode").fill("not-the-password")
        await page.get_by_role("button", name="Log ind").click()
        await expect(page.get_by_role("alert")).to_be_visible()
        title = await page.get_by_test_id("problem-title").inner_text()
        assert title and title != "Noget gik galt", title  # the problem's own title
    await page.get_by_label("Adgangskode").fill(login["password"])
    await page.get_by_role("button", name="Log ind").click()
    # Logged in, the page asked for is shown, and who is logged in.
    await expect(page.get_by_role("heading", name="Tilmeldinger")).to_be_visible()
    await expect(page.get_by_test_id("current-user")).to_contain_text(login["username"])
    cookies = await page.context.cookies()
    [session] = [c for c in cookies if c["name"] == "wattline_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict", session
    assert await page.evaluate("document.cookie") == ""  # the session id never reaches JS
    with anonymous.expecting(401, "/api/session"):
        await page.get_by_role("button", name="Log ud").click()
        await expect(page.get_by_role("button", name="Log ind")).to_be_visible()
        await page.reload()
        await expect(page.get_by_role("button", name="Log ind")).to_be_visible()


async def test_a_signup_at_an_address_with_three_metering_points_becomes_active(
    staff: Watched, system: Scenario, market: list[SeededPoint]
) -> None:
    # Given an address with three metering points (two consumption, one solar), all another
    # supplier's: staff must pick the one the customer moves to us.
    at: dict[object, list[SeededPoint]] = defaultdict(list)
    for point in market:
        at[point.dar_id].append(point)
    [address] = [
        ps
        for ps in at.values()
        if len(ps) == 3 and all(p.supplier_gln != OUR_GLN and not p.blocked for p in ps)
    ]
    chosen = address[2]  # the second consumption point, not the first one listed
    assert chosen.metering_point_type == "E17"
    system.taken.add(chosen.gsrn)
    page = staff.page

    await staff.open("/signups/new")
    await page.get_by_label("DAR-id (adressens id)").fill(str(chosen.dar_id))
    await page.get_by_role("button", name="Slå adressen op").click()
    picker = page.get_by_role("radiogroup", name="Målepunkt (GSRN)")
    for point in address:  # every metering point at the address is offered
        await expect(picker).to_contain_text(point.gsrn)
    # Several points: none is chosen for staff, and the form says so before it is sent.
    await page.get_by_role("button", name="Opret tilmelding").click()
    await expect(page.get_by_text("Vælg målepunktet på adressen.")).to_be_visible()
    await page.get_by_role("radio", name=chosen.gsrn).check()
    await page.get_by_label("Produkt", exact=True).select_option(index=1)
    await page.get_by_label("Navn", exact=True).fill("Anders Jensen")
    await page.get_by_label("CPR-nummer").fill(system.cpr(chosen))
    await page.get_by_label("E-mail").fill("anders@example.dk")
    await page.get_by_label("Vej", exact=True).fill("Nørrebrogade")
    await page.get_by_label("Husnummer").fill("42")
    await page.get_by_label("Postnummer").fill("2200")
    await page.get_by_label("By", exact=True).fill("København N")
    await page.get_by_label("Leverandørskift").check()
    await accessible(staff, "signup-new")
    await staff.screenshot("signup-new")
    await page.get_by_role("button", name="Opret tilmelding").click()

    # Then the signup's page (a deep link of its own) shows the metering point chosen, and
    # DataHub's confirmation.
    await expect(page).to_have_url(re.compile(r"/backoffice/signups/(?!new\b)[^/?#]+$"))
    signup_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("link", name=chosen.gsrn)).to_be_visible()
    signup = await system.then_signup(signup_id)
    assert signup["gsrn"] == chosen.gsrn, signup
    await system.then_process_becomes(signup_id, "effectuation_pending")
    await page.reload()
    await expect(page.get_by_text("Afventer ikrafttræden").first).to_be_visible()
    facts = page.get_by_role("region", name="Tilmelding")
    await expect(facts).to_contain_text(danish_date(signup["effective_date"]))

    # When the market clock reaches the switch date, DataHub effectuates it: active.
    effective = signup["effective_date"]
    await system.when_the_clock_moves_to_day(date.fromisoformat(effective))
    await eventually(
        lambda: system.then_signup_status(signup_id), lambda s: s["status"] == "active"
    )
    await page.reload()
    await expect(status_badge(page)).to_have_text("Aktiv")
    await accessible(staff, "signup-detail")
    await staff.screenshot("signup-detail")


def status_badge(page: Page) -> Locator:
    """The signup's status as its page shows it (the badge after "Status:")."""
    return page.locator("[data-status]").first


async def test_a_rejected_signup_shows_why_and_is_corrected(
    staff: Watched, system: Scenario, market: list[SeededPoint]
) -> None:
    # Given a signup a sales channel sent with a CPR number not the customer's there
    point = take(system, market)
    sent = await system.when_a_customer_signs_up(point, cpr_cvr="0101901234")
    assert sent.status_code == 201, sent.text
    rejected_id = sent.json()["signup_id"]
    await system.then_process_becomes(rejected_id, "rejected")
    page = staff.page
    # Then its page says so in words staff can act on, DataHub's own code beside them
    await staff.open(f"/signups/{rejected_id}")
    await expect(status_badge(page)).to_have_text("Afvist")
    reasons = page.get_by_test_id("rejection-reasons")
    await expect(reasons).to_contain_text("CPR/CVR-nummeret mangler eller passer ikke til kunden")
    await expect(reasons).to_contain_text("D17")
    await accessible(staff, "signup-rejected")
    await staff.screenshot("signup-rejected")
    # When staff correct the CPR number and send it again
    form = page.get_by_role("form", name="Ret og send igen")
    await form.get_by_label("CPR-nummer").fill(system.cpr(point))
    await form.get_by_role("button", name="Send rettet tilmelding").click()
    # Then the new signup's page opens, for the same metering point, and DataHub confirms it
    await expect(page).not_to_have_url(re.compile(re.escape(rejected_id) + "$"))
    await expect(page).to_have_url(re.compile(r"/backoffice/signups/(?!new\b)[^/?#]+$"))
    fixed_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("link", name=point.gsrn)).to_be_visible()
    await system.then_process_becomes(fixed_id, "effectuation_pending")
    await page.reload()
    await expect(page.get_by_text("Afventer ikrafttræden").first).to_be_visible()
    assert (await system.then_signup(fixed_id))["gsrn"] == point.gsrn


async def test_a_signup_is_cancelled(
    staff: Watched, system: Scenario, market: list[SeededPoint]
) -> None:
    # Given a signup DataHub has confirmed
    point = take(system, market)
    sent = await system.when_a_customer_signs_up(point)
    assert sent.status_code == 201, sent.text
    signup_id = sent.json()["signup_id"]
    await system.then_process_becomes(signup_id, "effectuation_pending")
    page = staff.page
    await staff.open(f"/signups/{signup_id}")
    await expect(status_badge(page)).to_have_text("Under behandling")
    # When staff cancel it, and confirm
    await page.get_by_role("button", name="Annullér tilmelding").click()
    await page.get_by_role("button", name="Ja, annullér").click()
    # Then DataHub is asked (RSM-002) and, once it agrees, the signup is cancelled
    await system.then_process_becomes(signup_id, "cancelled")
    await page.reload()
    await expect(status_badge(page)).to_have_text("Annulleret")
    await expect(page.get_by_role("button", name="Annullér tilmelding")).to_have_count(0)
    [process] = await system.then_datahub_processes(point.gsrn)
    assert process["state"] == "cancelled", process


async def test_a_customer_and_the_signups_list(
    staff: Watched, system: Scenario, market: list[SeededPoint]
) -> None:
    # Given the customers the go-live import brought (one per metering point of ours)
    owners = await system.given_customers_by_point()
    ours = [p for p in market if p.supplier_gln == OUR_GLN and p.gsrn in owners]
    assert ours, owners
    point = ours[0]
    customer = await system.get(f"/api/customers/{owners[point.gsrn]}")
    page = staff.page
    # The list finds them by name
    await staff.open("/customers")
    await expect(page.get_by_role("heading", name="Kunder", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=customer["name"]).first).to_be_visible()
    await accessible(staff, "customers")
    await staff.screenshot("customers")
    # and the customer's page shows the metering point and its supply period from its date
    await page.get_by_role("link", name=customer["name"]).first.click()
    await expect(page.get_by_role("heading", name=customer["name"], level=1)).to_be_visible()
    [period] = [s for s in customer["supply_periods"] if s["gsrn"] == point.gsrn]
    await expect(page.locator("main")).to_contain_text(point.gsrn)
    await expect(page.locator("main")).to_contain_text(danish_date(period["start_date"]))
    await accessible(staff, "customer-detail")
    await staff.screenshot("customer-detail")
    # The signups list filters by status: the signup cancelled above, no signup in progress
    await staff.open("/signups?status=cancelled")
    table = page.get_by_role("table", name="Tilmeldinger")
    await expect(table).to_contain_text("Annulleret")
    await expect(table).not_to_contain_text("Under behandling")
    await accessible(staff, "signups")
    await staff.screenshot("signups")


@pytest.fixture(scope="module")
async def january(
    system: Scenario, market: list[SeededPoint], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """January is over: DataHub sent its data, spot prices came, the month was settled (a
    run through the API) and its invoice cycle closed. The run."""
    await system.when_an_operator_moves_the_clock(
        "2025-02-02T00:00:00+00:00", cwd=tmp_path_factory.mktemp("clock")
    )
    await system.when_spot_prices_are_imported("2025-01-01", "2025-01-31")
    run = await system.when_settlement_runs("2025-01")
    assert run["status"] == "completed", run
    closed = await eventually(
        lambda: system.call("POST", "/api/invoices/cycles/2025-01/close"),
        lambda r: r.status_code == 200 and r.json()["issued"],
        60,
    )
    assert closed.status_code == 200 and closed.json()["issued"], closed.text
    return run


async def test_a_settlement_runs_lines(
    staff: Watched, system: Scenario, january: dict[str, object]
) -> None:
    run_id = str(january["run_id"])
    settled = (await system.get(f"/api/settlement/runs/{run_id}/lines"))["items"]
    assert settled, january
    first = settled[0]
    page = staff.page
    # The runs list shows January's run, and its page every metering point it settled
    await staff.open("/settlement/runs")
    runs = page.get_by_role("table", name="Afregningskørsler")
    await expect(runs).to_contain_text("2025-01")
    await accessible(staff, "settlement-runs")
    await staff.screenshot("settlement-runs")
    await page.get_by_role("link", name=run_id[:8]).click()
    await expect(page.get_by_role("heading", name="Afregningskørsel 2025-01")).to_be_visible()
    lines = page.get_by_role("table", name="Afregninger")
    row = lines.get_by_role("row").filter(has_text=first["gsrn"])
    await expect(row).to_contain_text(dkk(first["total"]).replace(" kr.", ""))
    await expect(row).to_contain_text(dkk(first["subtotal"]).replace(" kr.", ""))
    for other in settled[1:]:
        await expect(lines).to_contain_text(other["gsrn"])
    await accessible(staff, "settlement-run")
    await staff.screenshot("settlement-run")


async def an_invoice(system: Scenario) -> dict[str, Any]:
    """One of January's invoices, in detail."""
    items = (await system.get("/api/invoices", params={"cycle": "2025-01"}))["items"]
    assert items, "January's cycle issued no invoice"
    found: dict[str, Any] = await system.get(f"/api/invoices/{items[0]['invoice_id']}")
    return found


async def test_an_invoice_and_its_pdf(
    staff: Watched, system: Scenario, january: dict[str, object]
) -> None:
    invoice = await an_invoice(system)
    page = staff.page
    # The list of January's invoices shows its total in Danish format
    await staff.open("/invoices?cycle=2025-01")
    listed = page.get_by_role("table", name="Fakturaer")
    await expect(listed).to_contain_text(str(invoice["number"]))
    await expect(listed).to_contain_text(dkk(invoice["total"]))
    await accessible(staff, "invoices")
    await staff.screenshot("invoices")
    # Its page: every line's metering point, the total, and the PDF the payer got
    await staff.open(f"/invoices/{invoice['invoice_id']}")
    await expect(page.locator("main")).to_contain_text(dkk(invoice["total"]))
    lines = page.get_by_role("table", name="Fakturalinjer")
    for gsrn in {line["gsrn"] for line in invoice["lines"] if line.get("gsrn")}:
        await expect(lines).to_contain_text(gsrn)
    await accessible(staff, "invoice")
    await staff.screenshot("invoice")
    href = await page.get_by_role("link", name="Åbn PDF").get_attribute("href")
    assert href, "no PDF link"
    bill = await page.context.request.get(href)  # as the new tab asks: the session's cookie
    assert bill.status == 200 and bill.headers["content-type"].startswith("application/pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(await bill.body())).pages)
    assert dkk(invoice["total"]).removesuffix(" kr.") in normalised(text), text[:500]


async def test_a_payment_on_the_suspense_list_is_placed(
    staff: Watched, system: Scenario, january: dict[str, object]
) -> None:
    # Given a bank transfer whose reference names nothing of ours
    invoice = await an_invoice(system)
    statement = "entry_id,booking_date,amount,reference\nbt-suspense-1,2025-02-03,123.45,ukendt\n"
    booked = await system.call(
        "POST", "/api/payments/bank-statements", content=statement.encode(),
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert booked.status_code == 200, booked.text
    [waiting] = [
        p
        for p in (await system.get("/api/payments/suspense"))["items"]
        if p["reference"] == "ukendt"
    ]
    page = staff.page
    # Then it waits on the suspense list, and staff place it on the payer's invoice
    await staff.open("/payments/suspense")
    suspense = page.get_by_role("table", name="Ikke-fordelte betalinger")
    await expect(suspense).to_contain_text("123,45 kr.")
    await accessible(staff, "suspense")
    await staff.screenshot("suspense")
    await page.get_by_role("button", name="Fordel betaling på 123,45").click()
    await page.get_by_label("Betalerkonto").fill(str(invoice["account_id"]))
    await page.get_by_role("button", name="Fordel betaling", exact=True).click()
    await page.get_by_role("button", name="Bekræft fordeling").click()
    await expect(page.get_by_role("status").first).to_be_visible()
    await expect(suspense).not_to_contain_text("123,45 kr.")
    placed = await system.get(f"/api/payments/{waiting['payment_id']}")
    assert placed["account_id"] == invoice["account_id"], placed
    assert placed["status"] == "matched", placed


async def test_a_dead_letter_is_retried(staff: Watched, system: Scenario) -> None:
    # Given a message from DataHub that cannot be read (not JSON): dead-lettered
    message_id = await system.when_datahub_sends("MeasureData", b"{this is not json")
    await eventually(
        lambda: system.get("/api/datahub/dead-letters"),
        lambda page: any(i["id"] == message_id for i in page["items"]),
        60,
    )
    page = staff.page
    await staff.open("/datahub/dead-letters")
    letters = page.get_by_role("table", name="Afviste beskeder")
    row = letters.get_by_role("row").filter(has_text=message_id)
    await expect(row).to_contain_text("MeasureData")
    await accessible(staff, "dead-letters")
    await staff.screenshot("dead-letters")
    # When staff retry it, the parser still refuses it: the problem is shown, the letter stays
    with staff.expecting(422, f"/api/datahub/dead-letters/{message_id}/retry"):
        await row.get_by_role("button", name=f"Prøv igen: besked {message_id}").click()
        await expect(row.get_by_role("alert")).to_be_visible()
    title = await row.get_by_test_id("problem-title").inner_text()
    assert title and title != "Noget gik galt", title
    listed = await system.get("/api/datahub/dead-letters")
    assert any(i["id"] == message_id for i in listed["items"]), listed


async def test_a_products_channel_prices_and_a_campaign(staff: Watched, system: Scenario) -> None:
    # Given a product of its own, margins allowed from 0.01 to 0.40 DKK/kWh
    created = await system.call(
        "POST", "/api/products",
        json={"name": "Kampagneprodukt", "valid_from": "2026-12-01", "margin_dkk_per_kwh": "0.05",
              "subscription_dkk_per_month": "29", "min_margin_dkk_per_kwh": "0.01",
              "max_margin_dkk_per_kwh": "0.40"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    product_id = created.json()["product_id"]
    page = staff.page
    await staff.open(f"/products/{product_id}")
    await expect(page.get_by_role("heading", name="Kampagneprodukt", level=1)).to_be_visible()
    versions = page.get_by_role("table", name="Kanalprisversioner")
    await expect(versions).to_contain_text("Ingen kanalpriser endnu")
    form = page.get_by_role("form", name="Udgiv kampagne")
    await form.get_by_label("Gælder fra").fill("2027-01-04")
    # A margin above the corridor is refused, naming the limit; nothing is published
    await form.get_by_label("Tillæg Web (kr./kWh)").fill("0,45")
    await form.get_by_label("Abonnement Web (kr./måned)").fill("19")
    with staff.expecting(422, f"/api/products/{product_id}/channel-prices"):
        await form.get_by_role("button", name="Udgiv kampagne").click()
        await expect(form.get_by_role("alert")).to_contain_text(
            "margin 0.45 DKK/kWh above the product's maximum 0.40"
        )
    await expect(versions).to_contain_text("Ingen kanalpriser endnu")
    # Within it, the campaign is a new version for the web and the partners
    await form.get_by_label("Tillæg Web (kr./kWh)").fill("0,03")
    await form.get_by_label("Tillæg Partnere (kr./kWh)").fill("0,035")
    await form.get_by_label("Abonnement Partnere (kr./måned)").fill("25")
    await form.get_by_role("button", name="Udgiv kampagne").click()
    await expect(form.get_by_role("status")).to_contain_text("Kampagnen er udgivet: version 2, 3")
    web = versions.get_by_role("row").filter(has_text="Web")
    await expect(web).to_contain_text("0,03 kr./kWh")
    await expect(web).to_contain_text("04.01.2027")
    await expect(web).to_contain_text("19,00 kr.")
    await expect(versions.get_by_role("row").filter(has_text="Partnere")).to_contain_text("0,035")
    prices = await system.get(f"/api/products/{product_id}/channel-prices")
    assert [(v["channel"], v["version"], v["margin_dkk_per_kwh"]) for v in prices["versions"]] == [
        ("partner", 3, "0.035000"),
        ("web", 2, "0.030000"),
    ]
    await accessible(staff, "channel-prices")
    await staff.screenshot("channel-prices")


async def test_a_customers_history(
    staff: Watched, system: Scenario, january: dict[str, object]
) -> None:
    # Given January's invoice of a customer the go-live import brought
    invoice = await an_invoice(system)
    owners = await system.given_customers_by_point()
    customer_id = next(
        owners[line["gsrn"]] for line in invoice["lines"] if line.get("gsrn") in owners
    )
    history = await eventually(
        lambda: system.get(f"/api/customers/{customer_id}/history"),
        lambda h: any(i["kind"] == "invoice_issued" for i in h["items"]),
        60,
    )
    kinds = [i["kind"] for i in history["items"]]
    assert kinds.index("supply_activated") < kinds.index("invoice_issued"), kinds
    page = staff.page
    await staff.open(f"/customers/{customer_id}")
    table = page.get_by_role("table", name="Kundens historik")
    await expect(table.get_by_role("row").filter(has_text="Levering startet")).to_contain_text(
        "System"
    )
    billed = table.get_by_role("row").filter(has_text=f"Faktura {invoice['number']} udstedt")
    await expect(billed).to_contain_text(dkk(invoice["total"]).removesuffix("."))
    # (a payment of it, made by another test of this module, names the invoice too)
    [entry] = [
        i
        for i in history["items"]
        if i["kind"] == "invoice_issued" and i["reference"] == invoice["number"]
    ]
    assert entry["correlation_id"], entry
    await expect(billed).to_contain_text(entry["correlation_id"])
    await accessible(staff, "customer-history")
    await staff.screenshot("customer-history")
