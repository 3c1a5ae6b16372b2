"""What a live-suite case is (:class:`Case`, :class:`Expect`) and the helpers every vendor's
cases share: the picture mistakes a client can make and the credential cases.

A leaf: each vendor's documents module builds its cases from these
(``vendors/<vendor>_documents.py``) and :mod:`.cases` gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from face_contracts.contracts import contracts

__all__ = [
    "FACE",
    "GROUP",
    "NO_FACE",
    "Case",
    "Expect",
    "auth_cases",
    "below_minimum",
    "expect_error",
    "expect_success",
    "picture_cases",
]

Outcome = Literal["success", "error", "either"]
Source = Literal["file", "base64", "url", "token"]
Auth = Literal["valid", "wrong", "missing", "missing_secret"]

FACE = "astronaut.png"  # one face: NASA portrait of Eileen Collins (public domain)
GROUP = "group.jpg"  # three faces: the same portrait three times, in three sizes
NO_FACE = "uniform.png"  # one flat colour


@dataclass(frozen=True)
class Expect:
    """What the documentation says the answer is.

    ``outcome``: ``success`` (HTTP 200, a success body), ``error`` (an error envelope) or
    ``either``. ``codes``: the catalogue codes an error may carry (empty: any documented
    one). ``faces``: on success, the least and most faces (None: no upper bound).
    ``inferred``: the documentation is silent, this is an inference (misses are warnings).
    """

    outcome: Outcome
    codes: frozenset[str] = frozenset()
    faces: tuple[int, int | None] | None = None
    inferred: bool = False


@dataclass(frozen=True)
class Case:
    """One documented request and its expected answer.

    ``fields``: options, as form fields or JSON members, as the operation takes them.
    ``image``: a picture of ``fixtures/images/`` (None: the request carries none).
    ``source``: how the picture travels: a multipart ``file``, a ``base64`` form field, an
    image ``url`` (the vendor downloads it), or a face_``token`` from a detect call on it.
    ``oversize``: the picture is padded one byte past the vendor's byte limit.
    ``mock_faces``: how many faces the local mock is told to see (the admin API), so a
    scene a real vendor reads from the photograph is the same on the mock. ``auth``: the
    credentials sent (``missing_secret``: the first part only). ``calls``: HTTP calls the
    case makes (for the call budget).
    """

    operation: str
    name: str
    description: str
    expect: Expect
    fields: tuple[tuple[str, Any], ...] = ()
    image: str | None = FACE
    source: Source = "file"
    oversize: bool = False
    mock_faces: int | None = None
    auth: Auth = "valid"
    calls: int = 1

    @property
    def id(self) -> str:
        """``operation/name``: the test id and the report's name for the case."""
        return f"{self.operation}/{self.name}"

    @property
    def vendor(self) -> str:
        """The vendor's name (``ailab``, ``acedata``, ``facepp``)."""
        return contracts().operation(self.operation).vendor


def expect_success(low: int = 1, high: int | None = 1, *, inferred: bool = False) -> Expect:
    """A success answer with ``low`` to ``high`` faces (None: no upper bound)."""
    return Expect("success", faces=(low, high), inferred=inferred)


def expect_error(*codes: str, inferred: bool = False) -> Expect:
    """An error answer carrying one of ``codes``."""
    return Expect("error", frozenset(codes), inferred=inferred)


def below_minimum(operation: str, side: int) -> bool:
    """Whether a ``side`` x ``side`` picture is under the documented minimum."""
    minimum = contracts().mock_data[operation].get("image", {}).get("min_pixels")
    if not minimum:
        return False
    width, inclusive = int(minimum["width"]), bool(minimum.get("inclusive", True))
    return side < width if inclusive else side <= width


def picture_cases(
    operation: str, codes: dict[str, Expect], fields: tuple[tuple[str, Any], ...] = ()
) -> list[Case]:
    """The picture mistakes a client can make, for an operation that takes a file: those
    named in ``codes`` (``unsupported-format-gif``, ``truncated-jpeg``, ``tiny-20x20``,
    ``huge-5000x5000``, ``over-byte-limit``), each with its expected answer, sent with
    ``fields``."""
    described = {
        "unsupported-format-gif": ("wrong-format.gif", False, "a GIF, which is not accepted"),
        "truncated-jpeg": ("truncated.jpg", False, "a JPEG cut short: the pixels do not decode"),
        "tiny-20x20": ("tiny.png", False, "20x20 pixels, under the documented minimum"),
        "huge-5000x5000": ("huge.png", False, "5000x5000 pixels, over the documented maximum"),
        "over-byte-limit": (FACE, True, "one byte over the documented byte limit"),
    }
    return [
        Case(
            operation,
            name,
            f"the picture is {text}",
            codes[name],
            fields,
            image=image,
            oversize=oversize,
        )
        for name, (image, oversize, text) in described.items()
        if name in codes
    ]


def auth_cases(operation: str, wrong: Expect, missing: Expect | None = None) -> list[Case]:
    """A credential that does not exist, and none at all."""
    return [
        Case(operation, "wrong-credential", "credentials that do not exist", wrong, auth="wrong"),
        Case(
            operation,
            "missing-credential",
            "no credentials at all",
            missing or wrong,
            auth="missing",
        ),
    ]
