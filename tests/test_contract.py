"""Every registered kind keeps the task contract's core (puzzles/contract.py): it has the members, and they
behave: a seeded generator, text that reads back, references its own verifier accepts, scores, screens; and a kind
with a neural side has every NEURAL member, and they behave (`test_neural_members_behave`)."""

from __future__ import annotations

import numpy as np
import pytest

from csp_diffusion.constraints import RULES
from puzzles import contract
from puzzles.domains import TASKS, get_task, per_puzzle

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


# a small training pool per kind with a neural side: make_pool's `mix` (None: the kind's own)
POOL_MIX = {"sudoku": ("easy",), "maze": None, "kakuro": ("6",)}


@pytest.mark.parametrize("name", [name for name, task in TASKS.items() if contract.neural(task)])
def test_neural_members_behave(name):
    """What a model, its training and its sampler read of a kind: a pool of solved grids of the structure's size,
    training pairs its verifier accepts, a structure (one per grid where it differs per puzzle) whose positions
    fit their tables, the identity frame first, the sampler's settings."""
    task = get_task(name)
    assert name in POOL_MIX, f"add a small pool mix for {name} to POOL_MIX"
    assert all(m in task.pool_levels for m in POOL_MIX[name] or ())
    assert task.held_out_mix is None or set(task.held_out_mix) <= set(task.pool_levels)
    shape = task.structure().shape
    cells = shape[0] * shape[1]
    pool = task.make_pool(2, np.random.SeedSequence(3), workers=1, mix=POOL_MIX[name])
    assert pool[0].shape == pool[1].shape == (2, cells)
    puzzles, solutions = task.training_pairs(pool, 4, np.random.default_rng(0))
    st = task.structure(shape, puzzles) if per_puzzle(task) else task.structure(shape)
    assert st.shape == shape and st.positions.shape[-2] == cells and st.graph.shape[-2] == cells
    sizes = np.asarray(task.position_sizes, dtype=np.int64)
    assert (st.positions[..., :len(sizes)] < sizes).all() and (st.positions >= 0).all()
    assert not task.conflicts(solutions, shape).any()
    for p, s in zip(puzzles, solutions):
        assert task.verify(p, s, shape)
        empty = p == 0
        assert ((s[empty] >= 1) & (s[empty] <= task.n_values)).all()
        assert np.array_equal(task.classes(p)[~empty], task.classes(s)[~empty])  # givens kept
        wrong = s.copy()
        t = int(np.flatnonzero(empty)[0])
        wrong[t] = wrong[t] % task.n_values + 1
        assert not task.verify(p, wrong, shape)
    assert np.array_equal(task.frames(shape)[0], np.arange(cells))
    assert task.tokens > task.n_values and task.trace_size >= 0
    assert 0 < task.confident <= 1 and task.temperature > 0 and task.chains >= 1 and task.steps >= 1
    assert task.constraint in RULES
    assert 0 <= task.study_hints <= 1  # a share of the study's training puzzles
    kind, options = SMALL[name]
    puzzle = task.generate(kind, 1, dict(options), 5)[0][0]
    values, own = task.encode(puzzle)
    assert values.shape == (own[0] * own[1],) and tuple(own) == tuple(task.shape_of(puzzle))


@pytest.mark.parametrize("name", [n for n in TASKS if contract.capable(get_task(n), contract.RATING)])
def test_ratings_are_non_negative_and_repeatable(name):
    """A kind that rates its puzzles (contract.RATING) gives every puzzle a number >= 0, the same each time."""
    task = get_task(name)
    kind, options = SMALL[name]
    puzzles, references = task.generate(kind, 3, dict(options), 5)
    ratings = [task.rating(p, r) for p, r in zip(puzzles, references)]
    assert all(isinstance(x, (int, float)) and x >= 0 for x in ratings) and task.rating_name
    assert ratings == [task.rating(p, r) for p, r in zip(puzzles, references)]


def test_sudoku_rating_reads_the_reasoning_a_puzzle_needs():
    task = get_task("sudoku")
    easy, easy_refs = task.generate("easy", 20, {}, 3)
    hard, hard_refs = task.generate("hard", 20, {}, 3)
    assert np.mean([task.rating(p, r) for p, r in zip(hard, hard_refs)]) > np.mean(
        [task.rating(p, r) for p, r in zip(easy, easy_refs)])
