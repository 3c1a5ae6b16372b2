"""The msgspec fast path never says valid where the judge (jsonschema_rs) says invalid.

``validate`` reads raw bytes with a decoder compiled from the schema and, when it accepts,
asks nothing else; so every document a decoder accepts must be one the judge accepts. These
tests check that on generated documents of every operation and kind the decoders cover:
valid ones (which the decoders should also accept, or the fast path is never taken),
invalid ones labelled with their fault, documents with any part replaced by any JSON value,
strings and numbers at the edges where Python and JSON Schema read differently (a trailing
newline, a non-ASCII digit, 1.0 for an integer, numbers past 64 bits), and keys written
twice. Patterns are checked on their own, against the judge, on strings drawn from them.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from face_contracts import operations, validate
from face_contracts._msgspec_compiler import NotCompilableError, python_pattern
from face_contracts.contracts import contracts
from face_contracts.strategies import documents, invalid_documents

KINDS = ("request", "response", "error")
ALL = [(op.id, kind) for op in operations() for kind in KINDS]


def _schema_id(operation: str, kind: str) -> str:
    return contracts().operation(operation).schema_id(kind)


COVERED = [(op, kind) for op, kind in ALL if contracts().decoder(_schema_id(op, kind)) is not None]

_JSON = st.recursive(  # numbers orjson writes; larger ones are among the edges
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def test_the_decoders_cover_every_success_answer() -> None:
    """The answers are where speed matters (bench_validate: the full Face++ answer); a
    schema change that stops them compiling shows here, not only as a slower benchmark."""
    covered = set(COVERED)
    for op in operations():
        assert (op.id, "response") in covered, op.id
    for variant_id in contracts().operation("ailab.face_analyzer_advanced").variants["response"]:
        assert contracts().decoder(
            contracts().operation("ailab.face_analyzer_advanced").schema_id("response", variant_id)
        )


# --- documents ------------------------------------------------------------------------------


def _paths(document: Any, where: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [where]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*where, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*where, index))
    return found


def _get(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def _replaced(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


def _string_edges(value: str) -> list[str]:
    digits = value.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return [
        value + "\n",
        value + "\r\n",
        "\n" + value,
        value + " ",
        value + "\x00",
        value + "\u2028",
        value[:-1],
        "",
        digits,
        value.upper(),
        value.lower(),
    ]


def _number_edges(value: float) -> list[Any]:
    return [float(value), value + 0.5, -value, value * 10**20, 2**64, 2**53 + 1, True]


def _edges(value: Any) -> list[Any]:
    if isinstance(value, str):
        return _string_edges(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_edges(value)
    return [None]


def _with_duplicate(document: Any, path: tuple[str | int, ...], value: Any) -> bytes | None:
    """``document`` as JSON text with the key at ``path`` written twice: first ``value``,
    then its own (the judge reads only the last)."""
    if not path or not isinstance(path[-1], str):
        return None
    parent = _get(document, path[:-1])
    key = path[-1]
    marker = "__face_contracts_duplicate__"
    text = orjson.dumps(_replaced(document, path[:-1], {marker: None, **parent})).decode()
    duplicate = orjson.dumps(key).decode() + ":" + orjson.dumps(value).decode()
    return text.replace(orjson.dumps(marker).decode() + ":null", duplicate, 1).encode()


def _candidates(operation: str, kind: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """(how it was made, raw bytes) of documents near the edge of the schema."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, bytes]:
        how = draw(st.sampled_from(["valid", "invalid", "replaced", "edge", "duplicate"]))
        if how == "invalid":
            return how, orjson.dumps(draw(invalid_documents(operation, kind)).document)
        valid = draw(documents(operation, kind))
        if how == "valid":
            return how, orjson.dumps(valid)
        path = draw(st.sampled_from(_paths(valid)))
        if how == "replaced":
            return how, orjson.dumps(_replaced(valid, path, draw(_JSON)))
        value = draw(st.sampled_from(_edges(_get(valid, path))))
        if how == "edge":
            return how, _raw(valid, path, value)
        return how, _with_duplicate(valid, path, draw(_JSON)) or orjson.dumps(valid)

    return build()


