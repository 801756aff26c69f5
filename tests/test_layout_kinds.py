"""The neural package and the CLI branch on what a task says about itself, never on which kind it is: a new kind
of puzzle is a new task in puzzles.domains, not an `if task == "..."` in each layer that meets it; and each kind is one
folder, puzzles/<name>/, with its task in task.py."""

from __future__ import annotations

import ast
from pathlib import Path

from puzzles.domains import TASKS

ROOT = Path(__file__).resolve().parents[1]
KINDS = set(TASKS)
# file (from the repository root) -> why it may branch on a kind's name. Keep it short: prefer a task attribute
# (csp_diffusion/study/runs.py gives the recurrent baselines the curriculum task.study_hints asks for, not one
# where the task is "maze"). The per-kind CLI modules (cli/sudoku.py, cli/maze.py, cli/kakuro.py) name their own
# kind to register their commands, but never branch on it, so they need no entry.
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
