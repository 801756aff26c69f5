"""The AR and HRM baselines: their defining properties, training through the shared loop, decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY

from csp_diffusion import models
from csp_diffusion.ar import AR, ARConfig
from csp_diffusion.decoders import ARDecoder, RecurrentDecoder
from csp_diffusion.hrm import HRM, HRMConfig
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.train import TrainConfig, train
from puzzles.sudoku.task import SudokuTask


def _pair(n=2):
    pool = SudokuTask().make_pool(n, seed=0, workers=1, mix=("hard",))
    return torch.as_tensor(pool[0], dtype=torch.long), torch.as_tensor(pool[1], dtype=torch.long)


def _positions():
    return torch.as_tensor(SudokuTask().structure().positions)


def test_default_baselines_match_loopmdm_parameters_within_a_few_percent():
    loop = LoopMDM(LoopMDMConfig()).num_params()
    for model in (AR(ARConfig()), HRM(HRMConfig())):
        assert abs(model.num_params() - loop) / loop < 0.05


def test_ar_is_causal_over_the_answer():
    """Cell t's logits do not change when later answer cells change."""
    torch.manual_seed(0)
    model = AR(ARConfig(**TINY)).eval()
    puzzle, solution = _pair(1)
    a = solution.clone()
    b = solution.clone()
    b[0, 40:] = (b[0, 40:] % 9) + 1
    la, lb = model(puzzle, a, _positions()), model(puzzle, b, _positions())
    assert torch.allclose(la[0, :41], lb[0, :41], atol=1e-5)
    assert not torch.allclose(la[0, 42:], lb[0, 42:])


def test_ar_greedy_decoding_never_revisits_and_legal_mode_avoids_peer_digits():
    torch.manual_seed(0)
    model = AR(ARConfig(**TINY)).eval()
    puzzle, _ = _pair(2)
    task = SudokuTask()
    out = ARDecoder(model, task, SamplerConfig(rules=True), torch.device("cpu")).solve(puzzle.numpy())
    for o, p in zip(out, puzzle.numpy()):
        assert o.retractions == 0 and o.steps == int((p == 0).sum())
        assert np.array_equal(o.values[p > 0], p[p > 0]) and (o.values > 0).all()
        assert o.verified == task.verify(p, o.values)


def test_hrm_one_step_gradient_reaches_both_modules_and_segments_refine():
    torch.manual_seed(0)
    model = HRM(HRMConfig(**TINY))
    puzzle, solution = _pair(2)
    st = SudokuTask().structure()
    z = model.initial(2, 81)
    z1, logits, q = model(puzzle, z, _positions(), torch.as_tensor(st.adjacency))
    assert logits.shape == (2, 81, 9) and q.shape == (2, 2)
    logits[puzzle == 0].logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in model.l_blocks.parameters())
    assert all(p.grad is not None for p in model.h_blocks.parameters())
    z2, logits2, _ = model(puzzle, (z1[0].detach(), z1[1].detach()), _positions(), torch.as_tensor(st.adjacency))
    assert not torch.allclose(logits, logits2)  # the carried state matters


@pytest.mark.parametrize("kind", ["ar", "hrm"])
def test_baselines_train_through_the_shared_loop_and_resume(kind, tmp_path):
    cfg = dict(model=kind, batch_size=4, pool_size=16, eval_puzzles=2, log_every=1, model_config=TINY,
               eval_every_minutes=1000)
    first = train(TrainConfig(**cfg, steps=2), tmp_path)
    again = train(TrainConfig(**cfg, steps=3), tmp_path, resume=True)
    assert first["step"] == 2 and again["step"] == 3 and "solve_rate" in again
    model, meta = models.load(tmp_path / "model.safetensors", kind, "sudoku")
    assert meta["info"]["train_flops"] > 0 and meta["info"]["params"] == model.num_params()


def test_hrm_decoder_reports_segments_and_verifies():
    torch.manual_seed(0)
    model = HRM(HRMConfig(**TINY, act=False)).eval()
    puzzle, _ = _pair(2)
    out = RecurrentDecoder(model, SudokuTask(), SamplerConfig(max_steps=3), torch.device("cpu")).solve(puzzle.numpy())
    assert all(o.steps == 3 and not o.verified for o in out)  # an untrained model never verifies


def test_baselines_give_up_at_the_time_limit():
    """A limit far below one step's time: each decoder runs its first step only and reports the time-out."""
    torch.manual_seed(0)
    puzzle, _ = _pair(2)
    cfg = SamplerConfig(max_steps=3, time_limit=1e-9)
    for dec, model, steps in ((ARDecoder, AR(ARConfig(**TINY)), None), (RecurrentDecoder, HRM(HRMConfig(**TINY, act=False)), 1)):
        out = dec(model.eval(), SudokuTask(), cfg, torch.device("cpu")).solve(puzzle.numpy())
        assert all(o.extra["timed_out"] and not o.verified for o in out)
        if steps is not None:
            assert all(o.steps == steps for o in out)
        else:  # AR wrote the first column any puzzle leaves open, then stopped
            assert all((o.values > 0).sum() <= (p > 0).sum() + 1 for o, p in zip(out, puzzle.numpy()))


def test_ar_trains_on_mazes_with_row_column_positions_and_refuses_grids_it_cannot_address(tmp_path):
    from csp_diffusion.solver import NeuralSolver
    from puzzles import maze as mz

    cfg = TrainConfig(task="maze", model="ar", batch_size=2, pool_size=8, eval_puzzles=2, log_every=1,
                      model_config=TINY, eval_every_minutes=1000, steps=2)
    train(cfg, tmp_path)
    model, meta = models.load(tmp_path / "model.safetensors", "ar", "maze")
    assert tuple(model.config.position_sizes) == (64, 64)  # row and column, mazes up to 64 a side
    solver = NeuralSolver("ar", "maze", tmp_path / "model.safetensors")
    small, big = mz.generate(1, 7, seed=1)[0], mz.generate(1, 65, seed=1)[0]
    ok, too_big = list(solver.solve([small, big]))
    assert ok.error != too_big.error and ok.extra["steps"] > 0
    assert not too_big.verified and "larger than this ar model addresses" in too_big.error


def test_ar_decoding_with_kept_keys_reads_what_the_whole_forward_pass_does():
    torch.manual_seed(0)
    task = SudokuTask()
    model = AR(ARConfig(**TINY, n_values=9, position_sizes=task.axes)).eval()
    p, s = task.make_pool(3, seed=0, workers=1, mix=("hard",))
    puzzle, answer = torch.as_tensor(p, dtype=torch.long), torch.as_tensor(s, dtype=torch.long)
    positions = torch.as_tensor(task.structure().positions)
    with torch.no_grad():
        full = model(puzzle, answer, positions)
        run = model.decoding(puzzle, positions)
        every, some = torch.arange(3), torch.tensor([0, 2])
        for t in range(81):
            rows = every if t < 40 else some  # row 1 runs out of time at cell 40: the others go on alone
            previous = answer[rows, t - 1] if t else torch.zeros(len(rows), dtype=torch.long)
            step = run.next(rows, previous)
            finite = torch.isfinite(full[rows, t])
            assert (torch.isfinite(step) == finite).all()
            assert torch.allclose(step[finite], full[rows, t][finite], atol=1e-4)
