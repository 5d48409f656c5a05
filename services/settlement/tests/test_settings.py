"""Settlement's one settings class: the run and the spot-price import read it from the service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from wattline_settlement.bootstrap import build
from wattline_settlement.handlers import runs
from wattline_settlement.settings import SettlementSettings


def test_one_class_reads_every_settlement_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTLINE_SETTLEMENT_VAT_RATE", "0.20")
    monkeypatch.setenv("WATTLINE_SETTLEMENT_EDS_BASE_URL", "http://eds.test")
    monkeypatch.setenv("WATTLINE_SETTLEMENT_SPOT_PRICE_AREAS", '["DK2"]')
    monkeypatch.setenv("WATTLINE_SETTLEMENT_SPOT_IMPORT_INTERVAL_S", "60")
    service = build(SettlementSettings(jobs=False))
    assert runs._vat_rate(service) == Decimal("0.20")
    assert service.settings.eds_base_url == "http://eds.test"
    assert service.settings.spot_price_areas == ("DK2",)
    assert service.settings.spot_import_interval_s == 60.0


def test_defaults_are_declared_once() -> None:
    settings = SettlementSettings(_env_file=None)
    assert settings.vat_rate == Decimal("0.25")
    assert settings.eds_base_url == "https://api.energidataservice.dk"
    assert settings.spot_price_areas == ("DK1", "DK2")
    assert settings.port == 8103
