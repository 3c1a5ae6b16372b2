"""Property tests of the strategies: every valid draw is accepted, every invalid draw is
rejected for exactly its labelled reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from face_contracts import operations, validate
from face_contracts.strategies import documents, exchanges, images, invalid_documents

OPERATIONS = [op.id for op in operations()]
KINDS = ["request", "response", "error"]
CASES = [(op, kind) for op in OPERATIONS for kind in KINDS]


@pytest.mark.parametrize(("operation", "kind"), CASES)
def test_valid_draws_are_accepted(operation: str, kind: str) -> None:
    @given(documents(operation, kind))
    def check(document: object) -> None:
        report = validate(operation, kind, document)
        assert report.valid, str(report)

    check()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_responses_answer_their_request(operation: str) -> None:
    @given(exchanges(operation))
    def check(exchange: object) -> None:
        request = exchange.request  # type: ignore[attr-defined]
        body = exchange.body  # type: ignore[attr-defined]
        assert validate(operation, "request", request).valid
        report = validate(operation, "response", body, request=request, status=200)
        assert report.valid, str(report)

    check()


@pytest.mark.parametrize(("operation", "kind"), CASES)
def test_invalid_draws_fail_for_their_label(operation: str, kind: str) -> None:
    @given(invalid_documents(operation, kind))
    def check(case: object) -> None:
        report = validate(
            operation,
            kind,
            case.document,  # type: ignore[attr-defined]
            request=case.request,  # type: ignore[attr-defined]
            status=case.status,  # type: ignore[attr-defined]
        )
        assert not report.valid
        assert (case.rule, case.pointer) in case.expected  # type: ignore[attr-defined]
        assert report.rules() == case.expected, case.description  # type: ignore[attr-defined]

    check()


def _exchange_faces(exchange: object) -> int:
    return len(exchange.scene.faces)  # type: ignore[attr-defined]


def test_failing_property_shrinks_to_a_small_readable_case() -> None:
    """A property failing on pictures with two faces shrinks to a case a person can read:
    few faces in a small picture. Asserted as bounds on the shrunk case, not as the exact
    size Hypothesis reaches (how far it shrinks is its business); derandomized and without
    an example database, so every run sees the same search."""
    from hypothesis import find

    found = find(
        exchanges("facepp.detect"),
        lambda exchange: _exchange_faces(exchange) >= 2,
        settings=settings(database=None, derandomize=True),
    )
    faces = found.scene.faces
    assert len(found.body["faces"]) == len(faces)
    assert 2 <= len(faces) <= 3
    # Unshrunk pictures are 100 to 480 px a side; a shrunk one stays near the bottom.
    assert found.scene.width <= 200
    assert found.scene.height <= 200


@pytest.mark.parametrize("operation", OPERATIONS)
def test_invalid_draws_cover_many_labels(operation: str) -> None:
    labels: set[str] = set()

    @settings(max_examples=60)
    @given(st.sampled_from(KINDS).flatmap(lambda kind: invalid_documents(operation, kind)))
    def collect(case: object) -> None:
        labels.add(case.label)  # type: ignore[attr-defined]

    collect()
    assert {"missing_key", "wrong_type"} <= labels, labels


@given(images(formats=("PNG",), width=st.just(120), height=st.just(90), byte_size=50_000))
def test_images_have_the_asked_format_size_and_bytes(data: bytes) -> None:
    from face_contracts.images import decode_check, read_header

    info = read_header(data)
    assert (info.format, info.width, info.height, info.byte_size) == ("PNG", 120, 90, 50_000)
    decode_check(data)


def test_module_examples_run() -> None:
    import doctest

    import face_contracts.strategies

    result = doctest.testmod(face_contracts.strategies)
    assert result.attempted > 0
    assert result.failed == 0
