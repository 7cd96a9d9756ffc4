"""Who may move an account's units, and whether the account may send or receive at all."""

from __future__ import annotations

from libs.servicekit.auth import Principal
from services.registry.domain.errors import AccountFrozen, UnknownAccount
from services.registry.schemas import AccountView


def check_open(account_id: str, account: AccountView | None) -> AccountView:
    """The account exists and is not frozen (a frozen account neither sends nor receives)."""
    if account is None:
        raise UnknownAccount(f"account {account_id} does not exist")
    if account.status == "frozen":
        raise AccountFrozen(f"account {account_id} is frozen")
    return account


def check_owned(principal: Principal, account_id: str, account: AccountView | None) -> AccountView:
    """Only the owner (or registry_admin) moves units; others get 404, as for unknown ids."""
    if (
        account is not None
        and account.owner != principal.org
        and not principal.has_any("registry_admin")
    ):
        account = None
    return check_open(account_id, account)
