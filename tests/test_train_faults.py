"""Training survives faults: a kill loses at most one checkpoint interval, a resume leaves one clean log,
and a fresh run never overwrites another."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import TINY_LOOPMDM

from csp_diffusion.checkpoint import load_state
from csp_diffusion.train import TrainConfig, train
from puzzles.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
CFG = {"batch_size": 4, "pool_size": 16, "eval_puzzles": 0, "model_config": TINY_LOOPMDM, "log_every": 1}


def _steps(log: Path) -> list[int]:
    return [r["step"] for r in map(json.loads, log.read_text().splitlines()) if r.get("event") == "step"]


def test_a_run_killed_at_a_random_step_resumes_into_one_clean_log(tmp_path):
    out = tmp_path / "run"
    code = ("from csp_diffusion.train import TrainConfig, train\n"
            f"train(TrainConfig(**{CFG!r}, steps=100000, checkpoint_every_steps=3), {str(out)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy())
    kill_after = random.randint(4, 12)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "log.jsonl").is_file() and len(_steps(out / "log.jsonl")) >= kill_after):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = load_state(out / "state.pt")["step"]  # the first checkpoint comes after step 1
    assert 1 <= saved <= max(_steps(out / "log.jsonl"))
    end = train(TrainConfig(**CFG, steps=saved + 3), out, resume=True)
    steps = _steps(out / "log.jsonl")
    assert steps == sorted(set(steps)) and steps[-1] == end["step"] == load_state(out / "state.pt")["step"]


def test_a_fresh_run_refuses_a_folder_holding_a_run_unless_forced(tmp_path):
    train(TrainConfig(**CFG, steps=2), tmp_path)
    with pytest.raises(UserError, match=r"holds a run at step 2: --resume to continue, --force to start over$"):
        train(TrainConfig(**CFG, steps=2), tmp_path)
    train(TrainConfig(**CFG, steps=1), tmp_path, force=True)
    assert _steps(tmp_path / "log.jsonl") == [1] and load_state(tmp_path / "state.pt")["step"] == 1


def test_checkpoints_come_every_n_steps_and_after_the_first(tmp_path):
    train(TrainConfig(**CFG, steps=7, checkpoint_every_steps=3, checkpoint_every_minutes=None), tmp_path)
    events = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "checkpoint"] == [1, 4, 7, 7]


def test_a_checkpoint_with_nan_weights_is_refused_at_load(tmp_path):
    from safetensors.torch import load_file, save_file

    from csp_diffusion import models
    from csp_diffusion.checkpoint import read_model
    from csp_diffusion.errors import CheckpointError

    train(TrainConfig(**CFG, steps=1), tmp_path)
    path = tmp_path / "model.safetensors"
    _, meta = read_model(path)
    tensors = load_file(str(path))
    name = next(k for k in tensors if tensors[k].dim() >= 2)
    tensors[name][0, 0] = float("nan")
    raw = {"kind": meta["kind"], "task": meta["task"], "config": json.dumps(meta["config"]), "info": json.dumps(meta["info"])}
    save_file(tensors, str(path), metadata=raw)
    with pytest.raises(CheckpointError, match=r"holds non-finite weights \(NaN or infinity, as a diverged run leaves\)"):
        models.load(path)


def test_each_puzzle_reports_its_own_time():
    """A puzzle solved at step 1 is timed to then, not to the end of the slowest puzzle of its batch."""
    import numpy as np
    import torch

    from csp_diffusion.sampler import Sampler, SamplerConfig
    from puzzles import sudoku
    from puzzles.sudoku.task import SudokuTask

    s = next(iter(sudoku.generate(1, "hard", seed=3)))
    easy = np.where(np.arange(81) == 0, 0, s.solution)  # one blank
    hard = s.givens.astype(np.int64)

    wrong = int(np.flatnonzero(hard == 0)[-1])  # the model believes a wrong digit here, so `hard` never ends

    slow = _half_sure(s.solution, wrong, lambda rows: time.sleep(0.02))
    out = Sampler(slow, SudokuTask(), SamplerConfig(loops=1, max_steps=20), torch.device("cpu")).solve(
        np.stack([easy, hard]))
    assert out[0].verified and out[0].steps == 1 and not out[1].verified
    assert out[0].seconds < out[1].seconds / 3  # was the batch's mean for both


def test_the_live_view_ends_on_the_chain_that_solved():
    """Chain 0 (greedy) follows the model's one wrong belief and cannot finish; a noisy chain can. The live
    view follows chain 0 step by step and then shows the answer's chain, not a half-filled grid."""
    import numpy as np
    import torch

    from csp_diffusion.blocks import fix_givens
    from csp_diffusion.network import Network
    from csp_diffusion.sampler import Sampler, SamplerConfig
    from puzzles import sudoku
    from puzzles.sudoku.task import SudokuTask

    s = next(iter(sudoku.generate(1, "hard", seed=5)))
    puzzle = s.givens.astype(np.int64)
    wrong = int(np.flatnonzero(puzzle == 0)[0])

    class Misled(Network):
        def forward(self, values, given, positions, graph, loops):
            answer = torch.as_tensor(s.solution, dtype=torch.long) - 1
            p = torch.full((len(values), 81, 9), 0.005 / 8)
            p[:, torch.arange(81), answer] = 0.995  # sure of every cell (committed at once) but one:
            p[:, wrong] = 0.3 / 8
            p[:, wrong, (answer[wrong] + 1) % 9] = 0.7  # where it prefers a wrong digit
            return fix_givens(p.log(), values, given)

    states = []
    cfg = SamplerConfig(loops=1, max_steps=60, chains=8, spare_after=0)
    out = Sampler(Misled(), SudokuTask(), cfg, torch.device("cpu")).solve(puzzle[None], on_step=states.append)
    assert out[0].verified and out[0].extra["chain"] > 0
    assert states[-1].chain == out[0].extra["chain"] and (states[-1].values == s.solution).all()
    assert all(st.chain == 0 for st in states[:-1])


