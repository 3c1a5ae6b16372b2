"""face-client: small clients for three face-landmark vendors, an example application of
face-contracts (its tests run against the face-contracts mocks, never the vendors)."""

from face_client.acedata import AceDataClient
from face_client.ailab import AILabClient
from face_client.facepp import FaceppClient
from face_client.models import (
    Box,
    Face,
    FaceClientError,
    Point,
    ServiceUnavailableError,
    UnexpectedAnswerError,
    VendorError,
)

__all__ = [
    "AILabClient",
    "AceDataClient",
    "Box",
    "Face",
    "FaceClientError",
    "FaceppClient",
    "Point",
    "ServiceUnavailableError",
    "UnexpectedAnswerError",
    "VendorError",
]
