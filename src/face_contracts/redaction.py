"""Secrets out of everything a person or a file can see: the one redaction used by the mock's
journal and admin views, the pytest plugin's reports, the live suite, recordings, the proxy
and log lines.

Two nets, both always on. Known names: a header, form field, JSON key or URL query
parameter named like a credential (``authorization``, ``x-api-key``, ``api_secret``,
``client_secret``, ``token``, ``sig``, ``X-Amz-Signature``...) has its value masked whatever
it holds; an auth header keeps its scheme (``Token <redacted>``) because the scheme is what
a contract checks. Known values: the secrets actually in use (the ``FACE_CONTRACTS_*``
credential variables, the credentials a mock is configured with, or any given) are masked
wherever they appear, also URL-, JSON- and base64-encoded. URL user-info passwords are
masked in URLs and in free text.

This module imports nothing of the engine: reports and tools can use it cheaply.

>>> redactor = Redactor(["s3cr3t-value"])
>>> redactor.text("POST /x?api_key=abc failed for s3cr3t-value")
'POST /x?api_key=<redacted> failed for <redacted>'
>>> redactor.headers({"Authorization": "Token abc", "accept": "application/json"})
{'Authorization': 'Token <redacted>', 'accept': 'application/json'}
"""

from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "SECRET_ENVIRONMENT",
    "Redactor",
    "is_secret_name",
]

MASK = "<redacted>"
"""What a secret becomes in journals, reports, recordings, logs and the effective settings."""

SECRET_ENVIRONMENT: tuple[str, ...] = (
    "FACE_CONTRACTS_AILAB_API_KEY",
    "FACE_CONTRACTS_ACEDATA_TOKEN",
    "FACE_CONTRACTS_FACEPP_API_KEY",
    "FACE_CONTRACTS_FACEPP_API_SECRET",
    "FACE_CONTRACTS_ADMIN_TOKEN",
)
"""The environment variables whose values are credentials."""

_MEMO_LENGTH = 512  # texts up to this long are remembered once masked
_MEMO_SIZE = 4096  # and at most this many (then the memo starts again)

# A secret shorter than this is not searched for in free text: masking every "a" or "42"
# would make reports unreadable. Credentials of these vendors are 32+ characters.
MIN_SECRET_LENGTH = 4

# Names compared after lower-casing and turning "-" into "_". Exact names first, then
# endings: "face_token" (an id the vendor issues) is not a secret, "client_secret" is.
_SECRET_NAMES = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "key",
        "apikey",
        "api_key",
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
        "credential",
        "credentials",
        "auth",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "session_token",
        "security_token",
        "bearer",
        "private_key",
    }
)
_SECRET_ENDINGS = (
    "_api_key",
    "_apikey",
    "_secret",
    "_password",
    "_signature",
    "_credential",
    "_access_token",
    "_auth_token",
    "_security_token",
    "_session_token",
    "_private_key",
)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a header, field, key or query parameter called ``name`` holds a credential
    (``Authorization``, ``ailabapi-api-key``, ``api_secret``, ``X-Amz-Signature``, ``sig``)."""
    normal = name.strip().lower().replace("-", "_")
    return normal in _SECRET_NAMES or normal.endswith(_SECRET_ENDINGS)


# A name that looks like a credential, in text: the exact names and the endings above.
_NAME_PATTERN = (
    r"(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-]*(?:"
    + "|".join(re.escape(e.lstrip("_")).replace("_", "[_-]") for e in _SECRET_ENDINGS)
    + r")|"
    + "|".join(
        re.escape(n).replace("_", "[_-]") for n in sorted(_SECRET_NAMES, key=len, reverse=True)
    )
    + r")(?![A-Za-z0-9_-])"
)
_SCHEMES = "Bearer|Basic|Token|Digest|ApiKey|Negotiate|HMAC|AWS4-HMAC-SHA256"
# name=value (query strings, forms), "name": "value" (JSON, repr), name: value (headers).
# After a credential header name, a scheme word ("Bearer", "Token", "Basic") is kept.
_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<name>{_NAME_PATTERN})
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<scheme>(?:(?:{_SCHEMES})\s+(?=[^\s&"',;}}\]<>]))?)
    (?P<value>[^\s&"',;}}\]<>]+)
    """
)
# Words every match of _ASSIGNMENT contains (the last word of each name and ending), and
# of _AUTH_SCHEME: a text holding none of them (most header values: a media type with a
# random multipart boundary, a user agent) skips those searches, the slow part of masking.
_ASSIGNMENT_WORDS = tuple(
    sorted(
        {name.split("_")[-1] for name in _SECRET_NAMES}
        | {e.split("_")[-1] for e in _SECRET_ENDINGS}
    )
)
_SCHEME_WORDS = tuple(scheme.lower() for scheme in _SCHEMES.split("|"))
# "Bearer abc" anywhere, even without a header name in front.
_AUTH_SCHEME = re.compile(rf"(?i)\b({_SCHEMES})\s+(?!<redacted>)[A-Za-z0-9._~+/=:-]{{4,}}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]+):([^/@\s]+)@")
_HEADER_VALUE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s+\S")


