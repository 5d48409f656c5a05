"""The reconciliation service's Prometheus metrics (dashboards and alert rules read these)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DEVIATION_HOURS = Gauge(
    "wattline_reconciliation_deviation_hours",
    "Hour slices where our metering data and DataHub's RSM-014 total differ beyond the "
    "tolerance, as last reconciled",
    ["grid_area"],
)
DEVIATION_KWH = Gauge(
    "wattline_reconciliation_deviation_kwh",
    "Sum of the absolute deviations (kWh) of the hour slices beyond the tolerance",
    ["grid_area"],
)
MISSING_HOURS = Gauge(
    "wattline_reconciliation_missing_hours",
    "Hour slices with data on one side only (side: ours or datahub)",
    ["grid_area", "side"],
)
DEVIATIONS_DETECTED = Counter(
    "wattline_reconciliation_deviations_detected_total",
    "reconciliation.deviation.detected events raised",
    ["grid_area"],
)
DAYS_RECONCILED = Counter(
    "wattline_reconciliation_days_reconciled_total",
    "Grid-area days reconciled (recomputed after new data on either side)",
)
WHOLESALE_DEVIATION_CHARGES = Gauge(
    "wattline_reconciliation_wholesale_deviation_charges",
    "Charges (per grid area and month) where DataHub's RSM-019 and what our settlements "
    "billed differ beyond the tolerance, as last reconciled",
    ["grid_area"],
)
WHOLESALE_DEVIATION_DKK = Gauge(
    "wattline_reconciliation_wholesale_deviation_dkk",
    "Sum of the absolute deviations (DKK) of the charges beyond the tolerance",
    ["grid_area"],
)
WHOLESALE_DEVIATIONS_DETECTED = Counter(
    "wattline_reconciliation_wholesale_deviations_detected_total",
    "reconciliation.wholesale_deviation.detected events raised",
    ["grid_area"],
)
