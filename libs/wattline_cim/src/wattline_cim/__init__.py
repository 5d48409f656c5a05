"""DataHub 3 CIM JSON: typed documents, parsing, building and validation.

`parse_documents` (one model per transaction) and `parse_document` turn wire JSON into the
models below (validating it against DataHub's
official JSON schema where one exists); `build_document` + `dumps` turn a model back into
wire JSON; `validate` checks a dict against its schema; `local_days` gives the Danish
local-day view of an RSM-012 series.
"""

from wattline_cim.build import build_document, dumps
from wattline_cim.errors import CimError
from wattline_cim.localday import LocalDay, local_day_json, local_days
from wattline_cim.models import (
    ACTIVE_ENERGY,
    DATAHUB_GLN,
    AccountingPointCharacteristics,
    Acknowledgement,
    Address,
    AggregationDocument,
    AggregationRequest,
    AggregationSeries,
    AnswerTransaction,
    CancelAnswer,
    CancelRequest,
    ChangeOfSupplierAnswer,
    ChangeOfSupplierRequest,
    Charge,
    ChargeLink,
    ChargeLinksDocument,
    ChargeRef,
    CimDocument,
    DataRequestRejection,
    GenericNotification,
    MeasureDataDocument,
    MeasureDataRequest,
    MeasurePoint,
    MeasureSeries,
    MissingDataReminder,
    MissingDataReminders,
    PriceListDocument,
    PricePoint,
    PriceSeries,
    RefusedSeries,
    RejectedTransaction,
    WholesalePoint,
    WholesaleSeries,
    WholesaleServicesDocument,
    WholesaleSettlementRequest,
)
from wattline_cim.parse import parse_document, parse_documents
from wattline_cim.schema import validate

__all__ = [
    "ACTIVE_ENERGY",
    "DATAHUB_GLN",
    "AccountingPointCharacteristics",
    "Acknowledgement",
    "Address",
    "AggregationDocument",
    "AggregationRequest",
    "AggregationSeries",
    "AnswerTransaction",
    "CancelAnswer",
    "CancelRequest",
    "ChangeOfSupplierAnswer",
    "ChangeOfSupplierRequest",
    "Charge",
    "ChargeLink",
    "ChargeLinksDocument",
    "ChargeRef",
    "CimDocument",
    "CimError",
    "DataRequestRejection",
    "GenericNotification",
    "LocalDay",
    "MeasureDataDocument",
    "MeasureDataRequest",
    "MeasurePoint",
    "MeasureSeries",
    "MissingDataReminder",
    "MissingDataReminders",
    "PriceListDocument",
    "PricePoint",
    "PriceSeries",
    "RefusedSeries",
    "RejectedTransaction",
    "WholesalePoint",
    "WholesaleSeries",
    "WholesaleServicesDocument",
    "WholesaleSettlementRequest",
    "build_document",
    "dumps",
    "local_day_json",
    "local_days",
    "parse_document",
    "parse_documents",
    "validate",
]
