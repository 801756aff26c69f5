"""The neural package and the CLI branch on what a task says about itself, never on which kind it is: a new kind
of puzzle is a new task in puzzles.domains, not an `if task == "..."` in each layer that meets it; and each kind is one
folder, puzzles/<name>/, with its task in task.py."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

from puzzles.domains import TASKS

ROOT = Path(__file__).resolve().parents[1]
KINDS = set(TASKS)
# file (from the repository root) -> why it may branch on a kind's name. Keep it short: prefer a task attribute
# (csp_diffusion/study/runs.py gives the recurrent baselines the curriculum task.study_hints asks for, not one
# where the task is "maze"). The CLI registers one command per kind from the registry (cli/solve.py, cli/generate.py)
# and names no kind at all (`test_no_kind_is_named_outside_the_registry`).
ALLOWED: dict[str, str] = {}


def _kinds(node: ast.AST) -> set[str]:
    """The kind names `node` spells as literals: a string, or a tuple, list or set of them."""
    if isinstance(node, ast.Constant) and node.value in KINDS:
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {k for e in node.elts for k in _kinds(e)}
    return set()


def branches_on_kinds(source: str) -> list[tuple[int, str]]:
    """(line, code) of each place `source` branches on a kind's name: a comparison with it (`task == "maze"`,
    `name in ("sudoku", "maze")`), a `case "maze":`, or a lookup in a dict literal keyed by kind names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and _kinds(node.left) | {k for c in node.comparators for k in _kinds(c)}:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.match_case) and any(isinstance(p, ast.MatchValue) and _kinds(p.value)
                                                      for p in ast.walk(node.pattern)):
            found.append((node.pattern.lineno, f"case {ast.unparse(node.pattern)}"))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict) and \
                {k for key in node.value.keys if key is not None for k in _kinds(key)}:
            found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def test_the_check_finds_each_way_of_branching_on_a_kind():
    code = ("if task == 'maze': pass\n"
            "x = 1 if 'sudoku' != task.name else 2\n"
            "y = name in ('kakuro', 'maze')\n"
            "z = {'sudoku': 1, 'maze': 2}[task]\n"
            "match task:\n    case 'maze': pass\n"
            "ok = task.constraint == 'path' and get_task('maze') and {'maze': 1}\n")
    assert [line for line, _ in branches_on_kinds(code)] == [1, 2, 3, 4, 6]


def test_no_branch_on_a_kinds_name_outside_the_allow_list():
    hits = {}
    for package in ("csp_diffusion", "cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found = branches_on_kinds(path.read_text())
            if found:
                hits[path.relative_to(ROOT).as_posix()] = found
    unlisted = {p: f for p, f in hits.items() if p not in ALLOWED}
    assert not unlisted, f"branches on a kind's name (use a task attribute, or list the file with a reason): {unlisted}"
    stale = set(ALLOWED) - set(hits)
    assert not stale, f"allow-list entries that no longer branch on a kind: {sorted(stale)}; remove them"


def test_each_kind_is_one_folder_with_its_task():
    """A kind lives in its own folder, puzzles/<name>/, a package that pyproject.toml ships, with its task class in
    task.py; nothing of it stays beside the folder (no puzzles/<name>.py, no puzzles/<name>_oracle.py)."""
    packages = (ROOT / "pyproject.toml").read_text()
    for name, task in TASKS.items():
        folder = ROOT / "puzzles" / name
        assert (folder / "__init__.py").is_file() and (folder / "task.py").is_file(), f"puzzles/{name}/ needs task.py"
        assert task.__module__ == f"puzzles.{name}.task", f"{task.__name__} is defined in {task.__module__}"
        assert f'"puzzles.{name}"' in packages, f"add puzzles.{name} to pyproject.toml's packages"
        stray = sorted(p.name for p in (ROOT / "puzzles").glob(f"{name}*.py"))
        assert not stray, f"puzzles/{stray[0]} belongs in puzzles/{name}/"


# ---------------------------------------------------------------- no kind named outside the registry

# a path pattern (from the repository root) -> why its files may still name a kind. Keep it short; a kind's own
# words belong in its folder, puzzles/<name>/ (its Terminal for the CLI), and the registry, puzzles/domains.py.
KNOWN: dict[str, str] = {
}


def _kind_word() -> re.Pattern:
    """A kind's name as a word: `maze`, `Mazes`, `sample.sudoku`, but not inside another word (`amazes`)."""
    names = "|".join(sorted(map(re.escape, KINDS), key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{names})(?:e?s)?(?![a-z])", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstrings' nodes (a module's, class's or function's first statement, a string)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def names_kinds(source: str) -> list[tuple[int, str]]:
    """(line, text) of each place `source` names a kind: an identifier or a part of one between underscores and
    dots (`render.sudoku`, `MAX_MAZE`, `from puzzles import maze`, `import puzzles.kakuro.task`) or a string
    literal, f-strings' text included. Comments and docstrings are prose, and are not read."""
    word, tree = _kind_word(), ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts = [] if id(node) in docstrings else [node.value]
        elif isinstance(node, ast.Name):
            texts = re.split(r"[_.]", node.id)
        elif isinstance(node, ast.Attribute):
            texts = re.split(r"[_.]", node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            texts = re.split(r"[_.]", node.name)
        elif isinstance(node, ast.arg):
            texts = re.split(r"[_.]", node.arg)
        elif isinstance(node, ast.keyword):
            texts = re.split(r"[_.]", node.arg or "")
        elif isinstance(node, ast.alias):
            texts = re.split(r"[_.]", f"{node.name}.{node.asname or ''}")
        elif isinstance(node, ast.ImportFrom):
            texts = (node.module or "").split(".")
        else:
            continue
        named = [t for t in texts if (word.search(t) if isinstance(node, ast.Constant) else word.fullmatch(t))]
        if named:
            found.append((node.lineno, named[0]))
    return sorted(set(found))


def test_the_scan_finds_each_way_of_naming_a_kind():
    code = ('"""A docstring may name sudoku: prose."""\n'
            "import puzzles.maze.task\n"
            "from puzzles import kakuro\n"
            "x = 'maze'\n"
            "def f(y):\n"
            "    \"\"\"Mazes, here too.\"\"\"\n"
            "    return render.sudoku(y)\n"
            "MAX_MAZE = f'{y} of sample.kakuro'  # a comment may say sudoku\n"
            "ok = 'it amazes; a mazed' + task.name\n"
            "def draw_mazes(sudoku_grid): pass\n")
    assert [line for line, _ in names_kinds(code)] == [2, 3, 4, 7, 8, 8, 10, 10]


def test_no_kind_is_named_outside_the_registry():
    """csp_diffusion/ and cli/ meet kinds only through puzzles.domains.TASKS and the task contract: a command, a help
    text or a default that names one belongs to the kind (its Terminal, its task) or comes from the registry."""
    hits = {}
    for package in ("csp_diffusion", "cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found = names_kinds(path.read_text())
            if found:
                hits[path.relative_to(ROOT).as_posix()] = found
    known = {p for p in hits if any(fnmatch.fnmatch(p, pattern) for pattern in KNOWN)}
    unlisted = {p: f for p, f in hits.items() if p not in known}
    assert not unlisted, ("names a kind outside the registry (take it from the kind's task or Terminal, or from "
                          f"puzzles.domains; or list the file in KNOWN with a reason): {unlisted}")
    stale = [pattern for pattern in KNOWN if not any(fnmatch.fnmatch(p, pattern) for p in hits)]
    assert not stale, f"KNOWN entries whose files name no kind any more: {stale}; remove them"
