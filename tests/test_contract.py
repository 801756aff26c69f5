"""Every registered kind keeps the task contract's core (puzzles/contract.py): it has the members, and they
behave: a seeded generator, text that reads back, references its own verifier accepts, scores, screens."""

from __future__ import annotations

import numpy as np
import pytest

from puzzles import contract
from puzzles.domains import TASKS, get_task

# a small, quick generator spec per kind: (kind, options); a new kind adds its line here
SMALL = {"sudoku": ("easy", {}), "maze": ("perfect", {"size": 7}), "kakuro": ("kakuro", {"size": 6})}
# core members a kind still lacks, to be added (the list must shrink, never grow: the test fails either way)
GAPS: dict[str, set] = {}  # kind -> core members it still lacks (none now)


@pytest.mark.parametrize("name", TASKS)
def test_core_members_exist(name):
    task = get_task(name)
    assert set(contract.missing(task)) == GAPS.get(name, set())
    assert task.name == name
    assert name in SMALL, f"add a small generator spec for {name} to SMALL"
    if contract.neural(task):  # what the bench and CLI read of a kind with models
        assert task.oracles and contract.capable(task, contract.EXACT)


@pytest.mark.parametrize("name", TASKS)
def test_core_behaves(name, tmp_path):
    task = get_task(name)
    kind, options = SMALL[name]
    puzzles, references = task.generate(kind, 2, dict(options), 11)
    again, _ = task.generate(kind, 2, dict(options), 11)
    assert len(puzzles) == len(references) == 2
    assert [task.to_text(p) for p in again] == [task.to_text(p) for p in puzzles]  # the same seed, the same puzzles
    path = tmp_path / f"two.{name}"
    path.write_text("\n\n".join(task.to_text(p) for p in puzzles) + "\n")
    back, known = task.read_file(str(path))
    assert [task.to_text(p) for p in back] == [task.to_text(p) for p in puzzles] and len(known) == 2
    for p, ref in zip(back, references):
        assert len(task.shape_of(p)) == 2
        assert task.screen(p, True) is None and task.explain(p) is None
        reference = task.reference(p, f"{path}: puzzle", None)
        assert np.array_equal(reference, ref) or name == "maze"  # a maze may have several shortest paths
        assert task.check(p, reference) is None
        right, of = task.score(p, reference, reference)
        assert right == of > 0
        assert task.score(p, reference, None)[0] < of
