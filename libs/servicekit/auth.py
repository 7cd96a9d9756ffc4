"""Bearer JWT authentication and role checks (docs/rest.md).

Tokens are verified against a JWKS (a file in development, a URL in production): signature,
issuer, audience and expiry. Claims used: `sub`, `org` (the caller's organisation) and `roles`.
A request without a token is anonymous (the public).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from fastapi import Request

from libs.problems import Forbidden, Unauthenticated
from libs.servicekit.settings import ServiceSettings

ROLES = frozenset(
    {
        "registry_admin",
        "reviewer",
        "validator",
        "verifier",
        "developer",
        "account_holder",
        "member",
        "market_operator",
        "regulator",
        "auditor",
    }
)
ALGORITHMS = ["ES256", "RS256"]


@dataclass(frozen=True)
class Principal:
    subject: str
    org: str | None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.subject == "anonymous"

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)  # no set built: runs for every bulk item

    @property
    def actor(self) -> str:
        return self.org or self.subject


ANONYMOUS = Principal("anonymous", None)


class Authenticator:
    def __init__(self, settings: ServiceSettings, cache_size: int = 10_000) -> None:
        self.settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        # Verified tokens until they expire: a back office reuses one token for thousands of
        # calls, and an ECDSA verification per request costs more than the rest of it.
        self._verified: dict[str, tuple[float, dict[str, Any]]] = {}
        self._cache_size = cache_size

    async def principal(self, authorization: str | None) -> Principal:
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("use an 'Authorization: Bearer <token>' header")
        claims = await self._verify(token.strip())
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated("the token's roles claim must be a list of strings")
        return Principal(str(claims["sub"]), claims.get("org"), frozenset(roles) & ROLES)

    async def _verify(self, token: str) -> dict[str, Any]:
        cached = self._verified.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        claims = await self._verify_signature(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        self._verified[token] = (float(claims["exp"]), claims)
        return claims

    async def _verify_signature(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys and time.monotonic() - self._fetched_at > 30:
            await self._load_keys()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated("the token was signed by an unknown key") from None

    async def _load_keys(self) -> None:
        self._fetched_at = time.monotonic()
        if self.settings.jwks_file is not None and self.settings.jwks_file.exists():
            document = json.loads(self.settings.jwks_file.read_text())
        elif self.settings.jwks_url:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self.settings.jwks_url)
                response.raise_for_status()
                document = response.json()
        else:
            document = {"keys": []}
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in document.get("keys", []) if "kid" in k}


async def current_principal(request: Request) -> Principal:
    authenticator: Authenticator = request.app.state.runtime.authenticator
    return await authenticator.principal(request.headers.get("authorization"))


def require_roles(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """Dependency: an authenticated caller holding at least one of `roles` (any role if none)."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.anonymous:
            raise Unauthenticated()
        if roles and not principal.has_any(*roles):
            raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    return dependency


require_authenticated = require_roles()
