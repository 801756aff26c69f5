"""LoopMDM: parameterization, looping, sampler, training, checkpoints, distributed training (tiny configs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TINY_LOOPMDM

from csp_diffusion import models
from csp_diffusion.checkpoint import read_model
from csp_diffusion.errors import CheckpointError
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.network import Network
from csp_diffusion.noising import noise
from csp_diffusion.sampler import Sampler, SamplerConfig
from csp_diffusion.train import TrainConfig, train
from puzzles import sudoku
from puzzles.sudoku.task import SudokuTask

ROOT = Path(__file__).resolve().parents[1]


def _inputs(task, n=4, seed=0):
    pool = task.make_pool(n, seed=seed, workers=1, mix=("hard",))
    return torch.as_tensor(pool[0], dtype=torch.long), torch.as_tensor(pool[1], dtype=torch.long)


def _structure(task):
    s = task.structure()
    return torch.as_tensor(s.positions), torch.as_tensor(s.adjacency)


def test_givens_are_fixed_by_the_parameterization():
    task = SudokuTask()
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM)).eval()
    puzzle, _ = _inputs(task)
    given = puzzle > 0
    logits = model(puzzle, given, *_structure(task), loops=2)
    probs = logits.softmax(-1)
    assert torch.all(probs[given].argmax(-1) + 1 == puzzle[given])
    assert torch.allclose(probs[given].max(-1).values, torch.ones(int(given.sum())))
    assert torch.isfinite(logits[~given]).all()


def test_any_loop_count_runs_and_loops_change_the_output():
    task = SudokuTask()
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM)).eval()
    puzzle, _ = _inputs(task, 2)
    outs = [model(puzzle, puzzle > 0, *_structure(task), loops=k) for k in (1, 2, 5)]
    assert all(o.shape == (2, 81, 9) for o in outs)
    assert not torch.allclose(outs[0], outs[2])


def test_truncated_backprop_only_differentiates_the_last_loops():
    task = SudokuTask()
    torch.manual_seed(0)
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM))
    puzzle, solution = _inputs(task, 2)
    out = model(puzzle, puzzle > 0, *_structure(task), loops=3, grad_loops=1)
    out[~(puzzle > 0)].logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in model.core.parameters())
    assert all(p.grad is not None for p in model.prelude.parameters())


def test_peer_attention_is_local_and_full_attention_is_not():
    """Changing one cell moves only its peers' outputs after one peer-attention block."""
    task = SudokuTask()
    pos, adj = _structure(task)
    cfg = LoopMDMConfig(**{**TINY_LOOPMDM, "prelude": 1, "core": 0, "coda": 0})
    for peer, expect_local in ((True, True), (False, False)):
        torch.manual_seed(0)
        model = LoopMDM(LoopMDMConfig(**{**cfg.__dict__, "peer_attention": peer})).eval()
        a = torch.zeros(1, 81, dtype=torch.long)
        b = a.clone()
        b[0, 0] = 5
        ga = torch.zeros_like(a, dtype=torch.bool)
        diff = (model(a, ga, pos, adj, loops=1) - model(b, ga, pos, adj, loops=1)).abs().sum(-1)[0]
        far = ~adj[0]
        assert (diff[far].max() < 1e-6) == expect_local


def test_flops_and_params_are_reported():
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM))
    assert model.num_params() == sum(p.numel() for p in model.parameters())
    assert model.flops(4, 81, 21) > model.flops(1, 81, 21) > 0


def test_noise_keeps_givens_and_reveals_right_and_wrong_values():
    task = SudokuTask()
    puzzle, solution = _inputs(task, 64)
    values, given = noise(puzzle, solution, 9, torch.Generator().manual_seed(0), p_wrong=0.5)
    assert torch.equal(values[given], puzzle[given])
    revealed = (values > 0) & ~given
    assert revealed.any() and (values[revealed] != solution[revealed]).any() and (values[revealed] == solution[revealed]).any()
    assert ((values >= 0) & (values <= 9)).all()


