"""Validate a full Face++ dense-landmark response (975 keys) read from bytes, valid and invalid.

Side by side, in one run: orjson.loads of the same bytes (the floor); face_contracts.validate
on the valid answer (the msgspec decoder compiled from the schema proves it valid in one
pass), and on the same answer with one key renamed, which it reports with full detail (the
missing key and the unknown one, each at its JSON pointer, from jsonschema_rs's errors); the
judge alone (orjson + jsonschema_rs); and the pure-Python jsonschema validator, for scale.
Targets (issue 14): a valid answer at most 2x the floor, an invalid one at most 10x.

    python benchmarks/bench_validate.py [--write]

--write records the table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import random

import jsonschema
import orjson
from _report import interleaved, machine, today, write_section

from face_contracts import validate
from face_contracts.contracts import contracts

OPERATION = "facepp.thousandlandmark"


def full_response() -> bytes:
    """A complete answer built from the schema's own key lists (all nine groups)."""
    schema = contracts().schemas[contracts().operation(OPERATION).schema_id("response")]
    rng = random.Random(7)
    landmark = {}
    for group in schema["$defs"]["landmark"]["properties"]:
        keys = schema["$defs"][f"group_{group}"]["required"]
        landmark[group] = {
            key: round(rng.uniform(2, 6), 2)
            if key.endswith("_radius")
            else {"x": rng.randint(160, 380), "y": rng.randint(160, 380)}
            for key in keys
        }
    document = {
        "time_used": 339,
        "request_id": "1548051575,97f2634e-cf29-4afa-8bc0-ff48f501828b",
        "face": {
            "landmark": landmark,
            "face_rectangle": {"width": 216, "top": 164, "height": 217, "left": 161},
        },
    }
    return orjson.dumps(document)


def with_one_key_renamed(body: bytes) -> bytes:
    """The same answer with nose_midline_59 spelled nose_midline_60: one key missing, one
    key unknown."""
    document = orjson.loads(body)
    nose = document["face"]["landmark"]["nose"]
    nose["nose_midline_60"] = nose.pop("nose_midline_59")
    return orjson.dumps(document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="record the results in benchmarks/README.md"
    )
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()

    body = full_response()
    broken = with_one_key_renamed(body)
    keys = sum(len(group) for group in orjson.loads(body)["face"]["landmark"].values())
    assert validate(OPERATION, "response", body).valid
    assert validate(OPERATION, "response", broken).rules() == {
        ("required", "/face/landmark/nose/nose_midline_59"),
        ("additionalProperties", "/face/landmark/nose/nose_midline_60"),
    }
    schema_id = contracts().operation(OPERATION).schema_id("response")
    judge = contracts().validator(schema_id)
    reference = jsonschema.Draft202012Validator(
        contracts().schemas[schema_id], registry=contracts().registry
    )
    assert reference.is_valid(orjson.loads(body))

    valid_row = "face_contracts.validate(bytes), valid answer"
    invalid_row = "face_contracts.validate(bytes), one key renamed, full failure detail"
    judge_row = "orjson.loads + jsonschema_rs is_valid, valid answer"
    fast = interleaved(
        {
            "floor": lambda: orjson.loads(body),
            valid_row: lambda: validate(OPERATION, "response", body),
            invalid_row: lambda: validate(OPERATION, "response", broken),
            judge_row: lambda: judge.is_valid(orjson.loads(body)),
        },
        rounds=args.rounds,
        loops=200,
    )
    reference_valid = "jsonschema Draft202012Validator is_valid, valid answer"
    reference_invalid = "jsonschema Draft202012Validator iter_errors, one key renamed"
    slow = interleaved(
        {
            "floor": lambda: orjson.loads(body),
            reference_valid: lambda: reference.is_valid(orjson.loads(body)),
            reference_invalid: lambda: list(reference.iter_errors(orjson.loads(broken))),
        },
        rounds=max(3, args.rounds // 3),
        loops=5,
    )
    rows = [("orjson.loads (floor)", fast["floor"], 1.0)]
    rows += [(name, fast[name], fast[name] / fast["floor"]) for name in (valid_row, invalid_row)]
    rows += [(judge_row, fast[judge_row], fast[judge_row] / fast["floor"])]
    rows += [
        (name, slow[name], slow[name] / slow["floor"])
        for name in (reference_valid, reference_invalid)
    ]
    table = [
        f"Full Face++ dense-landmark response: {len(body):,} bytes, {keys} landmark keys; the "
        "invalid one has nose_midline_59 spelled nose_midline_60. "
        f"{today()}, {machine()}. Command: `python benchmarks/bench_validate.py --write`.",
        "",
        "| read from bytes and validated | µs per document | × floor |",
        "|---|---:|---:|",
    ]
    table += [f"| {name} | {seconds * 1e6:,.1f} | {ratio:.2f} |" for name, seconds, ratio in rows]
    table += [
        "",
        "Targets (issue 14): face_contracts.validate at most 2× the floor for a valid answer "
        "and at most 10× for an invalid one with its full failure detail "
        "(`/face/landmark/nose/nose_midline_59: required key 'nose_midline_59' is missing "
        "[required]` and `/face/landmark/nose/nose_midline_60: key 'nose_midline_60' is not "
        "allowed here [additionalProperties]`). One judge, jsonschema_rs: its errors carry the "
        "instance path, the keyword and its data (the missing key, the unexpected keys), from "
        "which the failures are built. Bytes first meet a msgspec decoder compiled from the "
        "schema, which reads and checks them in one pass and accepts only what the judge "
        "accepts (tests/test_fast_path.py), so a valid answer costs less than parsing it; "
        "when it refuses, orjson and the judge decide. The jsonschema rows (the pure-Python "
        "reference implementation, each against its own floor) are there for scale.",
    ]
    print("\n".join(table))
    if args.write:
        write_section("validate", "\n".join(table))


if __name__ == "__main__":
    main()
