"""Two small facts about HTTP every part needs, written once: whether a host is this
machine, and the token of an ``Authorization: Bearer`` header.

A leaf: it imports nothing of the package, so the vendors, the engine, the servers and the
live suite share it without importing one another.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["bearer_token", "is_loopback_host"]

_BEARER = re.compile(r"(?i:bearer)[ ]+([^ \t\r\n]+)")


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, if it is one (the
    scheme in any letter case, RFC 9110 §11.1)."""
    match = _BEARER.fullmatch(authorization.strip())
    return match.group(1) if match else None


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine: a loopback address (``127.0.0.0/8``,
    ``::1``, brackets allowed) or the one name ``localhost``. A name such as
    ``127.attacker.example`` is not loopback."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
