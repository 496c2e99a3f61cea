"""The bearer token of the REST API and /metrics: FACEMASK_API_TOKEN, when set, is asked of every request
as `Authorization: Bearer <token>`, compared in constant time (hmac.compare_digest), never printed.

No `from __future__ import annotations` here: FastAPI reads the dependency's annotation, which names
the security scheme local to the function that makes it.
"""

import hmac
import os
from collections.abc import Callable
from typing import Annotated

from fastapi import HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


def bearer_check(token: str | None = None) -> Callable[..., None]:
    """A dependency that asks for `Authorization: Bearer <token>` when a token is set (`token`, else
    FACEMASK_API_TOKEN, read now), and lets every request in when none is."""
    token = token or os.environ.get("FACEMASK_API_TOKEN") or None
    scheme = HTTPBearer(auto_error=False, description="FACEMASK_API_TOKEN")
    expected = token.encode() if token else None

    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(scheme)]) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})

    return check
