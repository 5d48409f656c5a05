"""The portfolio's rules without I/O: identifiers, business days, effective dates, products and
the process state machine (seed 000 B1's unit tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from wattline_platform.identifiers import is_valid_gsrn
from wattline_portfolio.domain.dates import DateRules, InvalidEffectiveDate
from wattline_portfolio.domain.identity import InvalidIdentity, masked, normalise_cpr_cvr
from wattline_portfolio.domain.process import NotCancellable, Process, external_status
from wattline_portfolio.domain.products import (
    InvalidProduct,
    Prices,
    ProductVersion,
    next_version,
    version_on,
)

RULES = DateRules()
MONDAY = date(2025, 3, 3)


def test_gsrn_format_prefix_length_and_check_digit() -> None:
    assert is_valid_gsrn("571313180000000005")
    assert not is_valid_gsrn("571313180000000001")  # wrong check digit
    assert not is_valid_gsrn("581313180000000004")  # not 57
    assert not is_valid_gsrn("57131318000000005")  # 17 digits
    assert not is_valid_gsrn("5713131800000000055")  # 19 digits
    assert not is_valid_gsrn("57131318000000000A")


def test_switch_needs_15_business_days_skipping_weekends() -> None:
    earliest, latest = RULES.window("BRS-001", MONDAY) or (None, None)
    # 3 weeks of weekdays: Tue 4 .. Mon 24 March is the 15th business day.
    assert earliest == date(2025, 3, 24)
    assert latest == date(2026, 3, 3)
    RULES.check("BRS-001", date(2025, 3, 24), MONDAY)
    with pytest.raises(InvalidEffectiveDate, match="between 2025-03-24 and 2026-03-03"):
        RULES.check("BRS-001", date(2025, 3, 21), MONDAY)


def test_business_days_skip_danish_holidays_and_closed_eves() -> None:
    # From Friday 19 Dec 2025: 24 (eve), 25, 26, 31 (eve) and 1 Jan are closed.
    assert RULES.window("BRS-001", date(2025, 12, 19)) == (date(2026, 1, 16), date(2026, 12, 19))
    open_eves = DateRules(closed_eves=False)
    assert open_eves.window("BRS-001", date(2025, 12, 19)) == (
        date(2026, 1, 14),
        date(2026, 12, 19),
    )
    # Easter 2025: Maundy Thursday 17 April to Easter Monday 21 April.
    assert DateRules(switch_notice_business_days=3).window("BRS-001", date(2025, 4, 15)) == (
        date(2025, 4, 23),
        date(2026, 4, 15),
    )


def test_move_in_allows_today_and_five_business_days_back() -> None:
    RULES.check("BRS-009", MONDAY, MONDAY)
    RULES.check("BRS-009", date(2025, 2, 24), MONDAY)  # 5 business days back
    with pytest.raises(InvalidEffectiveDate):
        RULES.check("BRS-009", date(2025, 2, 21), MONDAY)  # 6 back
    with pytest.raises(InvalidEffectiveDate):
        RULES.check("BRS-009", date(2025, 5, 3), MONDAY)  # 61 days ahead


def test_ending_a_supply_needs_a_future_date() -> None:
    RULES.check("BRS-010", date(2025, 3, 4), MONDAY)
    with pytest.raises(InvalidEffectiveDate):
        RULES.check("BRS-010", MONDAY, MONDAY)
    assert RULES.window("BRS-003", MONDAY) is None


def test_cpr_and_cvr_are_validated_and_masked() -> None:
    assert normalise_cpr_cvr("010190-1234", "private") == "0101901234"
    assert masked("0101901234") == "010190****"
    with pytest.raises(InvalidIdentity, match="CPR"):
        normalise_cpr_cvr("3102901234", "private")  # 31 February
    with pytest.raises(InvalidIdentity) as raised:
        normalise_cpr_cvr("12345678", "business")  # fails the mod-11 check
    assert "12345678" not in str(raised.value)
    assert normalise_cpr_cvr("13585628", "business") == "13585628"
    assert masked("13585628") == "1358****"
    with pytest.raises(InvalidIdentity):
        normalise_cpr_cvr("13585628", "private")  # a CVR is no CPR


def test_product_versions_from_a_date() -> None:
    spot = Prices("spot", Decimal("0.04"), Decimal("39.00"))
    v1 = ProductVersion(1, date(2025, 1, 1), spot)
    v2 = ProductVersion(2, date(2025, 4, 1), Prices("spot", Decimal("0.05"), Decimal("39.00")))
    assert version_on([v1, v2], date(2025, 3, 31)) == v1
    assert version_on([v1, v2], date(2025, 4, 1)) == v2
    assert version_on([v1, v2], date(2024, 12, 31)) is None
    assert next_version([v1, v2], date(2025, 5, 1), today=MONDAY) == 3
    with pytest.raises(InvalidProduct, match="past"):
        next_version([v1], date(2025, 3, 2), today=MONDAY)
    with pytest.raises(InvalidProduct, match="after the latest"):
        next_version([v1, v2], date(2025, 4, 1), today=MONDAY)
    with pytest.raises(InvalidProduct, match="fixed"):
        Prices("fixed", Decimal(0), Decimal("29.00"))
    with pytest.raises(InvalidProduct, match="negative"):
        Prices("spot", Decimal("0.04"), Decimal("-1"))


def _new() -> Process:
    return Process("BRS-001", date(2025, 3, 24), "pending")


def test_happy_path_and_external_statuses() -> None:
    process, _ = _new().raise_request()
    assert external_status(process.status) == "registered"
    process, steps = process.sent()
    assert [s.status for s in steps] == ["sent_to_datahub"]
    assert external_status(process.status) == "processing"
    process, steps = process.answered(True, [])
    assert [s.status for s in steps] == ["acknowledged", "effectuation_pending"]
    assert external_status(process.status) == "processing"
    process, steps = process.effectuated("RSM-022")
    assert process.status == "completed" and external_status(process.status) == "active"
    assert process.effectuated("again")[1] == []  # a duplicate changes nothing


def test_events_in_any_order() -> None:
    process, _ = _new().raise_request()
    answered, _ = process.answered(True, [])  # the answer overtook the "sent" receipt
    late, steps = answered.sent()
    assert late.status == "effectuation_pending" and steps == []
    early, steps = process.effectuated("RSM-022 before the answer")
    assert early.status == "completed"
    assert early.answered(True, [])[1] == []


def test_rejection_keeps_the_reasons() -> None:
    process, _ = _new().raise_request()
    process, steps = process.answered(False, ["E22: metering point blocked for switching"])
    assert process.status == "rejected" and external_status(process.status) == "rejected"
    assert steps[-1].detail == "E22: metering point blocked for switching"
    failed, steps = _new().raise_request()[0].send_failed("schema: missing mRID")
    assert failed.status == "rejected" and "schema" in steps[0].detail


def test_cancellation_at_every_stage() -> None:
    # Before it was handed to DataHub: cancelled at once, DataHub never asked.
    process, steps, ask = _new().cancel()
    assert (process.status, ask) == ("cancelled", False)
    # After sending: RSM-002, then DataHub's answer decides.
    sent = _new().raise_request()[0].sent()[0].answered(True, [])[0]
    pending, steps, ask = sent.cancel()
    assert (pending.status, ask) == ("cancellation_pending", True)
    assert external_status(pending.status) == "processing"
    assert pending.cancel()[1:] == ([], False)  # asking twice sends nothing new
    assert pending.cancel_answered(True, [])[0].status == "cancelled"
    refused, steps = pending.cancel_answered(False, ["D20: the process is completed"])
    assert refused.status == "effectuation_pending" and "refused" in steps[0].detail
    # The original request rejected while the cancellation is pending: nothing to undo.
    raised = _new().raise_request()[0]
    waiting = raised.cancel()[0]
    assert waiting.answered(False, ["E17: date"])[0].status == "cancelled"
    # Too late once active; pointless once rejected.
    completed = sent.effectuated("RSM-022")[0]
    with pytest.raises(NotCancellable, match="completed"):
        completed.cancel()
    with pytest.raises(NotCancellable, match="rejected"):
        raised.answered(False, ["E10: unknown"])[0].cancel()
