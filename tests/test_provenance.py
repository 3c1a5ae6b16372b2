"""Provenance stands on its own: vendor facts cite the documents of docs/sources.md by id, every
id there is cited, and no file of the repository points at a place outside it (the private
copies of the vendor pages and the research notes the project was first written from)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

SOURCES = ROOT / "docs" / "sources.md"
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

SOURCE_ID = r"(?:ailab|acedata|facepp|baidu|alibaba|tencent)-[a-z0-9]+(?:-[a-z0-9]+)*"
CITATION = re.compile(rf"\[({SOURCE_ID})\]")
SOURCE_HEADING = re.compile(rf"^### ({SOURCE_ID})$", re.MULTILINE)
LINK_DEFINITION = re.compile(rf"^\[({SOURCE_ID})\]: (\S+)$", re.MULTILINE)

# What a file must not mention: places outside the repository, and the names the project's
# private copies went by. Each pattern with the reason a reader is given.
OUTSIDE_THE_REPOSITORY = (
    (re.compile(r"\.\./shared"), "a path outside the repository (../shared)"),
    (re.compile(r"/work/shared"), "a path outside the repository (/work/shared)"),
    (re.compile(r"seeds/"), "the private copies of the vendor pages (seeds/)"),
    (re.compile(r"vendors\.md|research §|research/"), "the private research notes"),
    (re.compile(r"\bindex ids?\b", re.IGNORECASE), "a file id of a private search index"),
    (re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b"), "a private copy of a vendor page by file name"),
    (re.compile(r"\bseeds? 0\d\d\b", re.IGNORECASE), "a private copy of a vendor page by number"),
    (re.compile(r"design/ARCHITECTURE\.md"), "the private design notes"),
    (
        re.compile(r"\b(?:A[1-4]|B1|C1|D1|E[1-3]|F[1-4])\b"),
        "a source tag of the private research notes (A1..F4)",
    ),
)


def _tracked_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):  # not a git checkout: every file but caches
        skipped = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        return sorted(
            path.relative_to(ROOT).as_posix()
            for path in ROOT.rglob("*")
            if path.is_file() and not skipped & set(path.relative_to(ROOT).parts)
        )
    return sorted(name for name in listed.split("\0") if name and (ROOT / name).is_file())


def _texts() -> Iterator[tuple[str, str]]:
    for name in _tracked_files():
        try:
            yield name, (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # pictures and other binary files


TEXTS = dict(_texts())


def _defined_ids() -> list[str]:
    return SOURCE_HEADING.findall(SOURCES.read_text(encoding="utf-8"))


def test_no_file_points_outside_the_repository() -> None:
    found = [
        f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)!r} is {reason}"
        for name, text in TEXTS.items()
        if name != THIS_FILE  # it names the patterns it forbids
        for pattern, reason in OUTSIDE_THE_REPOSITORY
        for match in pattern.finditer(text)
    ]
    assert not found, "cite an id of docs/sources.md instead:\n" + "\n".join(found)


def test_every_source_is_listed_once_with_address_date_and_use() -> None:
    ids = _defined_ids()
    assert ids, "docs/sources.md lists no source"
    assert len(ids) == len(set(ids)), "a source id is listed twice"
    entries = re.split(r"^### ", SOURCES.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    for entry in entries:
        identifier = entry.split("\n", 1)[0]
        for field in ("**Title:**", "**Read:**", "**Taken from it:**"):
            assert field in entry, f"{identifier}: no {field} line"
        assert "**Public address:**" in entry or "**Repository:**" in entry, (
            f"{identifier}: neither a public address nor a repository"
        )
        assert re.search(r"\*\*Read:\*\* \d{4}-\d{2}-\d{2}", entry), f"{identifier}: no date"


def test_every_cited_id_is_listed_and_every_listed_id_is_cited() -> None:
    defined = set(_defined_ids())
    cited: dict[str, set[str]] = {}
    for name, text in TEXTS.items():
        if name == "docs/sources.md":
            continue
        for identifier in CITATION.findall(text):
            cited.setdefault(identifier, set()).add(name)
    unknown = {i: sorted(names) for i, names in cited.items() if i not in defined}
    assert not unknown, f"cited but not in docs/sources.md: {unknown}"
    assert not defined - set(cited), f"in docs/sources.md but cited nowhere: {defined - set(cited)}"


def _citations_outside_code(text: str) -> set[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return {m.group(1) for m in re.finditer(rf"\[({SOURCE_ID})\](?!: )", prose)}


@pytest.mark.parametrize("name", sorted(n for n in TEXTS if n.endswith(".md")))
def test_markdown_citations_link_to_their_source(name: str) -> None:
    """A citation in prose is a Markdown reference link: the file defines it, pointing at the
    entry of docs/sources.md, so a reader clicks through to the source's public address."""
    text = TEXTS[name]
    definitions = dict(LINK_DEFINITION.findall(text))
    here = (ROOT / name).parent
    for identifier in sorted(_citations_outside_code(text)):
        assert identifier in definitions, (
            f"{name}: add '[{identifier}]: <path to sources.md>#{identifier}'"
        )
    for identifier, target in definitions.items():
        path, _, anchor = target.partition("#")
        resolved = (here / path).resolve() if path else (ROOT / name).resolve()
        assert resolved == SOURCES.resolve(), f"{name}: [{identifier}] points at {target}"
        assert anchor == identifier, f"{name}: [{identifier}] points at #{anchor}"


def _provenance_fields(document: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string under a key that names provenance: x-sources, source, *_source; and the
    sources of an operation. (An image block's "sources" lists request fields, not provenance.)"""
    if isinstance(document, dict):
        for key, value in document.items():
            here = f"{pointer}/{key}"
            if (
                key in ("x-sources", "source")
                or key.endswith("_source")
                or (key == "sources" and pointer.startswith("/operations/"))
            ):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        yield here, item
            else:
                yield from _provenance_fields(value, here)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _provenance_fields(value, f"{pointer}/{index}")


DATA_FILES = sorted(
    name
    for name in TEXTS
    if name.endswith(".json")
    and name.startswith(("schemas/", "mocks/"))
    and not name.startswith("schemas/_meta/")
)


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_provenance_note_cites_a_source_id(name: str) -> None:
    document = json.loads(TEXTS[name])
    notes = list(_provenance_fields(document))
    if name.startswith("schemas/") and name != "schemas/operations.json":
        assert any(pointer == "/x-sources" for pointer, _ in notes), f"{name}: no x-sources"
    for pointer, note in notes:
        assert CITATION.search(note) or note.startswith("own:"), (
            f"{name}{pointer}: {note[:80]!r} cites no id of docs/sources.md"
        )


def test_every_register_entry_cites_its_sources_by_id() -> None:
    for page in sorted((ROOT / "docs" / "discrepancies").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for entry in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
            identifier = entry.split(":", 1)[0]
            if not re.fullmatch(r"D-(?:AIL|ACE|FPP)-\d{2}", identifier):
                continue
            sources = re.search(r"^- \*\*Sources:\*\*(.*?)(?=^- \*\*)", entry, re.M | re.S)
            assert sources, f"{page.name} {identifier}: no Sources line"
            assert CITATION.search(sources.group(1)), (
                f"{page.name} {identifier}: cites no source id"
            )
