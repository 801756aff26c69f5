"""The maze task for neural models: encoding, structure, the path clash rule, size-free models, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY_MAZE
from typer.testing import CliRunner

from cli.app import app
from csp_diffusion.blocks import fix_givens
from csp_diffusion.constraints import rule_for
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.network import Network
from csp_diffusion.sampler import Sampler, SamplerConfig
from puzzles import maze as mz
from puzzles.maze.task import MazeTask

runner = CliRunner()


def _solution(task: MazeTask, m: mz.Maze) -> np.ndarray:
    s = np.full(m.shape, task.OFF)
    s[mz.path_mask(mz.solve(m))] = task.ON
    s[m.start] = s[m.goal] = task.ON
    return s.reshape(-1)


def test_encode_decode_and_verify_round_trip():
    task = MazeTask()
    m = mz.generate(1, 11, seed=3)[0]
    values, shape = task.encode(m)
    assert shape == (11, 11) and set(np.unique(values)) <= {0, task.OFF, task.ON, task.START}
    assert (values == task.ON).sum() == 1 and values.reshape(shape)[m.start] == task.START
    assert np.array_equal(values.reshape(shape) == task.OFF, m.walls)
    back = task.decode(values, shape)
    assert np.array_equal(back.walls, m.walls) and (back.start, back.goal) == (m.start, m.goal)
    plain = task.decode(task.classes(values), shape)  # without the mark: S is the first end in row-major order
    assert {plain.start, plain.goal} == {m.start, m.goal}
    sol = _solution(task, m)
    assert task.verify(values, sol, shape)
    broken = sol.copy()
    broken[np.flatnonzero((sol == task.ON) & (values == 0))[0]] = task.OFF
    assert not task.verify(values, broken, shape)
    assert mz.parse(task.text(sol, shape, m)) == mz.solve(m)


def test_structure_lists_the_four_neighbours_in_fixed_slots():
    st = MazeTask().structure((3, 4))
    assert st.adjacency is None and st.shape == (3, 4) and st.positions.shape == (12, 2)
    # cell 5 = (1, 1): self, up (0,1)=1, right (1,2)=6, down (2,1)=9, left (1,0)=4
    assert st.neighbours[5].tolist() == [5, 1, 6, 9, 4]
    assert st.neighbours[0].tolist() == [0, -1, 1, 4, -1]


def test_training_pairs_are_solved_mazes_under_symmetries():
    task = MazeTask()
    pool = task.make_pool(20, seed=1)
    p, s = task.training_pairs(pool, 16, np.random.default_rng(0))
    side = task.TRAIN_SIZE
    assert p.shape == s.shape == (16, side * side)
    assert all(task.verify(a, b, (side, side)) for a, b in zip(p, s))


def test_one_model_runs_on_any_maze_size():
    model = LoopMDM(LoopMDMConfig(**TINY_MAZE)).eval()
    task = MazeTask()
    for size in (7, 15, 31):
        m = mz.generate(1, size, seed=size)[0]
        v, shape = task.encode(m)
        st = task.structure(shape)
        logits = model(torch.as_tensor(v)[None], torch.as_tensor(v > 0)[None], torch.as_tensor(st.positions),
                       torch.as_tensor(st.graph), loops=2)
        assert logits.shape == (1, size * size, 2)


def test_local_attention_only_sees_the_neighbourhood():
    """After one block, changing a cell moves only itself and its four neighbours."""
    torch.manual_seed(0)
    model = LoopMDM(LoopMDMConfig(**{**TINY_MAZE, "prelude": 1, "core": 0, "coda": 0})).eval()
    st = MazeTask().structure((7, 7))
    graph = torch.as_tensor(st.graph)
    a = torch.zeros(1, 49, dtype=torch.long)
    b = a.clone()
    b[0, 24] = 2  # the centre
    g = torch.zeros_like(a, dtype=torch.bool)
    diff = (model(a, g, torch.as_tensor(st.positions), graph, 1) - model(b, g, torch.as_tensor(st.positions), graph, 1))
    moved = set(np.flatnonzero(diff.abs().sum(-1)[0].detach().numpy() > 1e-6).tolist())
    assert moved <= {24, 17, 25, 31, 23} and 24 in moved


def test_path_rule_retracts_dead_ends_and_the_weakest_branch():
    task = MazeTask()
    # a corridor S . . . G in a 3x7 box; cell values: wall OFF, ends ON
    m = mz.parse("#######\n#S   G#\n#######")
    v, shape = task.encode(m)
    graph = torch.as_tensor(task.structure(shape).graph)
    committed = torch.zeros(1, 21, dtype=torch.bool)
    row = torch.as_tensor(v)[None].clone()
    # a committed on-path cell walled in by a committed off-path cell: a dead end
    row[0, 9], row[0, 10] = task.ON, task.OFF
    committed[0, 9] = committed[0, 10] = True
    conf = torch.ones(1, 21)
    out = rule_for(task, graph).clashing(row, conf, committed)
    assert out[0, 9] and not out[0, 10]
    # on the open row of a 5x7 maze, a cell with three on-path neighbours branches; its weakest goes
    m2 = mz.parse("#######\n#S    #\n#    G#\n#     #\n#######")
    v2, shape2 = task.encode(m2)
    g2 = torch.as_tensor(task.structure(shape2).graph)
    row2 = torch.as_tensor(v2)[None].clone()
    # committed on-path: (1,2) 0.9, (1,3) 0.95, (2,2) 0.3, (3,2) 0.8; (1,2) then touches S, (1,3) and (2,2)
    committed2 = torch.zeros(1, 35, dtype=torch.bool)
    conf2 = torch.ones(1, 35)
    for c, p in {9: 0.9, 10: 0.95, 16: 0.3, 23: 0.8}.items():
        row2[0, c] = task.ON
        committed2[0, c] = True
        conf2[0, c] = p
    out2 = rule_for(task, g2).clashing(row2, conf2, committed2)
    assert out2[0, 16] and not out2[0, 9] and not out2[0, 10] and not out2[0, 23]


class _Knows(Network):
    def __init__(self, solution: torch.Tensor):
        super().__init__()
        self.solution = solution

    def forward(self, values, given, positions, graph, loops):
        return torch.nn.functional.one_hot(self.solution - 1, 2).float().expand(len(values), -1, -1) * 8 - 4


def test_sampler_finds_the_path_with_a_perfect_model_and_verifies_it():
    task = MazeTask()
    m = mz.generate(1, 13, kind="open", seed=2)[0]
    v, shape = task.encode(m)
    sol = torch.as_tensor(_solution(task, m))
    out = Sampler(_Knows(sol), task, SamplerConfig(loops=1, max_steps=8), torch.device("cpu")).solve(v[None], shape=shape)
    assert out[0].verified and out[0].retractions == 0
    wrong = sol.clone()
    wrong[int(np.flatnonzero((sol.numpy() == task.ON) & (v == 0))[0])] = task.OFF  # a gap in the path
    out = Sampler(_Knows(wrong), task, SamplerConfig(loops=1, max_steps=8), torch.device("cpu")).solve(v[None], shape=shape)
    assert not out[0].verified


def _train_tiny(out, *extra: str):
    import os

    os.environ["CSP_CACHE"] = str(out / "cache")
    r = runner.invoke(app, ["train", "loopmdm", "--task", "maze", "--steps", "2", "--batch-size", "4",
                            "--pool-size", "16", "--out", str(out), "--set", "dim=32", "--set", "heads=2",
                            "--set", "max_loops=2", *extra])
    assert r.exit_code == 0, r.output
    return out / "model.safetensors"


@pytest.fixture(scope="module")
def maze_checkpoint(tmp_path_factory):
    """The product's kind: a trace model (trained on 7x7 grids)."""
    return _train_tiny(tmp_path_factory.mktemp("maze-run"), "--grid", "7")


