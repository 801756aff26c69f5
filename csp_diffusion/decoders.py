"""Decoders: how a model's predictions become an answer, apart from the networks.

Every model kind that predicts each cell's distribution (LoopMDM and the MDM variants, HRM, TRM)
can be read out three ways (`--decoder`), so that an architecture is compared with the same
readout as its rivals:
- `argmax`: one model call at the kind's own depth (LoopMDM: K_max loops; HRM/TRM: one segment),
  every unknown cell its most probable value (`ArgmaxDecoder`);
- `native`: the decoder of the kind's own paper: for an MDM, Kim et al.'s unmasking, a few cells per
  step in the order of the model's margin, never revisited (`UnmaskDecoder`); for HRM and TRM,
  segment after segment as their code evaluates, 16 by default (`RecurrentDecoder`);
- `sampler`: this project's retracting sampler (sampler.py: commit, retract, restart, chains), a
  recurrent kind's state carried from one call to the next (denoiser.py).
The autoregressive kinds have the sequence equivalents: `argmax` and `native` are greedy (AR: one
unknown cell per step in row-major order; AR-solver: one (cell, value) step at a time, the model
choosing the cell, or stopping; cells it never writes take the task's `unwritten` value), and
`sampler` runs `chains` of them, chain 0 greedy, the others sampling each value at a temperature,
the first verified chain kept. None of them revisits a cell.

`rules` (`--rules/--no-rules`) is whether a decoder uses the puzzle's rules (constraints.py): AR's
legality mask (never a value a peer holds), the unmasking decoder's refusal of clashing commits, the
sampler's refusals and clash retractions. `argmax` and the recurrent `native` decoder use none.
Every decoder verifies every answer with the task's verifier; a puzzle stops once its answer
verifies (the verifier never changes an answer), or once it has spent `time_limit` seconds of its own
work (sampler.Budget: each step's time shared among the puzzles in it). `models.decoder()` builds a
kind's decoder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from csp_diffusion.constraints import rule_for
from csp_diffusion.denoiser import as_denoiser
from csp_diffusion.sampler import Budget, Outcome, Sampler, SamplerConfig, State
from puzzles.domains import structure_of


class _Decoder:
    def __init__(self, model, task, config: SamplerConfig, device: torch.device, autocast: bool = False):
        self.model, self.task, self.config, self.device, self.autocast = model, task, config, device, autocast

    def amp(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    def solve_iter(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None):
        """(index, Outcome) per puzzle; these decoders step every puzzle together, so all come at the end."""
        yield from enumerate(self.solve(puzzles, on_step=on_step, shape=shape))

    def _inputs(self, puzzles: np.ndarray, shape):
        """(structure, its shape, positions tensor, puzzles as a long tensor) for one batch."""
        structure = structure_of(self.task, shape, puzzles)
        positions = torch.as_tensor(structure.positions, device=self.device)
        return structure, structure.shape, positions, torch.as_tensor(puzzles, dtype=torch.long, device=self.device)

    def budget(self, rows: int, chains: int = 1) -> Budget:
        """The time of one call on `rows` grids, `chains` of them per puzzle (sampler.Budget)."""
        return Budget(self.config.time_limit, rows // chains, chains)

    def _outcomes(self, puzzles, values, verified, steps, commits, passes, budget: Budget,
                  loops_run: np.ndarray | None = None) -> list[Outcome]:
        """`passes`: forward passes each puzzle took part in; `loops_run`: the loops (segments) they ran in all
        (None: one each); `budget`: each one's own seconds, and whether its time ran out."""
        loops_run = passes if loops_run is None else loops_run
        out = budget.over(np.arange(len(puzzles)))
        seconds = budget.spent[np.arange(len(puzzles)) // budget.chains]
        return [Outcome(values=values[k], verified=bool(verified[k]), steps=int(steps[k]), commits=int(commits[k]),
                        retractions=0, seconds=float(seconds[k]),
                        extra={"chains": 1, "chain": 0, "restarts": 0, "timed_out": bool(out[k] and not verified[k]),
                               "passes": int(passes[k]), "loops_run": int(loops_run[k])})
                for k in range(len(puzzles))]


class OneByOne:
    """A decoder for a task whose structure differs per puzzle (Kakuro): each call of the decoder it wraps
    gets one puzzle (and its chains), so every model call and rule runs under that puzzle's own structure.
    A time limit is per puzzle as ever (each call gets its puzzle's share)."""

    def __init__(self, decoder):
        self.decoder = decoder

    def solve_iter(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None):
        """(index, Outcome) per puzzle, in order; the live view follows puzzle 0."""
        for p in range(len(puzzles)):
            for _, outcome in self.decoder.solve_iter(puzzles[p:p + 1], on_step if p == 0 else None, shape):
                yield p, outcome

    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        return [o for _, o in self.solve_iter(puzzles, on_step, shape)]


def _chains_of(puzzles: np.ndarray, chains: int) -> np.ndarray:
    """Each puzzle repeated `chains` times, row n holding chain n % chains of puzzle n // chains."""
    return np.repeat(puzzles, chains, axis=0)


def _first_verified(outcomes: list[Outcome], chains: int) -> list[Outcome]:
    """Per puzzle, its first verified chain's Outcome (else chain 0's), with the work of all its chains."""
    out = []
    for p in range(len(outcomes) // chains):
        mine = outcomes[p * chains:(p + 1) * chains]
        k = next((c for c, o in enumerate(mine) if o.verified), 0)
        o = mine[k]
        extra = {**o.extra, "chains": chains, "chain": k,
                 "passes": sum(m.extra["passes"] for m in mine), "loops_run": sum(m.extra["loops_run"] for m in mine)}
        if "flops" in o.extra:
            extra["flops"] = sum(m.extra["flops"] for m in mine)
        done = [m.seconds for m in mine if m.verified]
        out.append(Outcome(o.values, o.verified, o.steps, o.commits, 0, min(done) if done else max(m.seconds for m in mine),
                           extra))
    return out


def _pick(logits: torch.Tensor, greedy: torch.Tensor, temperature: float, gen: torch.Generator) -> torch.Tensor:
    """Per row, the argmax class (rows `greedy`) or one sampled at `temperature` (the others)."""
    if bool(greedy.all()):
        return logits.argmax(-1)
    sampled = torch.multinomial((logits.float() / temperature).softmax(-1), 1, generator=gen).squeeze(-1)
    return torch.where(greedy, logits.argmax(-1), sampled)


class _Sequence(_Decoder):
    """The AR kinds: `chains` chains per puzzle (chain 0 greedy, the others sampled), the first verified kept."""

    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        C = max(1, self.config.chains)
        if C == 1:
            return self._solve(puzzles, on_step, shape, None, self.budget(len(puzzles)))
        greedy = torch.as_tensor(np.arange(len(puzzles) * C) % C == 0, device=self.device)
        return _first_verified(self._solve(_chains_of(puzzles, C), on_step, shape, greedy,
                                           self.budget(len(puzzles) * C, C)), C)

    def temperature(self) -> float:
        """The sampled chains' temperature: the one asked for, else 1 (the model's own distribution)."""
        return self.config.temperature or 1.0


class ARDecoder(_Sequence):
    @torch.no_grad()
    def _solve(self, puzzles: np.ndarray, on_step, shape, greedy, budget: Budget) -> list[Outcome]:
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        P, T = puzzle.shape
        greedy = torch.ones(P, dtype=torch.bool, device=self.device) if greedy is None else greedy
        gen = torch.Generator(device=self.device).manual_seed(self.config.seed)
        answer = torch.zeros_like(puzzle)
        rule = rule_for(self.task, torch.as_tensor(structure.graph, device=self.device), self.config.rules, positions)
        calls = np.zeros(P, int)
        live = np.ones(P, dtype=bool)  # rows whose puzzle has time left
        with self.amp():
            run = self.model.decoding(puzzle, positions)  # every slot one new token (the keys kept)
        for t in range(T):
            given = puzzle[:, t] > 0
            answer[:, t] = torch.where(given, puzzle[:, t], answer[:, t])
            act = np.flatnonzero(live)
            if len(act) == 0:
                break
            budget.start()
            rows = torch.as_tensor(act, device=self.device)
            previous = answer[rows, t - 1] if t else torch.zeros_like(rows)
            with self.amp():
                logits = run.next(rows, previous).float()  # slot t runs even for a given cell: later slots see it
            calls[act] += 1
            if not given.all():
                taken = rule.taken(torch.where(puzzle[rows] > 0, puzzle[rows], answer[rows]), t, logits.shape[-1])
                if taken is not None:  # a given keeps its value (its one finite logit) whatever the rest holds
                    logits = logits.masked_fill(taken & ~taken.all(-1, keepdim=True) & ~given[rows, None], float("-inf"))
                answer[rows, t] = torch.where(given[rows], puzzle[rows, t],
                                              _pick(logits, greedy[rows], self.temperature(), gen) + 1)
            live[act[budget.charge(act)]] = False
            if on_step is not None and not given.all():
                now = np.zeros(T, bool)
                now[t] = True
                on_step(State(answer[0].cpu().numpy(), (puzzle[0] > 0).cpu().numpy(), now, np.zeros(T, bool), t + 1, 1))
        values = answer.cpu().numpy()
        verified = [self.task.verify(puzzles[k], values[k], shape) for k in range(P)]
        unknown = (puzzle == 0).sum(-1).cpu().numpy()
        return self._outcomes(puzzles, values, verified, unknown, unknown, calls, budget)


class ARSolverDecoder(_Sequence):
    @torch.no_grad()
    def _solve(self, puzzles: np.ndarray, on_step, shape, greedy, budget: Budget) -> list[Outcome]:
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        P, T = puzzle.shape
        V = self.task.n_values
        greedy = torch.ones(P, dtype=torch.bool, device=self.device) if greedy is None else greedy
        gen = torch.Generator(device=self.device).manual_seed(self.config.seed)
        grid = puzzle.clone()
        rule = rule_for(self.task, torch.as_tensor(structure.graph, device=self.device), self.config.rules, positions)
        done = (grid > 0).all(1)
        steps, passes, flops = np.zeros(P, int), np.zeros(P, int), np.zeros(P)
        blanks = int((puzzle == 0).sum(1).max())
        with self.amp():
            run = self.model.decoding(puzzle, positions, blanks)
        flops += self.model.prefix_flops(T)
        passes += 1  # the puzzle and the start token
        for t in range(blanks):
            act = torch.nonzero(~done).flatten()
            if len(act) == 0:
                break
            budget.start()
            with self.amp():
                logits = run.next_cell(act).float()
            g = grid[act]
            scores = logits[:, :T].masked_fill(g > 0, float("-inf"))
            if not self.task.unwritten:  # a Sudoku is done only when every cell is written
                logits[:, -1] = float("-inf")
            pick = _pick(torch.cat([scores, logits[:, -1:]], dim=1), greedy[act], self.temperature(), gen)
            write = pick < T
            cell = pick.clamp(max=T - 1)
            rows, cell, g = act[write], cell[write], g[write]  # a row that stops is done: no value to read
            if len(rows):
                with self.amp():
                    v_logits = run.next_value(rows, cell).float()
                taken = rule.taken_all(g, V)
                if taken is not None:  # never a value a peer holds, unless every value is one
                    held = taken[torch.arange(len(rows), device=self.device), cell]
                    v_logits = v_logits.masked_fill(held & ~held.all(-1, keepdim=True), float("-inf"))
                value = _pick(v_logits, greedy[rows], self.temperature(), gen) + 1
                grid[rows, cell] = value
                with self.amp():
                    run.write(rows, cell, value)
            a, w = act.cpu().numpy(), rows.cpu().numpy()
            passes[w] += 2  # the cell's token, then its value's, through the network
            flops[a[~write.cpu().numpy()]] += self.model.pointer_flops(T)  # a row that stops read only its next cell
            flops[w] += self.model.step_flops(T, t)  # each step's tokens attend to two more than the last's
            steps[w] += 1
            done[act] = ~write | (grid[act] > 0).all(1) | torch.as_tensor(budget.charge(a), device=self.device)
            if on_step is not None and 0 in a:
                now = np.zeros(T, bool)
                if len(w) and w[0] == 0:
                    now[int(cell[0])] = True
                on_step(State(grid[0].cpu().numpy(), (puzzle[0] > 0).cpu().numpy(), now, np.zeros(T, bool), t + 1, 1))
        out = torch.where(grid == 0, torch.full_like(grid, self.task.unwritten), grid).cpu().numpy()
        verified = [self.task.verify(puzzles[k], out[k], shape) for k in range(P)]
        outcomes = self._outcomes(puzzles, out, verified, steps, steps, passes, budget)
        for o, f in zip(outcomes, flops):
            o.extra["flops"] = float(f)
        return outcomes


class ArgmaxDecoder(_Decoder):
    """One model call at the kind's own depth (`config.loops`; HRM/TRM: one segment), then every unknown
    cell its most probable value. Uses no rules; the answer is verified."""

    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        budget = self.budget(len(puzzles))
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        graph = torch.as_tensor(structure.graph, device=self.device)
        model, P, T = as_denoiser(self.model), *puzzle.shape
        loops = self.config.loops or model.max_loops
        given = puzzle > 0
        rows = max(1, Sampler.CPU_ROWS if self.device.type == "cpu" else P)  # CPU: pieces whose activations stay in cache
        preds = []
        for i in range(0, P, rows):
            with self.amp():
                logits = model(puzzle[i:i + rows], given[i:i + rows], positions, graph, loops)
            preds.append(logits.float().argmax(-1) + 1)
        values = torch.where(given, puzzle, torch.cat(preds)).cpu().numpy()
        if on_step is not None:
            on_step(State(values[0], puzzles[0] > 0, puzzles[0] == 0, np.zeros(T, bool), 1, loops))
        verified = [self.task.verify(puzzles[k], values[k], shape) for k in range(P)]
        budget.charge(np.arange(P))
        budget.limit = 0.0  # one call: never given up
        unknown = (puzzles == 0).sum(-1)
        return self._outcomes(puzzles, values, verified, np.ones(P, int), unknown, np.ones(P, int), budget,
                              loops_run=np.full(P, loops))


class UnmaskDecoder(_Decoder):
    """An MDM's own decoding (Kim et al.): `max_steps` model calls from the bare puzzle, each committing
    the masked cells of largest margin (top probability minus the second), as many as leave the rest
    for the steps still to come, each its most probable value, never revisited. With `rules`, a commit
    that clashes with a filled peer or with a surer commit of the same step is refused (the surest
    cell is always committed). No retraction, no chains, no carried state."""

    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        budget = self.budget(len(puzzles))
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        graph = torch.as_tensor(structure.graph, device=self.device)
        rule = rule_for(self.task, graph, self.config.rules, positions)
        P, T = puzzle.shape
        S, loops = self.config.max_steps, self.config.loops or self.model.max_loops
        v, given = puzzle.clone(), puzzle > 0
        steps, commits = np.zeros(P, int), np.zeros(P, int)
        live = torch.ones(P, dtype=torch.bool, device=self.device)  # time left
        for step in range(S):
            act = torch.nonzero((v == 0).any(1) & live).flatten()
            if len(act) == 0:
                break
            budget.start()
            va = v[act]
            with self.amp():
                probs = self.model(va, given[act], positions, graph, loops).float().softmax(-1)
            top2 = probs.topk(2, dim=-1)
            masked = va == 0
            score = torch.where(masked, top2.values[..., 0] - top2.values[..., 1], torch.full_like(probs[..., 0], -1.0))
            k = -(-masked.sum(1) // (S - step))  # ceil: what is left spread over the steps to come
            rank = score.argsort(1, descending=True).argsort(1)
            want = masked & (rank < k[:, None])
            choice = top2.indices[..., 0] + 1
            commit = rule.admissible(want, choice, score, va, score.argmax(-1))
            v[act] = torch.where(commit, choice, va)
            a = act.cpu().numpy()
            steps[a] += 1
            commits[a] += commit.sum(1).cpu().numpy()
            live[act] = ~torch.as_tensor(budget.charge(a), device=self.device)
            if on_step is not None and 0 in a:
                on_step(State(v[0].cpu().numpy(), puzzles[0] > 0, commit[0].cpu().numpy() if a[0] == 0 else
                              np.zeros(T, bool), np.zeros(T, bool), step + 1, loops))
        values = v.cpu().numpy()
        verified = [self.task.verify(puzzles[k], values[k], shape) for k in range(P)]
        return self._outcomes(puzzles, values, verified, steps, commits, steps, budget, loops_run=steps * loops)


class RecurrentDecoder(_Decoder):
    """HRM's and TRM's own evaluation: segment after segment from the initial state, up to `max_steps`
    (their code's halt_max_steps, 16), the answer read from the last segment run. As there, the halting
    head is not consulted at evaluation (it runs every segment); a puzzle stops once its answer
    verifies, as under every decoder here."""

    @torch.no_grad()
    def solve(self, puzzles: np.ndarray, on_step: Callable[[State], None] | None = None, shape=None) -> list[Outcome]:
        budget = self.budget(len(puzzles))
        structure, shape, positions, puzzle = self._inputs(puzzles, shape)
        graph = torch.as_tensor(structure.graph, device=self.device)
        P, T = puzzle.shape
        z_h, z_l = self.model.initial(P, T)
        values = puzzle.cpu().numpy().copy()
        verified = np.zeros(P, bool)
        steps = np.zeros(P, int)
        for segment in range(self.config.max_steps):
            idx = np.flatnonzero(~verified & ~budget.out)
            if len(idx) == 0:
                break
            budget.start()
            sel = torch.as_tensor(idx, device=self.device)
            with self.amp():
                (h, l_), logits, _ = self.model(puzzle[sel], (z_h[sel], z_l[sel]), positions, graph)
            z_h[sel], z_l[sel] = h.to(z_h.dtype), l_.to(z_l.dtype)
            pred = (logits.float().argmax(-1) + 1).cpu().numpy()
            steps[idx] += 1
            for j, k in enumerate(idx):
                values[k] = pred[j]
                verified[k] = self.task.verify(puzzles[k], pred[j], shape)
            budget.charge(idx)
            if on_step is not None and 0 in idx:
                on_step(State(values[0], puzzles[0] > 0, np.zeros(T, bool), np.zeros(T, bool), segment + 1, 1))
        unknown = (puzzles == 0).sum(-1)
        return self._outcomes(puzzles, values, verified, steps, unknown, steps, budget)
