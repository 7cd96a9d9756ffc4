"""When the execution of a hold is a purchase (docs/domain.md, "Holds").

An escrow executed to another account settles a trade: the units reach the buyer with today's
acquisition date, which the same-day resale guard reads. Units delivered still held (delivery
versus payment keeps them under the market's hold until the cash is final) are not yet bought,
and units returned to the account they were escrowed from (a failed trade unwound) never were.
"""

from __future__ import annotations


def is_purchase(purpose: str, origin_account: str, to_account: str, keep_held: bool) -> bool:
    return purpose == "escrow" and not keep_held and to_account != origin_account
