"""Stored files served as downloads: the SHA-256 the log recorded goes with the bytes."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

from fastapi.responses import Response


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def file_response(content: bytes, media_type: str, filename: str, sha256: str) -> Response:
    """The file, its SHA-256 in the ETag and in Repr-Digest (RFC 9530), its name in
    Content-Disposition (RFC 6266/8187: names are often Chinese; headers are Latin-1)."""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    return Response(
        content,
        media_type=media_type,
        headers={
            "ETag": f'"{sha256}"',
            "Repr-Digest": f"sha-256=:{digest}:",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        },
    )