class _Oracle(Network):
    """A fake network that knows the solution: tests the sampler without training.

    wrong_first=(cell, value): on its first call it is sure of a wrong value there.
    """

    def __init__(self, solution, wrong_first=None):
        super().__init__()
        self.solution, self.wrong_first, self.calls = solution, wrong_first, 0

    def forward(self, values, given, positions, adjacency, loops):
        self.calls += 1
        logits = torch.full((*values.shape, 9), -4.0)
        logits.scatter_(-1, (self.solution - 1).expand(values.shape[0], -1)[..., None], 4.0)
        if self.wrong_first is not None and self.calls == 1:
            cell, value = self.wrong_first
            logits[:, cell] = -4.0
            logits[:, cell, value - 1] = 9.0
        return logits


def test_sampler_solves_with_a_perfect_model_and_reports_counters():
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)
    model = _Oracle(solution[0])
    out = Sampler(model, task, SamplerConfig(loops=1, max_steps=10), torch.device("cpu")).solve(puzzle.numpy())
    assert out[0].verified and np.array_equal(out[0].values, solution[0].numpy())
    assert out[0].steps == 1 and out[0].commits == int((puzzle == 0).sum()) and out[0].retractions == 0


def test_sampler_retracts_a_wrong_commitment_and_recovers():
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)
    cell = int((puzzle[0] == 0).nonzero()[0])
    wrong = int(solution[0, cell]) % 9 + 1
    cfg = SamplerConfig(loops=1, max_steps=10, tabu=0)
    out = Sampler(_Oracle(solution[0], (cell, wrong)), task, cfg, torch.device("cpu")).solve(puzzle.numpy())
    assert out[0].verified and out[0].retractions >= 1
    off = Sampler(_Oracle(solution[0], (cell, wrong)), task, SamplerConfig(loops=1, max_steps=10, retract=False),
                  torch.device("cpu")).solve(puzzle.numpy())
    assert not off[0].verified and off[0].retractions == 0


def test_an_unsure_model_whose_best_values_solve_the_grid_is_taken_whole_at_once():
    """No cell clears the commit threshold, but the argmax fills the grid without a clash: solved in one step.
    One argmax cell made to clash with a peer: the grid is not taken whole, and fills a cell or so per step."""
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)

    class Unsure(_Oracle):
        def __init__(self, target):
            super().__init__(target)

        def forward(self, values, given, positions, adjacency, loops):
            return super().forward(values, given, positions, adjacency, loops) / 4  # top probability 0.25

    out = Sampler(Unsure(solution[0]), task, SamplerConfig(loops=1, max_steps=10), torch.device("cpu")).solve(puzzle.numpy())
    assert out[0].verified and out[0].steps == 1 and out[0].commits == int((puzzle == 0).sum())
    open_cells = (puzzle[0] == 0).nonzero()[:, 0].tolist()
    a, b = next((i, j) for i in open_cells for j in open_cells if j in sudoku.PEERS[i])
    wrong = solution[0].clone()
    wrong[a] = wrong[b]  # two peers with one value: the argmax grid clashes
    out = Sampler(Unsure(wrong), task, SamplerConfig(loops=1, max_steps=10), torch.device("cpu")).solve(puzzle.numpy())
    assert not out[0].verified and out[0].steps == 10 and out[0].commits < int((puzzle == 0).sum())


def test_training_resumes_exactly(tmp_path):
    cfg = dict(batch_size=8, pool_size=64, eval_puzzles=0, log_every=1, model_config=TINY_LOOPMDM)
    full = train(TrainConfig(**{**cfg, "steps": 6}), tmp_path / "a")

    def interrupt(event):
        if event.get("event") == "step" and event["step"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**{**cfg, "steps": 6}), tmp_path / "b", on_event=interrupt)
    resumed = train(TrainConfig(**{**cfg, "steps": 6}), tmp_path / "b", resume=True)
    assert resumed["step"] == 6
    assert resumed["loss"] == pytest.approx(full["loss"], rel=1e-5)
    wa, _ = read_model(tmp_path / "a" / "model.safetensors")
    wb, _ = read_model(tmp_path / "b" / "model.safetensors")
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in log].count("start") == 2


