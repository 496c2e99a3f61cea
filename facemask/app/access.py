"""Who may use the app behind `--auth`: the logins (from FACEMASK_AUTH), and a brake on guessing them.

Gradio checks a password as fast as it is sent (200 wrong ones in 3.7 s), and its `auth` callable is given
the user name and password only, never the request, so it cannot tell one client from another. The brake is
therefore ASGI middleware on Gradio's POST /login: each client address may fail a few times, then must wait
before its next try, twice as long after each further failure; a login that succeeds clears its count. A try
made while waiting is turned away unchecked (HTTP 429), so parallel requests guess no faster.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.middleware import Middleware

from facemask.errors import FacemaskError

AUTH_ENV = "FACEMASK_AUTH"  # "user:password", or several separated by commas: never passed on a command line


class LoginError(FacemaskError, ValueError):
    """FACEMASK_AUTH is missing or malformed."""


def logins(environ: dict[str, str]) -> list[tuple[str, str]]:
    """The app's logins from FACEMASK_AUTH (so they stay out of shell history, process lists and logs);
    a LoginError, which never repeats the value, when it is missing or malformed."""
    text = environ.get(AUTH_ENV, "").strip()
    if not text:
        raise LoginError(
            f"--auth reads the logins from the environment variable {AUTH_ENV} ('user:password'), which is not set"
        )
    pairs = [tuple(item.strip().split(":", 1)) for item in text.split(",") if item.strip()]
    if not pairs or any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
        raise LoginError(f"{AUTH_ENV} must be 'user:password' (several separated by commas)")
    return pairs  # type: ignore[return-value]


@dataclass(frozen=True)
class LoginPolicy:
    free: int = 5  # failed logins a client may make before it has to wait
    wait_s: float = 1.0  # the first wait; doubled after each further failure
    max_wait_s: float = 300.0  # so 200 guesses take hours, not seconds
    forget_s: float = 3600.0  # a client's count is dropped after this long without a try


@dataclass
class _Client:
    failures: int = 0
    locked_until: float = 0.0
    last: float = field(default_factory=time.monotonic)


class LoginThrottle:
    """ASGI middleware: slows down repeated failed logins per client address (see the module's docstring)."""

    def __init__(self, app: Any, policy: LoginPolicy | None = None):
        self.app, self.policy = app, policy or LoginPolicy()
        self.clients: dict[str, _Client] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown",))[0]
        wait = self.admit(address)
        if wait > 0:
            await _too_many(send, wait)
            return
        status: list[int] = []

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status == [200]:  # Gradio answers a wrong password with 400
            self.clients.pop(address, None)

    def admit(self, address: str) -> float:
        """Seconds `address` must still wait, or 0: then this try is counted as a failure until it succeeds
        (counted before the password is checked, so that tries sent at once are counted at once)."""
        now = time.monotonic()
        if len(self.clients) > 10_000:  # addresses that stopped trying long ago
            self.clients = {a: c for a, c in self.clients.items() if now - c.last < self.policy.forget_s}
        client = self.clients.get(address)
        if client is None or now - client.last >= self.policy.forget_s:
            client = self.clients[address] = _Client()
        if now < client.locked_until:
            return client.locked_until - now
        client.failures, client.last = client.failures + 1, now
        if client.failures >= self.policy.free:
            extra = client.failures - self.policy.free
            client.locked_until = now + min(self.policy.wait_s * 2 ** min(extra, 32), self.policy.max_wait_s)
        return 0.0


async def _too_many(send: Any, wait: float) -> None:
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"Too many failed logins from your address: try again in {seconds} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", str(seconds).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def login_brake(policy: LoginPolicy | None = None) -> list[Middleware]:
    """The middleware list for Gradio's FastAPI app: `demo.launch(app_kwargs={"middleware": login_brake()})`."""
    return [Middleware(LoginThrottle, policy=policy)]