def test_outcomes_stream_as_each_puzzle_is_final():
    """A puzzle finished at step 1 comes out then, while the slow one of its batch is still being solved."""
    import numpy as np
    import torch

    from csp_diffusion.sampler import Sampler, SamplerConfig
    from puzzles import sudoku
    from puzzles.sudoku.task import SudokuTask

    s = next(iter(sudoku.generate(1, "hard", seed=3)))
    easy = np.where(np.arange(81) == 0, 0, s.solution)
    hard = s.givens.astype(np.int64)
    wrong = int(np.flatnonzero(hard == 0)[-1])
    calls = []

    counting = _half_sure(s.solution, wrong, calls.append)
    stream = Sampler(counting, SudokuTask(), SamplerConfig(loops=1, max_steps=10), torch.device("cpu")).solve_iter(
        np.stack([hard, easy]))
    first, outcome = next(stream)
    assert first == 1 and outcome.verified and len(calls) == 1  # after one step, not ten
    assert [k for k, _ in stream] == [0] and len(calls) == 10


def _half_sure(solution, wrong: int, on_call):
    """A fake Sudoku network half sure of `solution`, but preferring a wrong digit at cell `wrong` (so a
    puzzle with that cell blank never ends); `on_call(rows)` runs on every forward pass."""
    import torch

    from csp_diffusion.blocks import fix_givens
    from csp_diffusion.network import Network

    class HalfSure(Network):
        def forward(self, values, given, positions, graph, loops):
            on_call(len(values))
            answer = torch.as_tensor(solution, dtype=torch.long) - 1
            answer[wrong] = (answer[wrong] + 1) % 9
            p = torch.full((len(values), 81, 9), 0.5 / 8)
            p[:, torch.arange(81), answer] = 0.5
            return fix_givens(p.log(), values, given)

    return HalfSure()