def test_cli_solves_mazes_of_several_sizes_with_a_checkpoint_and_never_claims_a_wrong_path(maze_checkpoint, tmp_path):
    mazes = mz.generate(2, 9, seed=1) + mz.generate(1, 21, seed=2)
    f = tmp_path / "m.txt"
    f.write_text(mz.write_text(mazes, with_path=False))
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint), "--steps", "3", "--json"])
    assert r.exit_code in (0, 1), r.output
    import json

    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 3 and all(row["solver"] == "loopmdm" for row in rows)
    # a trace model's loop cap: 2 per unknown cell + 64, rounded up to a multiple of 32
    caps = [32 * -(-(2 * int((MazeTask().encode(m)[0] == 0).sum()) + 64) // 32) for m in mazes]
    assert [row["loops"] for row in rows] == caps
    assert all(32 <= row["first_step_loops"] <= cap for row, cap in zip(rows, caps))
    for row in rows:
        assert row["verified"] == (row["solution"] is not None)
        if row["solution"]:
            assert mz.is_solution(mz.parse(row["solution"]))


def test_results_keep_s_and_g_where_the_maze_has_them(tmp_path):
    """The model sees S and G as the same token; the text it returns must still be the user's maze
    (a goal above the start once came back with the two swapped)."""
    f = tmp_path / "m.txt"
    f.write_text("#######\n#G    #\n# ### #\n#    S#\n#######\n")
    r = runner.invoke(app, ["solve", "maze", str(f), "--json"])  # the shipped model
    import json

    row = json.loads(r.stdout)
    assert r.exit_code == 0 and row["verified"], r.output
    given = mz.parse(f.read_text())
    for text in (row["puzzle"], row["solution"]):
        m = mz.parse(text)
        assert (m.start, m.goal) == (given.start, given.goal)
    assert mz.is_solution(mz.parse(row["solution"]))


def test_cli_maze_errors_are_one_line(maze_checkpoint, tmp_path):
    f = tmp_path / "m.txt"
    f.write_text("#####\n#S  #\n#####")  # no goal
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    sudoku_ckpt = tmp_path / "bad.safetensors"
    sudoku_ckpt.write_bytes(b"junk")
    f.write_text("#####\n#S G#\n#####")
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(sudoku_ckpt)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_unreachable_goal_is_reported_not_guessed(maze_checkpoint, tmp_path):
    f = tmp_path / "m.txt"
    f.write_text("#######\n#S # G#\n#######")
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint), "--json"])
    assert r.exit_code == 1
    assert "cannot be reached" in r.stdout