def test_carry_trains_warm_start_transitions_from_an_earlier_grid(tmp_path):
    from csp_diffusion.objectives import MDMObjective

    task = SudokuTask()
    model = LoopMDM(LoopMDMConfig(**{**TINY_LOOPMDM, "carry": 1.0}))
    puzzle, solution = _inputs(task, 8)
    gen = torch.Generator().manual_seed(0)
    obj = MDMObjective(model, model, task, (puzzle.numpy(), solution.numpy()), 8, torch.device("cpu"), gen,
                       np.random.default_rng(0), _structure(task), False)
    values, given = noise(puzzle, solution, 9, gen, p_start=0.0)
    earlier = obj._earlier(values, given)
    # an earlier grid only masks cells the later one has revealed: givens stay, nothing new appears
    assert torch.equal(earlier[given], values[given]) and ((earlier == values) | (earlier == 0)).all()
    assert (earlier == 0).sum() > (values == 0).sum()
    loss, flops, detail = obj.step()
    assert detail["carried"] >= 1 and torch.isfinite(loss) and flops > 0
    loss.backward()
    assert model.head.weight.grad is not None


def test_init_fine_tunes_from_a_checkpoint_and_keeps_its_shape(tmp_path):
    train(TrainConfig(steps=2, batch_size=4, pool_size=32, eval_puzzles=0, model_config=TINY_LOOPMDM), tmp_path / "a")
    start = tmp_path / "a" / "model.safetensors"
    events = []
    train(TrainConfig(steps=1, batch_size=4, pool_size=32, eval_puzzles=0, lr=1e-12, warmup=1, init=str(start),
                      model_config={"carry": 1.0, "max_loops": 5}), tmp_path / "b", on_event=events.append)
    wa, _ = read_model(start)
    wb, meta = read_model(tmp_path / "b" / "model.safetensors")
    assert meta["config"]["dim"] == 32 and meta["config"]["carry"] == 1.0 and meta["config"]["max_loops"] == 5
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)  # lr ~0: the weights it started from
    before = read_model(start)[1]["info"]["train_flops"]  # the weights' whole training: init's FLOPs and its own
    own = meta["info"]["train_flops"] - meta["info"]["init_flops"]
    assert meta["info"]["init_flops"] == before and own > 0
    # a resumed fine-tune needs only its own folder, and still counts its init's FLOPs
    start.unlink()
    assert train(TrainConfig(steps=2), tmp_path / "b", resume=True)["step"] == 2
    info = read_model(tmp_path / "b" / "model.safetensors")[1]["info"]
    assert info["init_flops"] == before and info["train_flops"] > before + own
    from puzzles.errors import UserError

    train(TrainConfig(steps=1, batch_size=4, pool_size=32, eval_puzzles=0, model_config=TINY_LOOPMDM), tmp_path / "a",
          force=True)
    with pytest.raises(UserError, match="changes the shape"):
        train(TrainConfig(steps=1, batch_size=4, pool_size=32, eval_puzzles=0, init=str(start),
                          model_config={"dim": 48}), tmp_path / "c")


def test_checkpoint_carries_config_and_rebuilds(tmp_path):
    train(TrainConfig(steps=2, batch_size=4, pool_size=32, eval_puzzles=0, model_config=TINY_LOOPMDM), tmp_path)
    model, meta = models.load(tmp_path / "model.safetensors", "loopmdm", "sudoku")
    assert meta["config"]["dim"] == 32 and meta["info"]["step"] == 2 and meta["info"]["train_flops"] > 0
    assert isinstance(model, LoopMDM)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"\x00" * 100])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a valid model checkpoint"):
        models.load(bad)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        models.load(tmp_path / "missing.safetensors")


