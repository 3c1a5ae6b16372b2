"""``face-contracts serve``: checks first, then uvicorn.

Everything that can be wrong (an unreadable config, a taken port, an exposed admin API
without a token) is found before the server starts and reported in one line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from face_contracts.mock import ConfigError, FaceMock

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ServeOptions", "loopback_host", "run"]


@dataclass(frozen=True)
class ServeOptions:
    """The command line of ``serve``."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    config: Path | None = None
    strict_urls: bool | None = None
    faces: int | None = None
    admin_token: str | None = None
    access_log: bool = False


def loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = (
            "is already in use" if error.errno in (98, 48) else f"cannot be bound: {error.strerror}"
        )
        msg = f"port {port} on {host} {reason}"
        raise ValueError(msg) from None
    return sock


class _Stopped(Exception):  # noqa: N818 - a signal, turned into a clean exit
    pass


def _stop_quietly() -> None:
    """After its graceful shutdown uvicorn re-raises the signal that stopped it; with these
    handlers that ends the command with exit status 0 and no traceback."""

    def stop(signum: int, frame: object) -> None:
        del signum, frame
        raise _Stopped

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def run(options: ServeOptions) -> int:
    """Check the options, bind, print where the server listens, serve until stopped."""
    import uvicorn

    from face_contracts.contracts import operations
    from face_contracts.server import ENVIRONMENT_CONFIG, MockApp, settings_from_file

    if options.workers < 1:
        msg = "--workers must be at least 1"
        raise ValueError(msg)
    if not loopback_host(options.host) and not options.admin_token:
        msg = (
            f"--host {options.host} exposes the admin API beyond this machine: "
            "give --admin-token (or FACE_CONTRACTS_ADMIN_TOKEN)"
        )
        raise ValueError(msg)
    overrides: dict[str, object] = {}
    if options.strict_urls is not None:
        overrides["strict_urls"] = options.strict_urls
    if options.faces is not None:
        overrides["faces"] = options.faces
    config = settings_from_file(options.config) if options.config else None
    try:
        from face_contracts.mock import MockConfig, setting_changes

        base = config or MockConfig()
        if overrides:
            base = base.merged(**setting_changes(overrides))
    except ConfigError as error:
        raise ValueError(str(error)) from None

    sock = _bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    log_level = "info" if options.access_log else "warning"
    print(
        f"face-contracts mock listening on {url} ({len(operations())} operations; "
        f"admin: {url}/__admin/; {options.workers} worker{'s' * (options.workers != 1)})",
        flush=True,
    )
    _stop_quietly()
    if options.workers == 1:
        app = MockApp(FaceMock(base), admin_token=options.admin_token)
        sock.listen(2048)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level=log_level, access_log=options.access_log, lifespan="on")
        )
        with contextlib.suppress(_Stopped):
            server.run(sockets=[sock])
    else:
        sock.close()  # uvicorn's supervisor binds the port itself and shares it with the workers
        os.environ[ENVIRONMENT_CONFIG] = orjson.dumps(
            {
                "config": str(options.config.resolve()) if options.config else None,
                "overrides": overrides,
                "admin_token": options.admin_token,
            }
        ).decode()
        with contextlib.suppress(_Stopped):
            uvicorn.run(
                "face_contracts.server:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=options.workers,
                log_level=log_level,
                access_log=options.access_log,
            )
    print("face-contracts mock stopped", file=sys.stderr, flush=True)
    return 0