def _masked_auth_value(value: str) -> str:
    """A credential header's value: the scheme kept ("Bearer <redacted>"), the rest masked."""
    match = _HEADER_VALUE.match(value)
    return f"{match.group(1)} {MASK}" if match else MASK


class Redactor:
    """Masks secrets. ``secrets`` are exact values to mask wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms.update(_encoded_forms(secret))
        self._set_forms(forms)

    def _set_forms(self, forms: set[str]) -> None:
        self._memo: dict[str, str] = {}
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
        merged._set_forms({*self._forms, *merged._forms})
        return merged

    def text(self, text: str) -> str:
        """Free text (messages, log lines, tracebacks, bodies) with every secret masked."""
        if len(text) <= _MEMO_LENGTH:
            # Header values and form fields repeat from call to call: mask each once.
            masked = self._memo.get(text)
            if masked is None:
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
                masked = self._memo[text] = self._masked(text)
            return masked
        return self._masked(text)

    def _masked(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        if "://" in text:
            text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
        # Only ASCII text is screened: the patterns ignore case the Unicode way (the long s,
        # U+017F, is an "s" to them), which str.lower() does not follow.
        lowered = text.lower() if text.isascii() else None
        if lowered is None or any(word in lowered for word in _ASSIGNMENT_WORDS):
            text = _ASSIGNMENT.sub(_mask_assignment, text)
        if lowered is None or any(word in lowered for word in _SCHEME_WORDS):
            text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", text)
        return text

    def header(self, name: str, value: str) -> str:
        """One header value: a credential header keeps only its auth scheme."""
        if is_secret_name(name):
            return _masked_auth_value(value)
        return self.text(value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers (any case) with credential headers masked and secrets in others masked."""
        return {name: self.header(name, str(value)) for name, value in headers.items()}

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Form fields or a JSON object: credential fields masked, the rest redacted deeply
        (URLs lose passwords and signed-URL parameters)."""
        return {
            str(name): MASK if is_secret_name(str(name)) else self.json(value)
            for name, value in fields.items()
        }

    def json(self, value: Any) -> Any:
        """A JSON value with credential members masked and secrets in strings masked."""
        if isinstance(value, dict):
            return self.fields(value)
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.url(value) if "://" in value else self.text(value)
        return value

    def url(self, url: str) -> str:
        """A URL with its password, credential query parameters and secrets masked."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        if not parts.scheme or not parts.netloc:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else f"{MASK}@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="<>")
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
    return f"{match.group('name')}{match.group('sep')}{match.group('scheme')}{MASK}"


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
    # Basic credentials ("user:secret") are masked by the auth-scheme rule instead.
    forms.add(encoded.rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}