def test_cli_show_draws_the_path_live_and_reports_once(maze_checkpoint, tmp_path):
    f = tmp_path / "m.txt"
    f.write_text(mz.write_text(mz.generate(1, 9, seed=5), with_path=False))
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint), "--steps", "2", "--show"])
    assert r.exit_code in (0, 1) and "Traceback" not in r.output
    assert "step 2" in r.stdout and "loops" in r.stdout
    assert r.stdout.count("solved (verified)") + r.stdout.count("unsolved") == 1


def test_trace_is_a_wave_from_g_then_a_walk_from_s():
    task = MazeTask()
    m = mz.generate(1, 11, seed=4, kind="open")[0]
    values, shape = task.encode(m)
    trace = task.trace(values[None], shape)
    dist, on, t = trace["dist"][0], trace["on"][0], int(trace["length"][0])
    w = shape[1]
    assert dist[m.goal[0] * w + m.goal[1]] == 0 and dist[m.start[0] * w + m.start[1]] == t
    assert (dist[values.reshape(-1) == task.OFF] == -1).all()
    # the walked cells are one shortest path: S and G plus one cell at each distance in between
    assert sorted(dist[on].tolist()) == list(range(t + 1))
    assert task.verify(values, np.where(on, task.ON, task.OFF), shape)


def test_a_trace_model_trains_on_its_trace_and_the_coda_on_finished_walks():
    from csp_diffusion.objectives import MDMObjective

    torch.manual_seed(0)
    task = MazeTask(7)
    model = LoopMDM(LoopMDMConfig(**{**TINY_MAZE, "grad_loops": 3, "trace": task.trace_size}))
    st = task.structure()
    rng = np.random.default_rng(0)
    obj = MDMObjective(model, model, task, task.make_pool(32, seed=0), 8, torch.device("cpu"),
                       torch.Generator().manual_seed(0), rng, (torch.as_tensor(st.positions), torch.as_tensor(st.graph)), False)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first, coda_trained = None, False
    for _ in range(25):
        loss, flops, detail = obj.step()
        assert torch.isfinite(loss) and flops > 0 and detail["loops"] >= 1
        opt.zero_grad()
        loss.backward()
        assert model.trace_head.weight.grad.abs().sum() > 0
        assert model.embed.value.weight.grad[task.START].abs().sum() > 0  # S has its own token
        coda_trained |= model.head.weight.grad is not None and bool(model.head.weight.grad.abs().sum() > 0)
        opt.step()
        first = detail["trace_loss"] if first is None else first
    assert detail["trace_loss"] < first  # learning something of the trace
    assert coda_trained  # the coda learns the path on finished walks (the shipped recipe), though the flag answers


def test_start_is_a_given_on_path_cell_to_the_network():
    model = LoopMDM(LoopMDMConfig(**TINY_MAZE)).eval()
    task = MazeTask()
    m = mz.generate(1, 7, seed=2)[0]
    v, shape = task.encode(m)
    st = task.structure(shape)
    logits = model(torch.as_tensor(v)[None], torch.as_tensor(v > 0)[None], torch.as_tensor(st.positions),
                   torch.as_tensor(st.graph), loops=2)
    s = m.start[0] * shape[1] + m.start[1]
    assert logits[0, s].argmax().item() + 1 == task.ON and torch.isinf(logits[0, s, task.OFF - 1])


