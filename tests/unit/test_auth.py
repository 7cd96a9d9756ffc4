"""Bearer tokens: signature, issuer, audience, expiry; verified tokens are cached until expiry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import jwt
import pytest

from libs.problems import Unauthenticated
from libs.servicekit.auth import Authenticator
from libs.servicekit.devtokens import ensure_dev_keys, issue_token, key_paths
from services.registry.settings import RegistrySettings


@pytest.fixture
def authenticator(tmp_path: Path) -> Authenticator:
    return Authenticator(RegistrySettings(jwks_file=ensure_dev_keys(tmp_path)))


async def test_a_valid_token_gives_org_and_known_roles(
    authenticator: Authenticator, tmp_path: Path
) -> None:
    token = issue_token(tmp_path, "COOP-1", ["account_holder", "not_a_role"])
    principal = await authenticator.principal(f"Bearer {token}")
    assert principal.org == "COOP-1" and principal.roles == frozenset({"account_holder"})
    assert (await authenticator.principal(None)).anonymous


async def test_expired_forged_and_foreign_tokens_are_refused(
    authenticator: Authenticator, tmp_path: Path
) -> None:
    expired = issue_token(tmp_path, "COOP-1", ["member"], ttl_seconds=-10)
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.principal(f"Bearer {expired}")
    private, _ = key_paths(tmp_path)
    wrong_audience = jwt.encode(
        {"iss": "tanhui-dev", "aud": "elsewhere", "sub": "x", "exp": time.time() + 60},
        private.read_bytes(),
        algorithm="ES256",
        headers={"kid": "tanhui-dev-1"},
    )
    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        await authenticator.principal(f"Bearer {wrong_audience}")
    other_keys = ensure_dev_keys(tmp_path / "other")
    assert other_keys.exists()
    foreign = issue_token(tmp_path / "other", "COOP-1", ["member"])
    with pytest.raises(Unauthenticated):
        await authenticator.principal(f"Bearer {foreign}")
    with pytest.raises(Unauthenticated):
        await authenticator.principal("Basic dXNlcjpwYXNz")


async def test_a_cached_token_still_expires(authenticator: Authenticator, tmp_path: Path) -> None:
    token = issue_token(tmp_path, "COOP-1", ["member"], ttl_seconds=1)
    await authenticator.principal(f"Bearer {token}")
    assert token in authenticator._verified
    await asyncio.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.principal(f"Bearer {token}")
