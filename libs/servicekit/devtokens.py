"""The development token issuer: an ES256 key pair in the local state directory.

`tanhui run` creates the key pair and points every service at its public JWKS; `tanhui token`
signs tokens with the private key. Production deployments configure a real JWKS instead and
never see this key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEV_ISSUER = "tanhui-dev"
AUDIENCE = "tanhui"
KID = "tanhui-dev-1"


def key_paths(state_dir: Path) -> tuple[Path, Path]:
    folder = state_dir / "dev-jwt"
    return folder / "private.pem", folder / "jwks.json"


def ensure_dev_keys(state_dir: Path) -> Path:
    """Create the key pair once; return the JWKS file path."""
    private_path, jwks_path = key_paths(state_dir)
    if private_path.exists() and jwks_path.exists():
        return jwks_path
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.write_bytes(pem)
    private_path.chmod(0o600)
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": KID, "use": "sig", "alg": "ES256"})
    jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return jwks_path


def issue_token(
    state_dir: Path,
    org: str,
    roles: list[str],
    subject: str | None = None,
    ttl_seconds: int = 12 * 3600,
) -> str:
    private_path, _ = key_paths(state_dir)
    if not private_path.exists():
        ensure_dev_keys(state_dir)
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": AUDIENCE,
        "sub": subject or f"{org}/dev",
        "org": org,
        "roles": roles,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, private_path.read_bytes(), algorithm="ES256", headers={"kid": KID})
