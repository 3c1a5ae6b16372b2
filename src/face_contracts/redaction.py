"""Secrets out of everything a person or a file can see: one redactor for headers, form
fields, JSON bodies, URLs and free text (exception messages, log lines, reports).

Two nets, both always on. Known names: a header, form field, JSON key or URL query
parameter called like a credential (``ailabapi-api-key``, ``authorization``, ``api_key``,
``api_secret``, ``token``...) has its value masked whatever it holds. Known values: the
secrets actually in use (the ``FACE_CONTRACTS_*`` credential variables, or any given) are
masked wherever they appear, also URL-, JSON- and base64-encoded.

>>> redactor = Redactor(["s3cr3t-value"])
>>> redactor.text("POST /x?api_key=abc failed for s3cr3t-value")
'POST /x?api_key=<redacted> failed for <redacted>'
>>> redactor.headers({"authorization": "Bearer abc", "accept": "application/json"})
{'authorization': '<redacted>', 'accept': 'application/json'}
"""

from __future__ import annotations

import base64
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import orjson

from face_contracts.mock._config import MASK

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "MASK",
    "SECRET_ENVIRONMENT",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "Redactor",
]

# The environment variables whose values are credentials (issue 6); FACE_CONTRACTS_ADMIN_TOKEN
# guards the mock server's admin API and is a secret too.
SECRET_ENVIRONMENT: tuple[str, ...] = (
    "FACE_CONTRACTS_AILAB_API_KEY",
    "FACE_CONTRACTS_ACEDATA_TOKEN",
    "FACE_CONTRACTS_FACEPP_API_KEY",
    "FACE_CONTRACTS_FACEPP_API_SECRET",
    "FACE_CONTRACTS_ADMIN_TOKEN",
)
SECRET_HEADERS = frozenset(
    {
        "ailabapi-api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
    }
)
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "api_secret",
        "apikey",
        "api-key",
        "key",
        "secret",
        "token",
        "access_token",
        "auth_token",
        "password",
        "ailabapi-api-key",
        "authorization",
    }
)
# A secret shorter than this is not searched for in free text: masking every "a" or "42"
# would make reports unreadable. Credentials of these vendors are 32+ characters.
MIN_SECRET_LENGTH = 4

_NAMES = "|".join(
    sorted((re.escape(name) for name in SECRET_FIELDS | SECRET_HEADERS), key=len, reverse=True)
)
# name=value (query strings, forms), "name": "value" (JSON, repr), name: value (headers)
_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<name>(?<![A-Za-z0-9_-])(?:{_NAMES}))
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>(?:Bearer\s+|Basic\s+)?[^\s&"',;}}\]<>]+)
    """
)
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+(?!<redacted>)[A-Za-z0-9._~+/=-]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]+):([^/@\s]+)@")


class Redactor:
    """Masks secrets. ``secrets`` are exact values to mask wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {secret for secret in secrets if secret and len(secret) >= MIN_SECRET_LENGTH}
        forms: set[str] = set()
        for secret in values:
            forms.update(_encoded_forms(secret))
        # Longest first, so a secret that contains another is masked whole.
        self._forms = tuple(sorted(forms, key=len, reverse=True))
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in self._forms)) if self._forms else None
        )

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()
    ) -> Redactor:
        """A redactor for the credentials in the environment (:data:`SECRET_ENVIRONMENT`)."""
        env = os.environ if environ is None else environ
        return cls([*(env.get(name, "") for name in SECRET_ENVIRONMENT), *extra])

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that also masks ``secrets``."""
        merged = Redactor(secrets)
        merged._forms = tuple(sorted({*self._forms, *merged._forms}, key=len, reverse=True))
        merged._pattern = (
            re.compile("|".join(re.escape(form) for form in merged._forms))
            if merged._forms
            else None
        )
        return merged

    def text(self, text: str) -> str:
        """Free text (messages, log lines, tracebacks) with every secret masked."""
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
        text = _ASSIGNMENT.sub(_mask_assignment, text)
        return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with credential headers masked and secrets in others masked."""
        return {
            name: MASK if name.lower() in SECRET_HEADERS else self.text(str(value))
            for name, value in headers.items()
        }

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Form fields or a JSON object: credential fields masked, the rest redacted deeply."""
        return {
            str(name): MASK if str(name).lower() in SECRET_FIELDS else self.json(value)
            for name, value in fields.items()
        }

    def json(self, value: Any) -> Any:
        """A JSON value with credential members masked and secrets in strings masked."""
        if isinstance(value, dict):
            return self.fields(value)
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def url(self, url: str) -> str:
        """A URL with its password, credential query parameters and secrets masked."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else f"{MASK}@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, MASK if k.lower() in SECRET_FIELDS else v) for k, v in pairs], safe="<>"
            )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def bytes(self, data: bytes) -> bytes:
        """Bytes (a body, a file) with every known secret masked; text is read as UTF-8."""
        return self.text(data.decode("utf-8", errors="replace")).encode()

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` holds one of the known secrets (in any encoded form)."""
        return self._pattern is not None and self._pattern.search(text) is not None


def _mask_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith(MASK) or value in {"true", "false", "null", "None"}:
        return match.group(0)
    if value.lower().startswith(("bearer ", "basic ")):
        scheme = value.split(None, 1)[0]
        return f"{match.group('name')}{match.group('sep')}{scheme} {MASK}"
    return f"{match.group('name')}{match.group('sep')}{MASK}"


def _encoded_forms(secret: str) -> set[str]:
    """The spellings a secret takes in URLs, forms, JSON and base64 (Basic auth)."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        orjson.dumps(secret).decode()[1:-1],
    }
    encoded = base64.b64encode(secret.encode()).decode()
    # The base64 of the secret alone; inside longer base64 text the alignment differs, so
    # Basic credentials ("user:secret") are masked by the Bearer/Basic rule instead.
    forms.add(encoded.rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}