@pytest.mark.parametrize(("operation", "kind"), COVERED)
def test_what_the_decoder_accepts_the_judge_accepts(operation: str, kind: str) -> None:
    schema_id = _schema_id(operation, kind)
    decoder = contracts().decoder(schema_id)
    judge = contracts().validator(schema_id)
    assert decoder is not None

    @given(_candidates(operation, kind))
    def check(candidate: tuple[str, bytes]) -> None:
        how, raw = candidate
        try:
            decoder.decode(raw)
        except msgspec.DecodeError:
            accepted = False
        else:
            accepted = True
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            assert not accepted, raw
            return
        if accepted:
            assert judge.is_valid(parsed), (how, raw[:400])
        if how == "valid":
            assert accepted, "a valid document the fast path refuses"
        # And validate's verdict on the bytes is the judge's, failure for failure (a str
        # given to validate is a raw body, so a document that is a JSON string is left out).
        if not isinstance(parsed, str):
            from_bytes = validate(operation, kind, raw).failures
            assert from_bytes == validate(operation, kind, parsed).failures

    check()


def _raw(document: Any, path: tuple[str | int, ...], value: Any) -> bytes:
    try:
        return orjson.dumps(_replaced(document, path, value))
    except orjson.JSONEncodeError:  # an integer past 64 bits: written by hand
        marker = "__face_contracts_number__"
        text = orjson.dumps(_replaced(document, path, marker)).decode()
        return text.replace(f'"{marker}"', str(value), 1).encode()


@pytest.mark.parametrize(("operation", "kind"), COVERED)
def test_every_value_at_its_edges(operation: str, kind: str) -> None:
    """Each string of a valid document (and numbers, up to 60 spread over the document) put
    at each of its edges in turn: whatever the decoder accepts, the judge accepts."""
    schema_id = _schema_id(operation, kind)
    decoder = contracts().decoder(schema_id)
    judge = contracts().validator(schema_id)
    assert decoder is not None

    @settings(max_examples=3)
    @given(documents(operation, kind))
    def check(valid: Any) -> None:
        leaves = [path for path in _paths(valid) if not isinstance(_get(valid, path), dict | list)]
        strings = [path for path in leaves if isinstance(_get(valid, path), str)]
        others = [path for path in leaves if path not in strings]
        for path in strings + others[:: max(1, len(others) // 60)]:
            for value in _edges(_get(valid, path)):
                raw = _raw(valid, path, value)
                try:
                    decoder.decode(raw)
                except msgspec.DecodeError:
                    continue
                assert judge.is_valid(orjson.loads(raw)), (path, value)

    check()


# --- patterns -------------------------------------------------------------------------------


def _patterns() -> list[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for schema in contracts().schemas.values():
        walk(schema)
    return sorted(found)


@pytest.mark.parametrize("pattern", _patterns())
def test_a_compiled_pattern_matches_what_the_judge_matches(pattern: str) -> None:
    """On strings drawn from the pattern and those strings at the edges (a trailing newline
    above all: Python's ``$`` matches before one, JSON Schema's does not)."""
    try:
        translated = re.compile(python_pattern(pattern))
    except NotCompilableError:
        pytest.skip("not compiled: the judge alone reads this pattern")
    judge = jsonschema_rs.validator_for({"pattern": pattern})

    @given(st.from_regex(pattern, fullmatch=True) | st.text(max_size=8))
    def check(value: str) -> None:
        for candidate in [value, *_string_edges(value)]:
            assert bool(translated.search(candidate)) == judge.is_valid(candidate), candidate

    check()


def test_every_shipped_pattern_compiles() -> None:
    """All of them use the shared syntax today; one that stops compiling makes its schema
    slower, so it should be a decision, not an accident."""
    for pattern in _patterns():
        python_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "translated"),
    [
        ("^[0-9a-f]{32}$", r"^[0-9a-f]{32}\Z"),
        ("^a\\$$", r"^a\$\Z"),
        ("^(?:x|y)+?$", r"^(?:x|y)+?\Z"),
        ("^request/", "^request/"),
        ("[^ \\t\\r\\n]+", "[^ \\t\\r\\n]+"),
    ],
)
def test_patterns_are_translated(pattern: str, translated: str) -> None:
    assert python_pattern(pattern) == translated


@pytest.mark.parametrize(
    "pattern",
    [
        "^\\d+$",  # Unicode digits in Python, ASCII in ECMA-262
        "^\\w$",
        "\\s",
        "\\bword",
        "^a$|^b$",  # '$' before the end
        "a^b",
        "(?=a)b",
        "(?i)a",
        "(?P<name>a)",
        "[[:alpha:]]",
        "[a-z&&[^x]]",
        "[a--b]",
        "[]a]",
        "a++",
        "a{2}+",
        "a{,2}",
        "\\u0041",
        "(a)\\1",
        "[abc",
    ],
)
def test_patterns_outside_the_shared_syntax_are_not_compiled(pattern: str) -> None:
    with pytest.raises(NotCompilableError):
        python_pattern(pattern)