def test_checkpoint_for_another_task_is_refused(tmp_path):
    train(TrainConfig(steps=1, batch_size=4, pool_size=32, eval_puzzles=0, model_config=TINY_LOOPMDM), tmp_path)
    with pytest.raises(CheckpointError, match="trained for sudoku"):
        models.load(tmp_path / "model.safetensors", task="maze")


def test_distributed_training_with_two_cpu_processes(tmp_path):
    """torchrun --nproc_per_node 2 (gloo) for a few steps; rank 0 writes the run."""
    env = {**os.environ, "CSP_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cli", "train", "loopmdm", "--steps", "3", "--batch-size", "4", "--pool-size", "32",
           "--out", str(tmp_path / "run"), "--eval-every", "1000",
           "--set", "dim=32", "--set", "heads=2", "--set", "max_loops=2"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, meta = read_model(tmp_path / "run" / "model.safetensors")
    assert meta["info"]["world_size"] == 2 and meta["info"]["step"] == 3


def test_a_stuck_chain_restarts_and_never_reports_a_wrong_grid():
    """A model stubbornly sure of a value that clashes with a given: the grid stops growing, the chain restarts."""
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)
    cell = int((puzzle[0] == 0).nonzero()[0])
    peer = next(int(j) for j in sudoku.PEERS[cell] if puzzle[0, j] > 0)

    class Stubborn(_Oracle):
        def forward(self, values, given, positions, adjacency, loops):
            logits = super().forward(values, given, positions, adjacency, loops)
            logits[:, cell] = -4.0
            logits[:, cell, int(puzzle[0, peer]) - 1] = 9.0
            return logits

    cfg = SamplerConfig(loops=1, max_steps=20, patience=3)
    out = Sampler(Stubborn(solution[0]), task, cfg, torch.device("cpu")).solve(puzzle.numpy())
    assert not out[0].verified and out[0].extra["restarts"] >= 1 and out[0].retractions >= 1
    cfg = SamplerConfig(loops=1, max_steps=20, patience=0)
    out = Sampler(Stubborn(solution[0]), task, cfg, torch.device("cpu")).solve(puzzle.numpy())
    assert not out[0].verified and out[0].extra["restarts"] == 0


def test_spare_chains_join_only_for_puzzles_still_unsolved():
    """With 4 chains, an easy puzzle runs one chain; a stuck one gets the other 3 after `spare_after` steps."""
    task = SudokuTask()
    puzzle, solution = _inputs(task, 2)

    class Recording(_Oracle):
        """Sure of the solution for puzzle 0; for puzzle 1, sure of a value that clashes with a given."""

        def __init__(self):
            super().__init__(solution[0])
            self.rows = []

        def forward(self, values, given, positions, adjacency, loops):
            self.rows.append(values.shape[0])
            logits = torch.full((*values.shape, 9), -4.0)
            for i, v in enumerate(values):
                easy = bool((given[i] == (puzzle[0] > 0)).all()) and bool((v[given[i]] == puzzle[0][given[i]]).all())
                target = solution[0] if easy else torch.ones_like(solution[1])
                logits[i].scatter_(-1, (target - 1)[:, None], 4.0)
            return logits

    model = Recording()
    out = Sampler(model, task, SamplerConfig(loops=1, max_steps=8, chains=4, spare_after=3), torch.device("cpu")).solve(
        puzzle.numpy())
    assert out[0].verified and not out[1].verified
    # steps 1-3: one chain each (2 rows); puzzle 0 is solved in step 1, so from step 4 on only puzzle 1's 4 chains run
    assert model.rows[:3] == [2, 1, 1] and len(model.rows) == 8
    # step 4: the 3 spares join with the bare puzzle, one grid between them (run once) beside chain 0's
    assert model.rows[3] == 2 and all(1 < r <= 4 for r in model.rows[4:])
    model = Recording()
    Sampler(model, task, SamplerConfig(loops=1, max_steps=2, chains=4, spare_after=0), torch.device("cpu")).solve(
        puzzle.numpy())
    assert model.rows[0] == 2  # step 1: a puzzle's 4 chains hold the same grid, which runs once
    assert 1 < model.rows[1] <= 4  # step 2: puzzle 1's chains, apart once their commits differ


