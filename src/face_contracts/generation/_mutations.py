"""Invalid documents: one rule broken on purpose, and the failures that must follow.

A mutation takes a valid document, picks a site (a value and the subschema it must obey)
and breaks one rule there. The label says which rule; ``expected`` lists the exact
``(rule, pointer)`` failures a correct validator reports, computed from the mutation and
the schema keywords at the site, never by asking the validator.
"""

from __future__ import annotations

import copy
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from face_contracts._report import pointer
from face_contracts.generation._schema import flatten, property_schema

__all__ = ["Invalid", "Site", "broken_invariant", "mutations_at", "sites"]


@dataclass(frozen=True)
class Invalid:
    """An invalid document, the rule it breaks and what validate must report.

    ``label`` names the kind of fault (``missing_key``, ``extra_key``, ``misnamed_key``,
    ``misplaced_key``, ``wrong_type``, ``out_of_range``, ``wrong_enum``, ``wrong_count``,
    ``bad_pattern``, ``too_short``, ``broken_invariant``, ``bad_image``...); ``rule`` and
    ``pointer`` name the broken rule and where; ``expected`` is every ``(rule, pointer)``
    failure validate reports for it (a renamed key, say, is a missing key and an unknown
    one). ``request`` and ``status`` are the context to validate with, when the rule needs it.
    """

    document: Any
    label: str
    rule: str
    pointer: str
    expected: frozenset[tuple[str, str]]
    description: str
    request: Any = None
    status: int | None = None
    variant: str | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form: the document and its label."""
        data: dict[str, Any] = {
            "label": self.label,
            "rule": self.rule,
            "pointer": self.pointer,
            "expected": [{"rule": rule, "pointer": where} for rule, where in sorted(self.expected)],
            "description": self.description,
            "document": self.document,
        }
        if self.status is not None:
            data["status"] = self.status
        if self.request is not None:
            data["request"] = self.request
        return data


def broken_invariant(
    document: Any, rule: str, where: str, description: str, request: Any = None
) -> Invalid:
    """A document breaking the invariant ``rule`` at ``where``, and nothing else (with the
    request to validate it with, when the rule needs one)."""
    return Invalid(
        document,
        "broken_invariant",
        rule,
        where,
        frozenset({(rule, where)}),
        description,
        request=request,
    )


@dataclass(frozen=True)
class Site:
    """A value in a document and the (flattened) subschema it must satisfy."""

    path: tuple[str | int, ...]
    flat: dict[str, Any]
    base: str
    parent: dict[str, Any] | None  # the flattened schema of the containing object, if any

    @property
    def pointer(self) -> str:
        return pointer(self.path)


def sites(document: Any, schema: Any, base: str) -> list[Site]:
    """Every value of ``document`` whose subschema is known without ambiguity."""
    found: list[Site] = []
    _walk(document, schema, base, (), None, found)
    return found


def _walk(
    value: Any,
    node: Any,
    base: str,
    path: tuple[str | int, ...],
    parent: dict[str, Any] | None,
    found: list[Site],
) -> None:
    flat = flatten(node, base) if node is not True else {}
    found.append(Site(path, flat, base, parent))
    if "oneOf" in flat or "anyOf" in flat:
        if isinstance(value, dict) and all(
            isinstance(b, dict) and set(b) == {"required"}
            for b in flat.get("oneOf", flat.get("anyOf", []))
        ):
            pass  # "one of these keys": the object's own properties are unambiguous
        else:
            return
    if isinstance(value, dict) and "properties" in flat:
        for key, child in value.items():
            if key in flat["properties"]:
                sub, sub_base = property_schema(flat, key)
                _walk(child, sub, sub_base, (*path, key), flat, found)
    elif isinstance(value, dict) and isinstance(flat.get("additionalProperties"), dict):
        for key, child in value.items():
            _walk(child, flat["additionalProperties"], base, (*path, key), flat, found)
    elif isinstance(value, list) and "items" in flat:
        for index, child in enumerate(value):
            _walk(child, flat["items"], base, (*path, index), None, found)


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    mutated = copy.deepcopy(document)
    if not path:
        return value
    target = mutated
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return mutated


def _get(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


_JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    for name, kind in _JSON_TYPES.items():
        if isinstance(value, kind):
            return name
    return "unknown"


def _type_allows(declared: str | list[str], value: Any) -> bool:
    kinds = [declared] if isinstance(declared, str) else declared
    actual = _json_type(value)
    return actual in kinds or (actual == "integer" and "number" in kinds)


def leaf_failures(flat: dict[str, Any], value: Any, where: str) -> set[tuple[str, str]]:
    """The keywords of a leaf subschema that ``value`` breaks (type, enum, const, bounds,
    string and array sizes, pattern) as ``(keyword, pointer)``."""
    broken: set[tuple[str, str]] = set()
    if "type" in flat and not _type_allows(flat["type"], value):
        broken.add(("type", where))
    if "enum" in flat and not any(_same(value, option) for option in flat["enum"]):
        broken.add(("enum", where))
    if "const" in flat and not _same(value, flat["const"]):
        broken.add(("const", where))
    if isinstance(value, int | float) and not isinstance(value, bool):
        for keyword, holds in (
            ("minimum", operator.ge),
            ("maximum", operator.le),
            ("exclusiveMinimum", operator.gt),
            ("exclusiveMaximum", operator.lt),
        ):
            if keyword in flat and not holds(value, flat[keyword]):
                broken.add((keyword, where))
    if isinstance(value, str):
        if "minLength" in flat and len(value) < flat["minLength"]:
            broken.add(("minLength", where))
        if "maxLength" in flat and len(value) > flat["maxLength"]:
            broken.add(("maxLength", where))
        if "pattern" in flat and not re.search(flat["pattern"], value):
            broken.add(("pattern", where))
    if isinstance(value, list):
        if "minItems" in flat and len(value) < flat["minItems"]:
            broken.add(("minItems", where))
        if "maxItems" in flat and len(value) > flat["maxItems"]:
            broken.add(("maxItems", where))
    return broken


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _presence_failures(flat: dict[str, Any], keys: set[str], where: str) -> set[tuple[str, str]]:
    """What an object with exactly ``keys`` breaks among required/dependentRequired/counts."""
    broken = {("required", f"{where}/{k}") for k in flat.get("required", []) if k not in keys}
    for name, needs in flat.get("dependentRequired", {}).items():
        if name in keys and not set(needs) <= keys:
            broken.add(("dependentRequired", where))
    if "minProperties" in flat and len(keys) < flat["minProperties"]:
        broken.add(("minProperties", where))
    if "maxProperties" in flat and len(keys) > flat["maxProperties"]:
        broken.add(("maxProperties", where))
    for keyword in ("anyOf", "oneOf"):
        branches = flat.get(keyword, [])
        if branches and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
            holding = sum(set(b["required"]) <= keys for b in branches)
            if holding == 0 or (keyword == "oneOf" and holding > 1):
                broken.add((keyword, where))
    return broken


def mutations_at(document: Any, site: Site, choice: int) -> list[Invalid]:
    """The ways to break one rule at ``site``; ``choice`` varies the replacement values."""
    value = _get(document, site.path)
    flat, where = site.flat, site.pointer
    found: list[Invalid] = []

    if isinstance(value, dict) and "properties" in flat:
        present = set(value)
        closed = flat.get("additionalProperties") is False
        for key in flat.get("required", []):
            if key not in value:
                continue
            remaining = dict(value)
            del remaining[key]
            expected = _presence_failures(flat, present - {key}, where)
            found.append(
                Invalid(
                    _set(document, site.path, remaining),
                    "missing_key",
                    "required",
                    f"{where}/{key}",
                    frozenset(expected),
                    f"required key {key!r} is removed",
                )
            )
            if closed:
                wrong = _near_miss(key, set(flat["properties"]), choice)
                renamed = {(wrong if k == key else k): v for k, v in value.items()}
                expected = _presence_failures(flat, set(renamed), where) | {
                    ("additionalProperties", f"{where}/{wrong}")
                }
                found.append(
                    Invalid(
                        _set(document, site.path, renamed),
                        "misnamed_key",
                        "required",
                        f"{where}/{key}",
                        frozenset(expected),
                        f"key {key!r} is renamed {wrong!r}",
                    )
                )
        if closed:
            extra = _near_miss("unexpected_field", set(flat["properties"]) | present, choice)
            grown = {**value, extra: value[next(iter(value))] if value else 0}
            expected = _presence_failures(flat, set(grown), where) | {
                ("additionalProperties", f"{where}/{extra}")
            }
            found.append(
                Invalid(
                    _set(document, site.path, grown),
                    "extra_key",
                    "additionalProperties",
                    f"{where}/{extra}",
                    frozenset(expected),
                    f"unknown key {extra!r} is added",
                )
            )

    replacement_site = site.parent is not None or site.path == () or isinstance(site.path[-1], int)
    if replacement_site and not ({"anyOf", "oneOf"} & set(flat)):
        for label, new in _replacements(flat, value, choice):
            if not site.path and isinstance(new, str):
                continue  # a str document is read as a raw body, not as a JSON string
            expected = leaf_failures(flat, new, where)
            if label == "wrong_type" and isinstance(value, dict | list) and not expected:
                continue
            if not expected or (
                label != "wrong_type" and any(rule == "type" for rule, _ in expected)
            ):
                continue
            rule = (
                next(iter(sorted(expected)))[0]
                if len(expected) == 1
                else _main_rule(label, expected)
            )
            found.append(
                Invalid(
                    _set(document, site.path, new),
                    label,
                    rule,
                    where,
                    frozenset(expected),
                    f"{where or 'the document'} is {new!r:.60}",
                )
            )
    return found


def _main_rule(label: str, expected: set[tuple[str, str]]) -> str:
    rules = {rule for rule, _ in expected}
    for preferred in (
        "type",
        "enum",
        "const",
        "pattern",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
    ):
        if preferred in rules:
            return preferred
    return sorted(rules)[0]


def _replacements(flat: dict[str, Any], value: Any, choice: int) -> list[tuple[str, Any]]:
    """Candidate values that break a leaf rule, each with the label of the fault."""
    options: list[tuple[str, Any]] = []
    declared = flat.get("type")
    others = (
        [
            v
            for v in ({"x": 1}, [1], "text", 7, 2.5, True, None)
            if not _type_allows(declared or [], v)
        ]
        if declared
        else []
    )
    if "enum" in flat or "const" in flat:
        allowed = flat.get("enum", [flat.get("const")])
        sample = allowed[0]
        if isinstance(sample, bool):
            options.append(("wrong_enum", not sample))
        elif isinstance(sample, int | float):
            options.append(
                (
                    "wrong_enum",
                    max(v for v in allowed if isinstance(v, int | float)) + 1 + choice % 3,
                )
            )
        elif isinstance(sample, str):
            options.append(
                ("wrong_enum", sample.upper() + "_UNDOCUMENTED" if sample else "undocumented")
            )
        if not declared:
            others = [v for v in ([1], {"x": 1}) if v not in allowed]
    if others:
        options.append(("wrong_type", others[choice % len(others)]))
    if isinstance(value, int | float) and not isinstance(value, bool):
        step = 1 if declared == "integer" else 0.5
        if "maximum" in flat:
            options.append(("out_of_range", flat["maximum"] + step * (1 + choice % 3)))
        if "minimum" in flat:
            options.append(("out_of_range", flat["minimum"] - step * (1 + choice % 3)))
    if isinstance(value, str):
        if flat.get("minLength", 0) > 0:
            options.append(("too_short", ""))
        if "pattern" in flat:
            for candidate in (value + " !", "?" + value, "not a documented value", "-1"):
                if not re.search(flat["pattern"], candidate):
                    options.append(("bad_pattern", candidate))
                    break
    if isinstance(value, list):
        if "maxItems" in flat and value:
            options.append(("wrong_count", [*value, value[-1]]))
        if flat.get("minItems", 0) > 0 and value:
            options.append(("wrong_count", value[:-1]))
    return options


def _near_miss(key: str, taken: set[str], choice: int) -> str:
    """A plausible wrong spelling of ``key`` that is not a known key."""
    match = re.match(r"^(.*?)(\d+)$", key)
    candidates = []
    if match:
        candidates.append(f"{match.group(1)}{int(match.group(2)) + 1000}")
    candidates += [key.upper(), key + "s", key.replace("_", "-"), "_" + key, key + "_x"]
    for offset in range(len(candidates)):
        candidate = candidates[(choice + offset) % len(candidates)]
        if candidate not in taken and candidate != key:
            return candidate
    return key + "_undocumented"
