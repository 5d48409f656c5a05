"""What the portfolio refuses: one exception per kind of refusal, raised in the service layer
and mapped to its problem+json type (status, type, title) in one table in ``api.py``. The
*detail* and the *facts* (extensions such as ``gsrns`` or ``supply_period_id``) are the
refusal's own; no HTTP here."""

from __future__ import annotations


class Refused(Exception):
    """A command or read the portfolio refuses (subclasses say which)."""

    def __init__(self, detail: str | None = None, **facts: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


# -- products -----------------------------------------------------------------------------------
class InvalidPrices(Refused):
    """A new product's prices break a rule."""


class InvalidPriceVersion(Refused):
    """A price version breaks a rule (its prices, or its date)."""


class ProductExists(Refused):
    """A product with that name exists."""


class ProductNotFound(Refused):
    """No such product."""


class ProductNotAvailable(Refused):
    """No active product with a price version to sign on that date."""


class OutsideMarginCorridor(Refused):
    """A price row's margin is outside its product's margin corridor (facts: the margin, which
    bound and the limit)."""


class InvalidCampaign(Refused):
    """A campaign of channel prices breaks a rule (its dates, its channels)."""


class ChannelNotAllowed(Refused):
    """A channel's key asked to sign another channel's prices."""


class CustomerNotFound(Refused):
    """No such customer."""


# -- signups ------------------------------------------------------------------------------------
class AddressLookupFailed(Refused):
    """The DAR address lookup did not answer usefully."""


class NoMeteringPoint(Refused):
    """No metering point at the address."""


class MeteringPointNotAtAddress(Refused):
    """The chosen metering point is not one of the address's."""


class SeveralMeteringPoints(Refused):
    """Several metering points at the address, and none chosen."""


class IdempotencyKeyReused(Refused):
    """An Idempotency-Key sent again with a different request."""


class InvalidCprCvr(Refused):
    """The customer's or payer's CPR/CVR number (or name) is not valid."""


class InvalidGsrn(Refused):
    """Not a GSRN (18 digits, starts 57, GS1 check digit)."""


class InvalidGsrnAtAddress(Refused):
    """The address lookup answered a GSRN that is not valid."""


class EffectiveDateNotAllowed(Refused):
    """The effective date is outside what the process allows."""


class AlreadyResubmitted(Refused):
    """The signup was re-submitted already."""


class OpenProcess(Refused):
    """The metering point has an open process."""


class AlreadySupplied(Refused):
    """We already supply the metering point."""


class SignupNotFound(Refused):
    """No such signup (or another channel's)."""


class SignupNotRejected(Refused):
    """Only a rejected or cancelled signup can be re-submitted."""


class CannotCancel(Refused):
    """Too late or pointless to cancel; facts: ``current_status``."""


# -- back-office processes and contracts --------------------------------------------------------
class NoSwitchToUndo(Refused):
    """Our latest supply did not end by another supplier's switch."""


class NotSupplied(Refused):
    """We do not supply the metering point."""


class EffectiveDateRequired(Refused):
    """The process needs an effective date."""


class NotAMoveIn(Refused):
    """Only a move-in's date can be corrected (BRS-011)."""


class ContractChanged(Refused):
    """The product changed since the move-in."""


class SupplyStartsThen(Refused):
    """The corrected date is the supply's start already."""


class ProcessNotFound(Refused):
    """No such process."""


class RetroactiveChange(Refused):
    """A product change cannot be retroactive."""


class ChangeBeforeStart(Refused):
    """A product change must be from a date after the contract's start."""


class ContractNotFound(Refused):
    """No such contract."""


class ContractEnded(Refused):
    """The contract has ended."""
