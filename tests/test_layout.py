"""The shape of ``src/face_contracts`` (docs/layout.md): each vendor's vocabulary in few
modules, no import cycles, function-level imports only where a heavy dependency is
deferred on purpose (and saying so), and the light modules light.

The source is read with :mod:`ast`, never imported, so these tests see every module,
including the ones a test run would not load.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "face_contracts"

# Words only one vendor's documents use. Each must appear, as code, in at most three modules:
# the vendor's own module, its documents module and at most one more (docs/layout.md).
VOCABULARY = {
    "Face++": (
        "api_secret",
        "return_landmark",
        "return_attributes",
        "calculate_all",
        "error_message",
    ),
    "AILabTools": (
        "ailabapi-api-key",
        "face_field",
        "max_face_num",
        "error_code_str",
        "face_detail_infos",
    ),
    "Ace Data Cloud": (
        "face_shape_set",
        "face_model_version",
        "need_rotate_detection",
        "trace_id",
    ),
}
MOST_MODULES = 3
MOST_FUNCTION_IMPORTS = 40


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {
        _name(path): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the string constants that are docstrings (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _code_words(tree: ast.Module) -> list[str]:
    """Every string constant but docstrings, and every identifier (names, attributes,
    definitions, arguments, keywords, imported names)."""
    docstrings = _docstrings(tree)
    words: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.append(node.name)
        elif isinstance(node, ast.arg | ast.keyword):
            words.extend(filter(None, [node.arg]))
        elif isinstance(node, ast.alias):
            words.extend(filter(None, (node.name, node.asname)))
    return words


def _term(term: str) -> re.Pattern[str]:
    # A whole word: "face_field" is in "face_field=age" and "/body/face_field", not in
    # "face_fields_asked" or "FACE_FIELDS".
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(term)}(?![A-Za-z0-9_-])")


def vocabulary_table() -> dict[str, list[str]]:
    """Term -> the modules whose code uses it."""
    words = {name: _code_words(tree) for name, (_, tree) in _modules().items()}
    table = {}
    for terms in VOCABULARY.values():
        for term in terms:
            pattern = _term(term)
            table[term] = sorted(
                name for name, found in words.items() if any(pattern.search(w) for w in found)
            )
    return table


@pytest.mark.parametrize("term", [term for terms in VOCABULARY.values() for term in terms], ids=str)
def test_each_vendor_word_lives_in_at_most_three_modules(term: str) -> None:
    modules = vocabulary_table()[term]
    assert modules, f"{term!r} is in no module: the vocabulary list is out of date"
    assert len(modules) <= MOST_MODULES, f"{term!r} is spread over {len(modules)}: {modules}"


# --- imports -------------------------------------------------------------------------------


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import run when the code runs (not those under ``if TYPE_CHECKING:``), and
    whether it sits inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            walk(child, inner)

    walk(tree, False)
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package modules an import runs: the module named, a submodule imported by
    ``from``, and the packages above them (``import a.b.c`` runs ``a/__init__`` and
    ``a/b/__init__`` first), except this module's own packages, which already run."""
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")[: -node.level] if node.level else []
            base = ".".join([*package, base] if base else package)
        named = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    targets = set()
    for name in named:
        if name not in known:
            continue
        targets.add(name)
        parts = name.split(".")
        targets.update(
            ".".join(parts[:i])
            for i in range(1, len(parts))
            if ".".join(parts[:i]) not in own and ".".join(parts[:i]) in known
        )
    return targets - {module}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules importing it runs (function-level imports too)."""
    known = set(_modules())
    return {
        name: set().union(*(_targets(name, node, known) for node, _ in _imports(tree)))
        for name, (_, tree) in _modules().items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_function_level_imports_included() -> None:
    assert _cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_a_package() -> None:
    graph = {"a": {"b.c"}, "b.c": {"b"}, "b": {"a"}}
    assert _cycles(graph) == [["a", "b", "b.c"]]


def _function_imports() -> list[tuple[str, int, str, bool]]:
    """(module, line, text, commented) of every import inside a function."""
    found = []
    for name, (path, tree) in _modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, in_function in _imports(tree):
            if not in_function:
                continue
            line = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
            commented = "#" in line or above.startswith("#")
            found.append((name, node.lineno, line.strip(), commented))
    return found


def test_every_function_level_import_says_why_it_is_deferred() -> None:
    silent = [
        f"{name}:{line}: {text}" for name, line, text, said in _function_imports() if not said
    ]
    assert silent == [], "\n".join(silent)


def test_function_level_imports_are_few() -> None:
    assert len(_function_imports()) <= MOST_FUNCTION_IMPORTS


def test_every_vendor_credential_variable_is_masked() -> None:
    from face_contracts.redaction import SECRET_ENVIRONMENT
    from face_contracts.vendors import VENDORS

    for vendor in VENDORS.values():
        assert set(vendor.credential_env) <= set(SECRET_ENVIRONMENT), vendor.name


@pytest.mark.parametrize("module", ["face_contracts.redaction", "face_contracts.validation"])
def test_light_modules_load_neither_the_engine_nor_hypothesis_nor_pillow(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = ('face_contracts.mock', 'hypothesis', 'PIL')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
