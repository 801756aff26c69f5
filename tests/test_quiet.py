"""Quiet cells (csp_diffusion/quiet.py): the looped core's passes recomputing only the cells that can change."""

from __future__ import annotations

import numpy as np
import torch
from helpers import TINY_MAZE

from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.quiet import QuietCells
from puzzles import maze as mz
from puzzles.maze.task import MazeTask


def _setup(side: int = 12, batch: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    task = MazeTask()
    grids = [task.encode(m)[0] for m in mz.generate(batch, side, seed=seed, kind="walls")]
    st = task.structure((side, side))
    v = torch.as_tensor(np.stack(grids))
    model = LoopMDM(LoopMDMConfig(**TINY_MAZE, trace=5, cells=side * side)).eval()
    return model, v, v > 0, torch.as_tensor(st.positions), torch.as_tensor(st.graph)


def _dense(model, e, table, h, loops):
    for _ in range(loops):
        h = model._loop(h, e, table)
    return h


def test_with_no_tolerance_quiet_passes_are_the_dense_passes_over_a_batch_of_different_grids():
    model, v, g, pos, table = _setup()
    with torch.no_grad():
        e = model._prelude(v, g, pos, table)
        quiet = QuietCells(table, tol=0.0)
        quiet.e, quiet.PART = e, 50  # a pass in parts of 50 cells, as a batch of large grids runs its first
        h = quiet.run(torch.zeros_like(e), model.inject, model.core, 5)
        h = quiet.run(h, model.inject, model.core, 4)  # a second call goes on where the first stopped
        assert torch.allclose(h, _dense(model, e, table, torch.zeros_like(e), 9), atol=1e-4)
        # and through the model's forward, as the sampler calls it
        quiet = QuietCells(table, tol=0.0)
        quiet.PART = 50  # the prelude one grid at a time
        logits, state = model(v, g, pos, table, 9, return_state=True, quiet=quiet)
        ref_logits, ref_state = model(v, g, pos, table, 9, return_state=True)
        assert torch.allclose(state, ref_state, atol=1e-4) and torch.allclose(logits, ref_logits, atol=1e-5)


def test_a_disturbance_is_followed_where_it_spreads_and_nowhere_else():
    """From a settled state, one disturbed cell in one grid: the quiet passes match the dense ones within the
    tolerance's reach, recompute a small share of the cells, and leave the other grid alone."""
    model, v, g, pos, table = _setup(side=16)
    for block in model.core:  # a contracting core, so the state settles and a disturbance fades as it spreads
        block.attn.out.weight.data *= 0.05
        block.mlp.down.weight.data *= 0.05
    with torch.no_grad():
        e = model._prelude(v, g, pos, table)
        settled = _dense(model, e, table, torch.zeros_like(e), 200)
        h0 = settled.clone()
        h0[0, 100] += 1.0
        quiet = QuietCells(table, tol=1e-4)
        quiet.e = e
        h1 = quiet.run(h0, model.inject, model.core, 1)  # the first pass: every cell
        h = quiet.run(h1, model.inject, model.core, 10)
        ref = _dense(model, e, table, h0, 11)
        assert (h - ref).abs().max() < 1e-3
        assert quiet.computed < 2 * 16 * 16 * 1 + 0.3 * 2 * 16 * 16 * 10  # mostly quiet after the first pass
        assert quiet.active[1].sum() == 0  # the undisturbed grid has nothing left to recompute
        assert (h[1] == h1[1]).all()  # and kept its cells as the first pass left them


def test_a_batch_of_large_grids_runs_in_pieces_of_a_bounded_number_of_cells_with_the_same_numbers(monkeypatch):
    """On CPU the sampler runs a batch in pieces of at most CPU_CELLS cells (the spare chains of large mazes),
    and each grid's logits and state are those of the whole batch run at once."""
    from csp_diffusion.sampler import Sampler, SamplerConfig

    model, v, g, pos, table = _setup(batch=5)
    sampler = Sampler(model, MazeTask(), SamplerConfig(), torch.device("cpu"))
    calls = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda v, *a, **k: calls.append(len(v)) or forward(v, *a, **k))
    with torch.no_grad():
        whole, whole_state = sampler.run_model(v, g, pos, table, 4)
        monkeypatch.setattr(Sampler, "CPU_CELLS", 2 * v.shape[1])  # two grids a piece
        parts, parts_state = sampler.run_model(v, g, pos, table, 4)
    assert calls == [5, 2, 2, 1]
    assert torch.allclose(parts, whole, atol=1e-5) and torch.allclose(parts_state, whole_state, atol=1e-5)


def test_a_pass_pads_its_cell_sets_to_few_sizes_and_keeps_the_cells_it_was_given():
    """The quiet passes' matmuls see at most 8 sizes an octave (on CPU a bf16 matmul keeps a cached kernel per
    input size), each at most 1/8 over, and padding repeats the set's first cell only."""
    sizes = {len(QuietCells.padded(torch.arange(n))) for n in range(1, 70_000)}
    assert all(n <= 16 or len(QuietCells.padded(torch.arange(n))) <= n * 9 / 8 for n in (17, 100, 1000, 65_537))
    assert len(sizes) <= 16 + 8 * 13  # exact to 16, then 8 an octave to 2^17
    cells = torch.tensor([5, 7, 9] + list(range(20, 38)))  # 21 cells: padded to 22 (sizes 16-31 go in twos)
    padded = QuietCells.padded(cells)
    assert len(padded) == 22 and (padded[:21] == cells).all() and padded[21] == 5
