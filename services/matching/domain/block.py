"""The block agreement (大宗协议): a negotiation between two members, not a book.

Pure. A quote is the maker's first offer: public (any member may answer it) or addressed to one
named member (only that member sees it). The side that did not make the latest offer may
counter it with new terms or accept it, which makes the trade; either party may end the
negotiation. A public quote's first counter makes the counterer its counterparty: from then on
the two negotiate, and other members only see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from libs.problems import Problem

Side = Literal["buy", "sell"]
Status = Literal["open", "accepted", "withdrawn", "expired"]


class UnknownQuote(Problem):
    status, slug, title = 404, "unknown-block-quote", "Unknown block quote"


class QuoteClosed(Problem):
    status, slug, title = 409, "block-quote-closed", "The negotiation has ended"


class OfferIsYours(Problem):
    status, slug, title = 409, "offer-is-yours", "The other side answers the latest offer"


class NotYourNegotiation(Problem):
    status, slug, title = 409, "not-your-negotiation", "Two other members are negotiating"


class OfferChanged(Problem):
    status, slug, title = 409, "offer-changed", "The latest offer changed; read it again"


class SelfAddressed(Problem):
    status, slug, title = 422, "self-addressed", "A proposal goes to another member"


def other(side: Side) -> Side:
    return "buy" if side == "sell" else "sell"


@dataclass(frozen=True)
class Negotiation:
    id: str
    maker: str
    maker_side: Side
    counterparty: str | None  # None: a public quote nobody has countered yet
    directed: bool  # proposed to the counterparty alone
    status: Status
    last_offer_by: str

    def visible_to(self, org: str | None, supervisor: bool) -> bool:
        """A directed proposal exists only for its two parties and the market's supervisors."""
        return supervisor or not self.directed or org in (self.maker, self.counterparty)

    def side_of(self, org: str) -> Side:
        return self.maker_side if org == self.maker else other(self.maker_side)

    def check_answer(self, org: str) -> None:
        """Raise unless `org` may counter or accept the latest offer."""
        self._check_open()
        if org == self.last_offer_by:
            raise OfferIsYours("wait for the other side's answer, or withdraw")
        if self.counterparty is not None and org not in (self.maker, self.counterparty):
            raise NotYourNegotiation()

    def check_withdraw(self, org: str, operator: bool) -> None:
        self._check_open()
        if not operator and org not in (self.maker, self.counterparty):
            raise NotYourNegotiation()

    def _check_open(self) -> None:
        if self.status != "open":
            raise QuoteClosed(f"block quote {self.id} is {self.status}")
