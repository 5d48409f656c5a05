"""The portfolio import file's columns (``POST /api/portfolio/imports``, text/csv).

A contract like the events: the portfolio reads this file and the simulator writes one (its
export of the points we supply, ``/sim/portfolio-import.csv``); README.md documents each column.
"""

from __future__ import annotations

REQUIRED_COLUMNS = (
    "external_id",
    "gsrn",
    "grid_area",
    "price_area",
    "metering_point_type",
    "settlement_method",
    "resolution",
    "supply_start",
    "customer_type",
    "cpr_cvr",
    "name",
    "email",
    "street",
    "postcode",
    "city",
    "dar_id",
    "product",
)
PAYER_COLUMNS = (
    "payer_external_id",
    "payer_type",
    "payer_cpr_cvr",
    "payer_name",
    "payer_email",
    "payer_street",
    "payer_house_number",
    "payer_postcode",
    "payer_city",
)
OPTIONAL_COLUMNS = (
    "phone",
    "house_number",
    "floor",
    "door",
    *PAYER_COLUMNS,
    "billing_frequency",
    "payment_model",
)
