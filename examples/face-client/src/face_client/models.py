"""What the clients return and raise, the same for every vendor."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Box",
    "Face",
    "FaceClientError",
    "Point",
    "ServiceUnavailableError",
    "UnexpectedAnswerError",
    "VendorError",
]


@dataclass(frozen=True, slots=True)
class Point:
    """A landmark in image pixels (x to the right, y downwards)."""

    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in image pixels."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Face:
    """One face: its box when the vendor gives one, and its landmarks by the vendor's names
    (a list position, as text, where the vendor gives a plain list)."""

    box: Box | None
    landmarks: dict[str, Point] = field(default_factory=dict)


class FaceClientError(Exception):
    """Base of every error the clients raise."""


class VendorError(FaceClientError):
    """The vendor answered with an error: its HTTP status, its error code (``code``) and
    message, read from the vendor's own error envelope."""

    def __init__(self, vendor: str, status: int, code: str, message: str) -> None:
        self.vendor = vendor
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{vendor} answered HTTP {status}: {code}: {message}")


class ServiceUnavailableError(FaceClientError):
    """No answer at all: the connection failed, dropped or timed out."""


class UnexpectedAnswerError(FaceClientError):
    """The vendor answered success in a shape this client does not know (a key renamed or
    gone): its format changed, and guessing would hand callers wrong data."""

    def __init__(self, vendor: str, problem: str) -> None:
        self.vendor = vendor
        self.problem = problem
        super().__init__(f"{vendor} answered in an unexpected format: {problem}")