def test_time_limit_cuts_a_long_step_between_chunks_of_loops(maze_checkpoint, tmp_path):
    """A trace model runs a loop per open cell: on a large maze one step is long, and --time-limit
    must still hold."""
    import json
    import time

    f = tmp_path / "big.txt"
    f.write_text(mz.write_text(mz.generate(1, 61, seed=1, kind="open"), with_path=False))
    t0 = time.perf_counter()
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint), "--json", "--time-limit", "0.2"])
    row = json.loads(r.stdout)
    assert r.exit_code == 1 and row["error"] == "gave up at the time limit" and row["loops"] > 1000
    assert time.perf_counter() - t0 < 5 and row["seconds"] < 1.0


def test_time_limit_holds_on_a_large_open_room(maze_checkpoint, tmp_path):
    """One loop over a 150 x 150 room costs what 20 loops over a 30 x 30 maze do: the deadline is checked
    between pieces sized to the grid, so a short limit holds (it overran 4.5x with chunks of 32 loops)."""
    import json
    import time

    n = 150
    room = "\n".join(["#" * n] + ["#" + " " * (n - 2) + "#"] * (n - 2) + ["#" * n])
    room = room.replace(" ", "S", 1)[::-1].replace(" ", "G", 1)[::-1]
    f = tmp_path / "room.txt"
    f.write_text(room + "\n")
    t0 = time.perf_counter()
    r = runner.invoke(app, ["solve", "maze", str(f), "--checkpoint", str(maze_checkpoint), "--json", "--time-limit", "1"])
    wall = time.perf_counter() - t0
    row = json.loads(r.stdout)
    assert r.exit_code == 1 and row["error"] == "gave up at the time limit"
    assert row["seconds"] < 2.0 and wall < 6


class _TraceOracleModel(Network):
    """A stand-in trace model for the sampler: its argmax is the maze's shortest path once the core
    has run `ready` loops in all (state counts them), and only 60% sure of it; off-path before."""

    carries_state = True
    trace = 5

    def __init__(self, solution: np.ndarray, ready: int):
        super().__init__()
        self.config = LoopMDMConfig(**{**TINY_MAZE, "trace": 5})
        self.solution, self.ready = torch.as_tensor(solution), ready

    def forward(self, values, given, positions, graph, loops, grad_loops=None, state=None, return_state=False,
                quiet=None):
        ran = (torch.zeros(len(values)) if state is None else state[:, 0, 0]) + loops  # (B,)
        on = (self.solution == MazeTask.ON)[None] & (ran[:, None] >= self.ready)
        p = torch.where(on[..., None], torch.tensor([0.4, 0.6]), torch.tensor([0.6, 0.4]))
        logits = fix_givens(p.log(), values, given)
        return (logits, ran[:, None, None].expand(-1, values.shape[1], 1)) if return_state else logits


def test_a_trace_model_stops_looping_once_its_answer_verifies_and_commits_it_whole():
    task = MazeTask()
    m = mz.generate(1, 15, seed=3, kind="open")[0]
    values, shape = task.encode(m)
    model = _TraceOracleModel(_solution(task, m), ready=70)
    sampler = Sampler(model, task, SamplerConfig(loops=320, max_steps=8), torch.device("cpu"))
    out = sampler.solve(values[None], shape=shape)[0]
    # chunks of 32 loops: the answer first verifies after the third; unsure (60%) cells commit all at once
    assert out.verified and out.steps == 1 and out.extra["first_step_loops"] == 96
    assert out.commits == int((values == 0).sum())


def test_neighbour_table_attention_equals_dense_attention_over_the_same_neighbours():
    """The gathered O(T x slots) attention is dense attention restricted to each cell's listed neighbours, plus
    each slot's learned bias (missing neighbours, -1, left out), in value and gradient."""
    from csp_diffusion.blocks import GraphAttention

    torch.manual_seed(0)
    B, T, C, H, S = 2, 12, 16, 2, 5
    att = GraphAttention(C, H, S)
    torch.nn.init.normal_(att.slot_bias)
    # slot 0 the cell itself, then distinct other cells or -1 (no neighbour there), as a grid's table has
    others = [[o for o in torch.randperm(T).tolist() if o != t][: S - 1] for t in range(T)]
    table = torch.tensor([[t] + others[t] for t in range(T)])
    table[torch.rand(T, S) < 0.3] = -1
    table[:, 0] = torch.arange(T)
    table[3, 1:] = -1  # a cell with no neighbours but itself
    bias = torch.full((H, T, T), float("-inf"))
    for t in range(T):
        for s in range(S):
            if table[t, s] >= 0:
                bias[:, t, table[t, s]] = att.slot_bias[:, s]
    x = torch.randn(B, T, C, requires_grad=True)
    q, k, v = att.qkv(x).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
    dense = att.out(torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias[None])
                    .transpose(1, 2).reshape(B, T, C))
    local = att(x, table)
    assert torch.allclose(local, dense, atol=1e-5)
    g_local, = torch.autograd.grad(local.square().sum(), x)
    g_dense, = torch.autograd.grad(dense.square().sum(), x)
    assert torch.allclose(g_local, g_dense, atol=1e-5)