def test_a_carried_state_continues_the_loops_exactly():
    """Warm start: a loops, then b more from the returned core state, equals a + b loops on the same grid."""
    task = SudokuTask()
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM)).eval()
    puzzle, _ = _inputs(task, 2)
    args = (puzzle, puzzle > 0, *_structure(task))
    with torch.no_grad():
        cold, state = model(*args, loops=2, return_state=True)
        assert torch.allclose(cold, model(*args, loops=2)) and state.shape == (2, 81, TINY_LOOPMDM["dim"])
        assert torch.allclose(model(*args, loops=2, state=torch.zeros_like(state)), cold)
        warm = model(*args, loops=3, state=state)
        assert torch.allclose(warm, model(*args, loops=5), atol=1e-5)
        assert not torch.allclose(warm, model(*args, loops=3), atol=1e-3)


def test_warm_steps_run_fewer_loops_and_a_restart_goes_cold_again():
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)
    torch.manual_seed(0)
    model = LoopMDM(LoopMDMConfig(**TINY_LOOPMDM)).eval()  # untrained: it stalls, so its chain restarts
    calls = []
    forward = model.forward

    def spy(values, given, positions, graph, loops, **kw):
        calls.append((loops, kw.get("state") is not None))
        return forward(values, given, positions, graph, loops, **kw)

    model.forward = spy
    cfg = SamplerConfig(loops=3, max_steps=6, warm_loops=1, patience=2)
    out = Sampler(model, task, cfg, torch.device("cpu")).solve(puzzle.numpy())
    assert calls[0] == (3, False) and (1, True) in calls[1:]
    assert all(warm == (loops == 1) for loops, warm in calls)
    assert out[0].extra["restarts"] >= 1 and calls.count((3, False)) >= 2  # the step after a restart is cold


def test_a_time_limit_gives_up_before_the_step_limit():
    import time

    task = SudokuTask()
    puzzle, solution = _inputs(task, 2)

    class Slow(_Oracle):
        def forward(self, values, given, positions, adjacency, loops):
            time.sleep(0.05)
            logits = super().forward(values, given, positions, adjacency, loops)
            return logits.index_fill(-1, torch.tensor([0]), 9.0)  # sure of 1 everywhere: never solves

    start = time.perf_counter()
    cfg = SamplerConfig(loops=1, max_steps=1000, time_limit=0.2, patience=0)
    out = Sampler(Slow(solution[0]), task, cfg, torch.device("cpu")).solve(puzzle.numpy())
    assert time.perf_counter() - start < 2 * 0.2 + 0.1  # two puzzles, 0.2 s each, in one batch
    assert all(o.extra["timed_out"] and not o.verified and 3 <= o.steps < 20 for o in out)


def test_own_commits_trains_on_the_models_own_surest_answers_and_counts_their_pass(tmp_path):
    from csp_diffusion.objectives import MDMObjective

    task = SudokuTask()
    model = LoopMDM(LoopMDMConfig(**{**TINY_LOOPMDM, "own_commits": 1.0}))
    puzzle, solution = _inputs(task, 8)
    gen = torch.Generator().manual_seed(0)
    obj = MDMObjective(model, model, task, (puzzle.numpy(), solution.numpy()), 8, torch.device("cpu"), gen,
                       np.random.default_rng(0), _structure(task), False)
    given = puzzle > 0
    values = obj._own_commits(puzzle, given)
    with torch.no_grad():
        probs = model(puzzle, given, obj.positions, obj.graph, model.max_loops).softmax(-1)
    committed = (values > 0) & ~given
    assert torch.equal(values[given], puzzle[given]) and committed.any()
    assert torch.equal(values[committed], probs.argmax(-1)[committed] + 1)  # its own answers, right or wrong
    for row in range(len(puzzle)):  # the surest cells of each row, none less sure than one left masked
        c, m = committed[row], (values[row] == 0)
        if c.any() and m.any():
            assert probs[row].max(-1).values[c].min() >= probs[row].max(-1).values[m].max() - 1e-6
    loss, flops, detail = obj.step()
    assert detail["own"] and torch.isfinite(loss)
    per_grid = model.flops(model.max_loops, obj.cells, obj.neighbours)  # the no-grad pass that made the grid
    assert flops == pytest.approx(8 * (obj._flops(detail["loops"]) + per_grid))
    loss.backward()
    assert model.head.weight.grad is not None


