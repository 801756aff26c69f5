"""Training objectives, one per model kind; train.py runs any of them the same way.

An objective draws its own batch and returns the loss of one optimizer step plus the
FLOPs that step cost (forward and backward, per the whole batch):
- MDM (LoopMDM): a noised grid (some unknown cells revealed, a few of them wrong) and
  cross-entropy on every non-given cell, at a loop count drawn from 1..K_max; with `own_commits`,
  that share of batches reveals the model's own surest answers instead (its mistakes included);
  with `carry`,
  that share of batches is a warm-start transition: the core first runs 1..K_max loops on
  an earlier version of the grid (some of its revealed cells masked again), then goes on
  from that state, without grad through it, for 1..K_max loops on the grid itself;
- AR: teacher forcing over the unknown cells in row-major order;
- AR-solver: teacher forcing over the (cell, value) steps in the order the task's propagation
  solver fills them (for mazes, the walk from S), each slot predicting the next step or "stop";
- HRM: deep supervision with a carry, as HRM trains: each step runs one more segment on
  a persistent batch whose rows are replaced when they halt; the state is detached
  between segments, and the halting head learns by Q-learning (halt target: is the
  whole grid right; continue target: the next segment's best Q-value). With `hints`, some
  puzzles arrive with part of their answer given, as LoopMDM's training grids arrive partly
  revealed (a maze's path is not a local property: on bare mazes only, both stall; see
  docs/results/baselines.md);
- TRM: the same deep supervision, but the halting head learns only whether the grid is right
  (TRM drops HRM's "continue" target and its extra forward pass).
Every objective counts its FLOPs with network.train_flops (forward, plus twice the forward
of the differentiated part), so budgets in FLOPs mean the same for every kind. The networks read
each batch under `Objective.structure`: the task's one structure, or where it differs per puzzle
(Kakuro), each grid's own, read from its encoded values.
`state_dict`/`load_state_dict` cover whatever an exact --resume needs beyond the RNGs.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from csp_diffusion.network import train_flops
from csp_diffusion.noising import noise
from puzzles.domains import per_puzzle


class Objective:
    def __init__(self, net, model, task, pool, batch_size: int, device, gen: torch.Generator,
                 rng: np.random.Generator, structure, autocast: bool, world: int = 1):
        self.net, self.model, self.task, self.pool = net, model, task, pool
        self.batch_size, self.device, self.gen, self.rng = batch_size, device, gen, rng
        self.positions, self.graph = structure  # a task whose structure differs per puzzle: its template's
        self.cells = self.positions.shape[0]
        self.neighbours = int(self.graph.shape[1]) if self.graph.dtype != torch.bool else int(self.graph.sum(1).float().mean())
        self.autocast, self.world = autocast, world
        self.per_puzzle = per_puzzle(task)

    def batch(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        p, s = self.task.training_pairs(self.pool, n or self.batch_size, self.rng)
        return torch.as_tensor(p, device=self.device), torch.as_tensor(s, device=self.device)

    def structure(self, puzzle: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(positions, graph) the model reads a batch of puzzles under: the task's, shared by every grid, or
        where it differs per puzzle (Kakuro), each grid's own from its encoded values, (B, T, ...) each."""
        if not self.per_puzzle:
            return self.positions, self.graph
        st = self.task.structure(None, puzzle.cpu().numpy())
        return torch.as_tensor(st.positions, device=self.device), torch.as_tensor(st.graph, device=self.device)

    def rand(self, *shape) -> torch.Tensor:
        """Uniform noise from the objective's generator, on its device."""
        return torch.rand(*shape, generator=self.gen, device=self.device)

    def amp(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    def step(self) -> tuple[torch.Tensor, float, dict]:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class MDMObjective(Objective):
    def step(self):
        mc = self.model.config
        if mc.trace:
            return self._trace_step()
        puzzle, solution = self.batch()
        positions, graph = self.structure(puzzle)
        loops = int(self.rng.integers(1, mc.max_loops + 1))
        values, given = noise(puzzle, solution, self.task.n_values, self.gen, p_wrong=mc.wrong)
        own = bool(mc.own_commits) and self.rng.random() < mc.own_commits
        if own:
            values = self._own_commits(puzzle, given, positions, graph)
        state, before = None, 0
        if mc.carry and self.rng.random() < mc.carry:
            before = int(self.rng.integers(1, mc.max_loops + 1))
            earlier = self._earlier(values, given)
            with torch.no_grad(), self.amp():
                _, state = self.model(earlier, given, positions, graph, before, return_state=True)
        with self.amp():
            logits = self.net(values, given, positions, graph, loops, mc.grad_loops, state=state)
        free = ~given
        loss = F.cross_entropy(logits[free].float(), solution[free] - 1)
        flops = self._flops(loops)
        if before:
            flops += self.model.flops(before, self.cells, self.neighbours)
        if own:
            flops += self.model.flops(mc.max_loops, self.cells, self.neighbours)
        return loss, self.batch_size * self.world * flops, {"loops": loops, "carried": before, "own": own}

    def _flops(self, loops: int) -> float:
        """One grid's forward at `loops` plus backward (2x forward) through the differentiated part."""
        mc = self.model.config
        forward = self.model.flops(loops, self.cells, self.neighbours, training=True)
        # differentiated: the prelude, the last grad_loops passes of the core, the coda and the head
        return train_flops(forward, self.model.flops(min(loops, mc.grad_loops), self.cells, self.neighbours, training=True))

    def _trace_step(self):
        """A model with a trace read-out: the loop count K is drawn around what the batch needs (`need`,
        the task's loops for its longest trace: half the batches need + U[1, 8], half U[1, need + 8]);
        the read-out of the core after each differentiated pass is supervised with the task's trace at
        that pass (its classes by cross-entropy, its flags by logistic loss), and the coda's answer with
        the solution on rows whose trace is complete. (The model answers with the read-out's last
        output, which the trace supervises; the coda's loss shapes the core.) A share `trace_reveal` of
        the rows is partly revealed and partly wrong (as the sampler's later steps see them), the rest bare."""
        mc, task = self.model.config, self.task
        puzzle, solution = self.batch()
        positions, graph = self.structure(puzzle)
        trace = task.trace(puzzle.cpu().numpy(), task.structure().shape)
        need = task.trace_loops(trace)
        if self.rng.random() < 0.5:
            loops = need + int(self.rng.integers(1, 9))
        else:
            loops = int(self.rng.integers(1, need + 9))
        values, given = noise(puzzle, solution, task.n_values, self.gen, p_start=1 - mc.trace_reveal)
        states: list[torch.Tensor] = []
        with self.amp():
            _, core = self.net(values, given, positions, graph, loops, mc.grad_loops, states=states,
                               return_state=True)
            logits = self.model.coda_logits(core, values, given, graph)
        trace_loss = 0.0
        for j, h in enumerate(states):
            k = loops - len(states) + 1 + j  # the pass this state ends
            classes, flags, cells = (torch.as_tensor(a, device=self.device) for a in task.trace_targets(trace, k))
            out = self.model.trace_head(h.float())
            trace_loss = trace_loss + F.cross_entropy(out[..., :task.trace_classes][cells], classes[cells]) \
                + F.binary_cross_entropy_with_logits(out[..., task.trace_classes:][cells], flags[cells])
        trace_loss = trace_loss / max(1, len(states))
        done = torch.as_tensor(task.trace_done(trace, loops), device=self.device)[:, None] & ~given
        path_loss = (F.cross_entropy(logits[done].float(), solution[done] - 1) if done.any()
                     else torch.zeros((), device=self.device))
        return path_loss + trace_loss, self.batch_size * self.world * self._flops(loops), {
            "loops": loops, "path_loss": round(path_loss.item(), 4), "trace_loss": round(trace_loss.item(), 4)}

    def _own_commits(self, puzzle: torch.Tensor, given: torch.Tensor, positions=None, graph=None) -> torch.Tensor:
        """The grid the sampler's first step leaves: the model (no grad, K_max loops) reads the bare puzzle
        (under `positions` and `graph`; None: the batch's own), and per row a share r ~ U(0, 1) of the unknown
        cells, the ones it is surest of, take its most probable value, right or wrong; the rest stay masked."""
        if positions is None:
            positions, graph = self.structure(puzzle)
        with torch.no_grad(), self.amp():
            probs = self.model(puzzle, given, positions, graph, self.model.max_loops).float().softmax(-1)
        sure, value = probs.max(-1)
        sure = sure.masked_fill(given, -1.0)
        unknown = (~given).sum(1, keepdim=True)
        take = (self.rand(puzzle.shape[0], 1) * unknown).long()  # cells committed per row
        rank = sure.argsort(1, descending=True).argsort(1)  # 0: the surest cell of its row
        commit = ~given & (rank < take)
        return torch.where(given, puzzle, torch.where(commit, value + 1, 0))

    def _earlier(self, values: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
        """The grid a few sampler steps back: each revealed cell masked again with a per-row chance
        q ~ U(0, 0.5) (the sampler commits a few cells per step, so the grid changes little)."""
        back = (values > 0) & ~given & (self.rand(*values.shape) < 0.5 * self.rand(values.shape[0], 1))
        return values.masked_fill(back, 0)


class ARObjective(Objective):
    def step(self):
        puzzle, solution = self.batch()
        with self.amp():
            logits = self.net(puzzle, solution, self.positions)
        free = puzzle == 0
        loss = F.cross_entropy(logits[free].float(), solution[free] - 1)
        forward = self.model.flops(1, self.cells)
        return loss, self.batch_size * self.world * train_flops(forward, forward), {}


class ARSolverObjective(Objective):
    """Teacher forcing over the task's solver-order steps: each step's cell (then "stop") and its value, the
    two cross-entropies summed (a step's log-likelihood, as Shah et al.'s loss over a step's tokens)."""

    def step(self):
        puzzle, solution = self.batch()
        cells, values = self.task.solver_steps(puzzle.cpu().numpy(), solution.cpu().numpy())
        n = (cells >= 0).sum(1)
        S = int(n.max())
        cells, values = cells[:, :S], values[:, :S]
        T = puzzle.shape[1]
        where = np.where(cells >= 0, cells, -100)
        target = np.concatenate([where, np.full((len(cells), 1), -100)], axis=1)
        target[np.arange(len(cells)), n] = T  # "stop" after the last step
        value_target = np.where(cells >= 0, values - 1, -100)
        cells_t, values_t, target_t, value_t = (torch.as_tensor(a, device=self.device)
                                                for a in (cells, values, target, value_target))
        with self.amp():
            cell_logits, value_logits = self.net(puzzle, cells_t, values_t, self.positions)
        loss = F.cross_entropy(cell_logits.float().flatten(0, 1), target_t.flatten(), ignore_index=-100) \
            + F.cross_entropy(value_logits.float().flatten(0, 1), value_t.flatten(), ignore_index=-100)
        forward = self.model.flops(1, T, steps=S)
        return loss, self.batch_size * self.world * train_flops(forward, forward), {"steps": S}


class DeepSupervisionObjective(Objective):
    """HRM's and TRM's training: each step runs one more segment on a persistent batch (the carry)."""

    continue_target = True  # HRM's Q-learning of "continue" (one more forward pass); TRM learns only "halt"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.carry = None  # puzzle, solution, the model's two states, segments done, least segments

    def _fresh(self, n: int):
        mc = self.model.config
        puzzle, solution = self.batch(n)
        if mc.hints > 0:  # a curriculum: a random fraction r ~ U(0, 1) of the unknown cells is given
            r = self.rand(n, 1) * (self.rand(n, 1) < mc.hints)
            puzzle = torch.where((puzzle == 0) & (self.rand(*puzzle.shape) < r), solution, puzzle)
        pinned = puzzle > 0
        if mc.noised > 0:  # LoopMDM's objective: revealed cells (some wrong) the model reads but may change
            values, _ = noise(puzzle, solution, self.task.n_values, self.gen, p_wrong=0.1)
            puzzle = torch.where((self.rand(n, 1) < mc.noised), values, puzzle)
        a, b = self.model.initial(n, self.cells)
        explore = self.rand(n) < mc.explore
        least = torch.where(explore, torch.randint(2, mc.segments + 1, (n,), generator=self.gen, device=self.device),
                            torch.ones(n, dtype=torch.long, device=self.device))
        return [puzzle, solution, a.detach(), b.detach(), torch.zeros(n, dtype=torch.long, device=self.device), least,
                pinned]

    def step(self):
        mc = self.model.config
        if self.carry is None:
            self.carry = self._fresh(self.batch_size)
        puzzle, solution, a, b, done, least, pinned = self._carried()
        positions, graph = self.structure(puzzle)
        with self.amp():
            (a, b), logits, q = self.net(puzzle, (a, b), positions, graph, pinned)
        free = ~pinned
        # a given's target is its pinned value; one above the top class (a Kakuro clue cell) counts as the top
        labels = (solution - 1).clamp(0, logits.shape[-1] - 1)
        ce = F.cross_entropy(logits.float().transpose(1, 2), labels, reduction="none")
        ce = (ce * free).sum() / free.sum().clamp(min=1)
        done = done + 1
        correct = (((logits.argmax(-1) + 1) == solution) | ~free).all(-1)  # givens are pinned right
        loss = ce
        extra_forward = 0
        if mc.act:
            loss = loss + 0.5 * F.binary_cross_entropy_with_logits(q[:, 0], correct.float())
            if self.continue_target:
                with torch.no_grad(), self.amp():  # bootstrap target for "continue" from the next segment
                    _, _, q_next = self.model(puzzle, (a.detach(), b.detach()), positions, graph, pinned)
                target = torch.sigmoid(torch.where(done >= mc.segments, q_next[:, 0], q_next.max(-1).values))
                loss = loss + 0.5 * F.binary_cross_entropy_with_logits(q[:, 1], target)
                extra_forward = 1
            halt = (done >= mc.segments) | ((q[:, 0] > q[:, 1]) & (done >= least))
        else:
            halt = done >= mc.segments
        halt = halt.detach()
        # the next step continues the rows that did not halt and starts new puzzles in the others
        fresh = self._fresh(int(halt.sum())) if halt.any() else None
        state = [puzzle, solution, a.detach(), b.detach(), done, least, pinned]
        if fresh is not None:
            for k, new in enumerate(fresh):
                state[k] = state[k].clone()
                state[k][halt] = new.to(state[k].dtype)
        self.carry = state
        forward, differentiated = self.model.segment_flops(self.cells, self.neighbours)
        flops = self.batch_size * self.world * train_flops(forward * (1 + extra_forward), differentiated)
        return loss, flops, {"segments": float(done.float().mean()), "halted": float(halt.float().mean())}

    def _carried(self) -> list:
        """The carry; one saved before it kept its pinned cells pins its givens (then all it could hold)."""
        if len(self.carry) == 6:
            self.carry = [*self.carry, self.carry[0] > 0]
        return self.carry

    def state_dict(self) -> dict:
        return {"carry": self.carry}

    def load_state_dict(self, state: dict) -> None:
        self.carry = state.get("carry")


class HRMObjective(DeepSupervisionObjective):
    continue_target = True


class TRMObjective(DeepSupervisionObjective):
    continue_target = False
