"""Whether the app can listen where it was told, checked before gradio starts its server (which would fail
with a traceback): the port taken or not allowed, or the host not this machine's, said in words."""

from __future__ import annotations

import errno
import socket

from facemask.app.errors import ServeError


def check_listen(host: str, port: int) -> None:
    """Raise ServeError, in words, when the app could not listen on host:port."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise ServeError(f"--host {host}: not an address or host name this machine knows") from None
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as e:
            reason = {
                errno.EADDRINUSE: f"port {port} is taken by another program: stop it, or pass --port with a free one",
                errno.EACCES: f"port {port} needs administrator rights: pass --port 1024 or above",
                errno.EADDRNOTAVAIL: f"--host {host} is not an address of this machine: try 127.0.0.1 or 0.0.0.0",
            }.get(e.errno, f"cannot listen on {host}:{port} ({e.strerror})")
            raise ServeError(reason) from None