def test_sudoku_chains_run_in_their_own_frames_and_answer_in_the_puzzles(monkeypatch):
    """Chain c runs in frame c: a stand-in model that sees which frame it is shown and knows the answer in
    frame 3 only (elsewhere it is sure of a clash) is solved by chain 3, its answer mapped back."""
    monkeypatch.setattr(SudokuTask, "n_frames", 4)
    task = SudokuTask()
    puzzle, solution = _inputs(task, 1)
    perms = torch.as_tensor(task.frames())

    class RightInFrame3(_Oracle):
        def forward(self, values, given, positions, adjacency, loops):
            logits = torch.full((*values.shape, 9), -4.0)
            for i, g in enumerate(given):
                k = next(k for k, p in enumerate(perms) if (g == (puzzle[0][p] > 0)).all()
                         and (values[i][g] == puzzle[0][p][g]).all())
                target = solution[0][perms[k]] if k == 3 else torch.ones_like(solution[0])
                logits[i].scatter_(-1, (target - 1)[:, None], 4.0)
            return logits

    out = Sampler(RightInFrame3(solution[0]), task, SamplerConfig(loops=1, max_steps=4, chains=4, spare_after=0),
                  torch.device("cpu")).solve(puzzle.numpy())[0]
    assert out.verified and out.extra["frame"] == 3 and np.array_equal(out.values, solution[0].numpy())
    one = Sampler(RightInFrame3(solution[0]), task, SamplerConfig(loops=1, max_steps=4, chains=3, spare_after=0),
                  torch.device("cpu")).solve(puzzle.numpy())[0]
    assert not one.verified  # three chains: frames 0-2 only


def test_a_cpu_batch_takes_only_the_idle_cores(monkeypatch):
    from csp_diffusion import runtime

    cpu, before = torch.device("cpu"), torch.get_num_threads()
    seen = runtime.idle_cores()
    assert seen is None or 0 <= seen <= os.cpu_count()
    try:
        torch.set_num_threads(2)
        for idle, inside in ((2, 2), (1, 1), (0, 1), (None, 1), (8, 2)):
            monkeypatch.setattr(runtime, "idle_cores", lambda idle=idle: idle)
            with runtime.idle_threads(cpu):
                assert torch.get_num_threads() == inside
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_attention_kernel_choice_changes_only_rounding():
    """blocks.attend picks the math kernel for bf16 training on a CPU (speed); it must be the same attention as
    PyTorch's default kernel, values and gradients, to bf16 rounding, with and without a mask."""
    import torch.nn.functional as F

    from csp_diffusion.blocks import attend

    gen = torch.Generator().manual_seed(0)
    mask = (torch.rand(81, 81, generator=gen) < 0.3) | torch.eye(81, dtype=torch.bool)
    for m in (mask, None):
        base = [torch.randn(4, 4, 81, 16, generator=gen) for _ in range(3)]
        grads = []
        for fn in (attend, lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)):
            q, k, v = [t.to(torch.bfloat16).requires_grad_() for t in base]
            out = fn(q, k, v, m)
            out.float().square().sum().backward()
            grads.append([out.float(), *(t.grad.float() for t in (q, k, v))])
        for a, b in zip(*grads):
            assert torch.allclose(a, b, atol=0.05, rtol=0.05), (a - b).abs().max()
