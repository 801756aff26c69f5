"""TRM (recursion with a whole-recursion gradient) and what it shares with HRM: the native decoder's segments
and the puzzle's scaled input."""

from __future__ import annotations

import pytest
import torch
from helpers import TINY

from csp_diffusion.decoders import RecurrentDecoder
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.trm import TRM, TRMConfig
from puzzles.sudoku.task import SudokuTask


def test_trm_differentiates_the_whole_last_recursion_only():
    """The gradient reaches the state passed in only through the last recursion's first latent update,
    so a state that the no-grad recursions overwrite gets none: with one recursion it gets a gradient,
    with two none (the first runs without a graph)."""
    torch.manual_seed(0)
    task = SudokuTask()
    puzzle = torch.as_tensor(task.make_pool(1, seed=0, workers=1, mix=("hard",))[0], dtype=torch.long)
    positions, graph = torch.as_tensor(task.structure().positions), torch.as_tensor(task.structure().graph)
    for recursions, reaches in ((1, True), (2, False)):
        model = TRM(TRMConfig(**TINY, n=2, recursions=recursions))
        y, z = (t.detach().requires_grad_() for t in model.initial(1, 81))
        _, logits, q = model(puzzle, (y, z), positions, graph)
        logits[torch.isfinite(logits)].sum().backward()
        assert (z.grad is not None and z.grad.abs().sum() > 0) == reaches
        assert q.shape == (1, 2) and (q[:, 1] == 0).all()  # "halt" against a fixed 0: halt when above 0
        forward, differentiated = model.segment_flops(81, 21)
        assert forward == pytest.approx(recursions * (differentiated - 2 * 81 * 32 * 9) + 2 * 81 * 32 * 9)


def test_trm_native_decoder_runs_every_segment_whatever_its_halting_head_says():
    """HRM's and TRM's code evaluates halt_max_steps segments; the halting head acts only in training."""
    model = TRM(TRMConfig(**TINY, n=1, recursions=1)).eval()
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)  # always halt
    task = SudokuTask()
    puzzles = task.make_pool(2, seed=0, workers=1, mix=("hard",))[0]
    out = RecurrentDecoder(model, task, SamplerConfig(max_steps=6), torch.device("cpu")).solve(puzzles)
    assert [o.steps for o in out] == [6, 6]


def test_recurrent_models_scale_the_puzzle_and_old_checkpoints_load_unscaled():
    from csp_diffusion.hrm import HRMConfig
    from csp_diffusion.trm import TRMConfig

    assert TRMConfig().scaled_input and HRMConfig().scaled_input
    old = {k: v for k, v in TRMConfig(**TINY).to_dict().items() if k != "scaled_input"}
    assert TRMConfig.from_dict(old).scaled_input is False  # a checkpoint from before the field ran unscaled
    assert HRMConfig.from_dict({**HRMConfig(**TINY).to_dict(), "scaled_input": True}).scaled_input