def test_frames_are_the_shape_keeping_symmetries_as_cell_permutations():
    m = mz.generate(1, 9, seed=4, kind="walls")[0]
    perms = mz.frames(m.shape)
    assert len(perms) == 8 and (perms[0] == np.arange(81)).all() and len({p.tobytes() for p in perms}) == 8
    for k, p in enumerate(perms):
        assert (m.walls.reshape(-1)[p] == mz.dihedral(m, k).walls.reshape(-1)).all()
    assert len(mz.frames((5, 7))) == 4 and all(sorted(p) == list(range(35)) for p in mz.frames((5, 7)))


class _WrongInSomeFrames(Network):
    """A stand-in trace model that knows which frame it is shown: in the `bad` ones its walk grows to half
    the path after `ready` loops and stops there; in the others it gives the shortest path."""

    carries_state = True
    trace = 5

    def __init__(self, task: MazeTask, m: mz.Maze, bad: set[int], ready: int = 40):
        super().__init__()
        self.config = LoopMDMConfig(**{**TINY_MAZE, "trace": 5})
        self.ready = ready
        self.grids, self.answers = [], []
        for k in range(8):
            mk = mz.dihedral(m, k)
            sol = torch.as_tensor(_solution(task, mk))
            if k in bad:
                cells = np.flatnonzero((sol.numpy() == task.ON) & (task.encode(mk)[0] == 0))
                sol = sol.clone()
                sol[torch.as_tensor(cells[len(cells) // 2:])] = task.OFF
            self.grids.append(torch.as_tensor(task.encode(mk)[0]))
            self.answers.append(sol)

    def forward(self, values, given, positions, graph, loops, grad_loops=None, state=None, return_state=False,
                quiet=None):
        ran = (torch.zeros(len(values)) if state is None else state[:, 0, 0]) + loops
        rows = []
        for v, g in zip(values, given):
            k = next(k for k, grid in enumerate(self.grids) if (torch.where(g, v, 0) == torch.where(g, grid, 0)).all())
            rows.append(self.answers[k])
        on = (torch.stack(rows) == MazeTask.ON) & (ran[:, None] >= self.ready)
        logits = fix_givens(torch.where(on[..., None], torch.tensor([-2.0, 2.0]), torch.tensor([2.0, -2.0])),
                            values, given)
        return (logits, ran[:, None, None].expand(-1, values.shape[1], 1)) if return_state else logits


def test_a_chain_whose_trace_stalls_starts_again_in_the_next_frame_and_answers_in_the_puzzles_own():
    task = MazeTask()
    m = mz.generate(1, 15, seed=5, kind="walls", min_path=20)[0]
    values, shape = task.encode(m)
    sampler = Sampler(_WrongInSomeFrames(task, m, bad={0, 1}), task, SamplerConfig(loops=320, max_steps=8),
                      torch.device("cpu"))
    out = sampler.solve(values[None], shape=shape)[0]
    # frames 0 and 1: the half walk stands from the check after 64 loops, two more checks: stalled at 128 loops
    # each; frame 2 verifies at its second check (64 loops), its first step's loops are the ones reported
    assert out.verified and out.extra["loops_run"] == 128 + 128 + 64 and out.extra["first_step_loops"] == 64
    assert out.extra["frame"] == 2 and out.extra["reframes"] == 2 and out.steps == 3
    assert task.verify(values, out.values, shape)  # the answer is mapped back to the maze as given
    quarter = Sampler(_WrongInSomeFrames(task, m, bad={0}), task, SamplerConfig(loops=320, max_steps=8),
                      torch.device("cpu")).solve(values[None], shape=shape)[0]
    assert quarter.verified and quarter.extra["frame"] == 1  # a quarter turn: not its own inverse
    assert task.verify(values, quarter.values, shape)

    stuck = Sampler(_WrongInSomeFrames(task, m, bad=set(range(8))), task, SamplerConfig(loops=320, max_steps=12),
                    torch.device("cpu")).solve(values[None], shape=shape)[0]
    assert not stuck.verified and stuck.extra["reframes"] == 7  # every frame tried, none claimed
