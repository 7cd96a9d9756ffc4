"""Matching problems with stable type URIs (docs/rest.md). The instruments' own refusals are in
`instruments.py`, the listing agreement's in `listings.py`."""

from __future__ import annotations

from libs.problems import Problem


class UnknownInstrument(Problem):
    status, slug, title = 404, "unknown-instrument", "Unknown instrument"


class InstrumentExists(Problem):
    status, slug, title = 409, "instrument-exists", "The instrument is already listed"


class WrongMarketModel(Problem):
    status, slug, title = 409, "wrong-market-model", "The instrument trades in another market model"


class UnknownMember(Problem):
    status, slug, title = 404, "unknown-member", "Unknown member"


class MemberExists(Problem):
    status, slug, title = 409, "member-exists", "The organisation is already a member"


class NotAMember(Problem):
    status, slug, title = 403, "not-a-member", "Only the exchange's members trade"


class UnknownListing(Problem):
    status, slug, title = 404, "unknown-listing", "Unknown listing"


class UnknownTrade(Problem):
    status, slug, title = 404, "unknown-trade", "Unknown trade"


class TradesSettling(Problem):
    status, slug, title = 409, "trades-settling", "Trades of this listing are still settling"


class InsufficientUnits(Problem):
    status, slug, title = 409, "insufficient-units", "Not enough units to offer"


class SameDayResale(Problem):
    status, slug, title = 409, "same-day-resale", "Units bought today can be sold from tomorrow"


class InsufficientFunds(Problem):
    status, slug, title = 409, "insufficient-funds", "Not enough cash available to reserve"


class EscrowRefused(Problem):
    """Any other refusal of the registry (unknown or frozen account, …), its problem attached."""

    status, slug, title = 409, "escrow-refused", "The registry refused to escrow the units"


class ReservationRefused(Problem):
    status, slug, title = (
        409,
        "reservation-refused",
        "The settlement system refused the reservation",
    )


class UpstreamUnavailable(Problem):
    status, slug, title = (
        503,
        "upstream-unavailable",
        "The registry or settlement system did not answer",
    )


class UnknownOrder(Problem):
    status, slug, title = 404, "unknown-order", "Unknown order"


class OrderClosed(Problem):
    status, slug, title = 409, "order-closed", "The order is no longer in the book"


class UnknownAuction(Problem):
    status, slug, title = 404, "unknown-auction", "Unknown auction"


class InvalidAuction(Problem):
    status, slug, title = 422, "invalid-auction", "The auction's terms are not valid"


class UnknownBid(Problem):
    status, slug, title = 404, "unknown-bid", "Unknown bid"


class BidClosed(Problem):
    status, slug, title = 409, "bid-closed", "The bid is no longer active"
