"""The pictures behind image URLs: registered ones, loopback ones fetched with a deadline,
or the bundled face. Nothing else on the network is ever fetched.

Loopback is judged on the parsed address (``127.0.0.0/8``, ``::1``) or the one name
``localhost``; a name such as ``127.attacker.example`` is not loopback. The mock's own
listening address is never fetched (a request to itself would wait on itself).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from face_contracts._net import is_loopback_host

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ["FETCH_TIMEOUT", "FetchFailure", "fetch_loopback", "is_loopback_host"]

FETCH_TIMEOUT = 5.0
"""Seconds a loopback picture may take, at most (less when the call's deadline is nearer)."""

_MAX_PICTURE = 64 << 20  # bytes read from a picture server; vendors refuse far less


class FetchFailure(Exception):  # noqa: N818 - a result the engine turns into a vendor error
    """Why a picture could not be fetched: ``invalid_url``, ``timeout`` or ``failed``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _host_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchFailure("invalid_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailure("invalid_url")
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _is_own(host: str, port: int, own: Collection[tuple[str, int]]) -> bool:
    for own_host, own_port in own:
        if own_port != port:
            continue
        if own_host in ("0.0.0.0", "::") or is_loopback_host(own_host) or own_host == host:  # noqa: S104
            return True
    return False


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _shared_client() -> httpx.Client:
    # One pool for every call: connections to a picture server are reused, and the pool
    # bounds how many sockets the mock opens at once.
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                follow_redirects=False,
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
                trust_env=False,
            )
        return _client


def loopback_url(url: str) -> bool:
    """Whether ``url`` names a loopback host (raises FetchFailure for a non-URL)."""
    host, _ = _host_port(url)
    return is_loopback_host(host)


def fetch_loopback(
    url: str, *, own: Collection[tuple[str, int]] = (), deadline: float | None = None
) -> bytes:
    """The bytes at a loopback ``url``, within :data:`FETCH_TIMEOUT` and the call's
    ``deadline`` (a ``time.monotonic()`` value). Raises :class:`FetchFailure`."""
    host, port = _host_port(url)
    if not is_loopback_host(host):
        raise FetchFailure("failed")
    if _is_own(host, port, own):
        raise FetchFailure("failed")
    timeout = FETCH_TIMEOUT
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise FetchFailure("timeout")
    try:
        with _shared_client().stream("GET", url, timeout=timeout) as response:
            if response.status_code != 200:
                raise FetchFailure("failed")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > _MAX_PICTURE:
                    raise FetchFailure("failed")
                chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    raise FetchFailure("timeout")
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise FetchFailure("timeout") from None
    except httpx.HTTPError:
        raise FetchFailure("failed") from None
