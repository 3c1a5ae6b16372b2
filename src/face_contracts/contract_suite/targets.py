"""Where the live suite sends its requests: one target per vendor, from the environment.

``FACE_CONTRACTS_<VENDOR>_BASE_URL`` names the target; without it the vendor is served by
the local mock, started on a free loopback port for the session. A target off this machine
may be the paid vendor: it is called only with ``--live`` and its credentials. A target
that serves the mock's admin API (``/__admin/``) gets each case's scene set through it.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from face_contracts._net import is_loopback_host
from face_contracts.vendors import VENDORS, Vendor

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.redaction import Redactor

__all__ = [
    "IMAGE_BASE_ENV",
    "Admin",
    "AdminError",
    "ServerThread",
    "Target",
    "base_env",
    "is_loopback",
    "resolve_targets",
]

IMAGE_BASE_ENV = "FACE_CONTRACTS_IMAGE_BASE_URL"
Where = Literal["local mock", "loopback", "remote"]


def base_env(vendor: Vendor) -> str:
    """The variable naming a vendor's target: ``FACE_CONTRACTS_<VENDOR>_BASE_URL``."""
    return f"FACE_CONTRACTS_{vendor.name.upper()}_BASE_URL"


@dataclass
class Target:
    """One vendor's target. ``credentials`` never appear in its repr; ``skip_reason`` is
    set when the suite must not call it (a remote host without ``--live`` or credentials);
    without credentials in the environment a loopback target gets the vendor's
    placeholders (the local mock accepts exactly the credentials in use)."""

    vendor: Vendor
    base_url: str
    where: Where
    credentials: tuple[str, ...] = field(repr=False, default=())
    admin: bool = False
    skip_reason: str | None = None

    @property
    def paid(self) -> bool:
        """Whether calls may cost money: anything off this machine is treated as the vendor."""
        return self.where == "remote"

    def describe(self, redactor: Redactor) -> str:
        """``base URL (where)``, secrets masked."""
        extra = ", admin API" if self.admin and self.where != "local mock" else ""
        return f"{redactor.url(self.base_url)} ({self.where}{extra})"


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (localhost, 127.0.0.0/8, ::1)."""
    return is_loopback_host(urlsplit(url).hostname or "")


def resolve_targets(
    environ: Mapping[str, str], *, live: bool, local_url: str | None
) -> dict[str, Target]:
    """Every vendor's target. ``local_url`` is the local mock's base URL for the vendors
    without one (None while it is not started: those targets get an empty URL)."""
    targets = {}
    for vendor in VENDORS.values():
        base = environ.get(base_env(vendor), "").strip().rstrip("/")
        given = tuple(environ.get(name, "") for name in vendor.credential_env)
        missing = [
            name for name, value in zip(vendor.credential_env, given, strict=True) if not value
        ]
        credentials = given if not missing else vendor.placeholder_credentials("placeholder")
        if not base:
            targets[vendor.name] = Target(
                vendor, local_url or "", "local mock", credentials, admin=True
            )
            continue
        if is_loopback(base):
            targets[vendor.name] = Target(vendor, base, "loopback", credentials)
            continue
        reason = None
        if not live:
            reason = (
                f"{base_env(vendor)} is off this machine and calls may cost money: "
                "add --live to call it"
            )
        elif missing:
            reason = f"--live {vendor.title}: set {', '.join(missing)} to call it"
        targets[vendor.name] = Target(vendor, base, "remote", given, skip_reason=reason)
    return targets


class AdminError(RuntimeError):
    """The admin API refused a call."""


class Admin:
    """The mock's admin API (``/__admin/``) of one target, over HTTP."""

    def __init__(self, client: httpx.Client, base_url: str, token: str | None = None) -> None:
        self.client = client
        self.base_url = base_url
        # A server started with --admin-token wants it on every admin call.
        self._headers = {"authorization": f"Bearer {token}"} if token else {}

    def available(self) -> bool:
        """Whether the target serves the admin API (a face-contracts mock)."""
        try:
            answer = self.client.get(
                f"{self.base_url}/__admin/health", headers=self._headers, timeout=5.0
            )
            payload = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return False
        return isinstance(payload, dict) and isinstance(payload.get("operations"), list)

    def _call(self, method: str, route: str, **kwargs: Any) -> None:
        answer = self.client.request(
            method, f"{self.base_url}/__admin/{route}", headers=self._headers, **kwargs
        )
        if answer.status_code != 200:
            # The admin API never echoes credentials; its message says what it refused.
            msg = f"{method} /__admin/{route} answered {answer.status_code}: {answer.text[:200]}"
            raise AdminError(msg)

    def reset(self) -> None:
        """Back to the settings the server started with."""
        self._call("POST", "reset")

    def credentials(self, vendor: str, credentials: tuple[str, ...]) -> None:
        """Only ``credentials`` work for ``vendor`` (the parts of one credential, such as a
        key and its secret, are written as one, joined by ``:``)."""
        self._call("POST", "config", json={"credentials": {vendor: [":".join(credentials)]}})

    def faces(self, count: int) -> None:
        """Every picture has ``count`` faces."""
        self._call("POST", "faces", json={"faces": count})

    def image(self, url: str, data: bytes) -> None:
        """Serve ``data`` for the image URL ``url``."""
        self._call("PUT", f"images?url={quote(url, safe='')}", content=data)


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread.

    >>> from face_contracts.server import MockApp
    >>> with ServerThread(MockApp()) as server:  # doctest: +SKIP
    ...     httpx.get(f"{server.url}/__admin/health").status_code
    200
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", start_timeout: float = 15.0) -> None:
        import uvicorn  # deferred: the ASGI server, only for a session that starts one

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self._socket.listen(128)
        port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self._start_timeout = start_timeout
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        # Server.run installs signal handlers only in the main thread; here it does not.
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="face-contracts-contract-suite-server",
            daemon=True,
        )

    def start(self) -> ServerThread:
        """Start serving; return when the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                msg = f"the server on {self.url} did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (bounded)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
