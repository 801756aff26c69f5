"""The sampler's clash rules, one per kind of constraint a task names (`task.constraint`).

A rule works on batches of grids as tensors (the task's own `conflicts` is NumPy, one fact per
cell; these are the sampler's fast, batched reading of the same rule). A new kind of puzzle
with an all-different, path or sum constraint needs no edit here; a new kind of constraint is one
class and one entry in RULES.

Every rule is built from the task and the structure's attention graph and positions (on the sampler's
device; the sum rule reads its runs' sums there) and answers:
- `clashing(v, conf, committed)`: bool (n, T), committed cells to retract because the grid breaks
  the constraint there (conf: the model's confidence in each cell's value, given cells above 1);
- `completes(v, argmax)`: bool (n,), rows whose masked cells, filled with the model's argmax,
  break nothing, so the whole argmax may be committed at once (False where a rule cannot tell);
- `admissible(want, choice, score, v, best)`: bool (n, T), which of the wanted commits to keep
  (no two new commits that clash with each other or with a filled cell);
- `taken(grid, t)`: bool (n, n_values), values cell t may not take given the rest of `grid`
  (AR's legality mask), or None where the rule forbids nothing cell by cell; `taken_all(grid)`
  the same for every cell at once, bool (n, T, n_values) (AR-solver's).
"""

from __future__ import annotations

import torch


class AllDifferent:
    """Neighbours in the constraint graph (a bool adjacency with self-loops) hold different values."""

    def __init__(self, task, graph: torch.Tensor, positions: torch.Tensor | None = None):
        self.peers = graph & ~torch.eye(graph.shape[0], dtype=torch.bool, device=graph.device)

    def clashing(self, v: torch.Tensor, conf: torch.Tensor, committed: torch.Tensor) -> torch.Tensor:
        """The less confident side of each pair of peers holding one value (ties: the later cell)."""
        T = v.shape[1]
        filled = v > 0
        same = (v[:, :, None] == v[:, None, :]) & filled[:, :, None] & filled[:, None, :] & self.peers
        order = torch.arange(T, device=v.device)
        weaker = (conf[:, None, :] > conf[:, :, None]) | (
            (conf[:, None, :] == conf[:, :, None]) & (order[None, :] < order[:, None])[None]
        )
        return committed & (same & weaker).any(-1)

    def completes(self, v: torch.Tensor, argmax: torch.Tensor) -> torch.Tensor:
        """Givens are fixed in the network, so a clash-free completion is a solution."""
        pred = torch.where(v > 0, v, argmax)
        return ~((pred[:, :, None] == pred[:, None, :]) & self.peers).flatten(1).any(-1)

    def admissible(self, want, choice, score, v, best) -> torch.Tensor:
        """Of two new commits that clash, the higher score stays; a commit against a filled peer goes,
        unless it is the row's single best cell (every step commits at least that one)."""
        T = v.shape[1]
        filled = v > 0
        same_new = (choice[:, :, None] == choice[:, None, :]) & want[:, :, None] & want[:, None, :] & self.peers
        beaten = (same_new & (score[:, None, :] > score[:, :, None])).any(-1)
        against_filled = ((choice[:, :, None] == v[:, None, :]) & filled[:, None, :] & self.peers).any(-1)
        return want & ~beaten & ~(against_filled & ~(torch.arange(T, device=v.device)[None] == best[:, None]))

    def taken(self, grid: torch.Tensor, t: int, n_values: int) -> torch.Tensor:
        held = grid * self.peers[t]  # the values of cell t's peers
        out = torch.zeros(grid.shape[0], n_values, dtype=torch.bool, device=grid.device)
        return out.scatter_(1, (held - 1).clamp(min=0), held > 0)

    def taken_all(self, grid: torch.Tensor, n_values: int) -> torch.Tensor:
        """bool (n, T, n_values): the values each cell's peers hold."""
        held = torch.nn.functional.one_hot(grid.clamp(0, n_values), n_values + 1)[..., 1:].float()
        return torch.einsum("ct,ptv->pcv", self.peers.float(), held) > 0


class NoRule:
    """The rule check off (`--no-rules`): nothing clashes, nothing completes early, every wanted commit is
    admissible, every value is legal. What stays is the verifier: a grid counts only once it verifies."""

    def __init__(self, task=None, graph: torch.Tensor | None = None, positions: torch.Tensor | None = None):
        pass

    def clashing(self, v: torch.Tensor, conf: torch.Tensor, committed: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(committed)

    def completes(self, v: torch.Tensor, argmax: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(v), dtype=torch.bool, device=v.device)

    def admissible(self, want, choice, score, v, best) -> torch.Tensor:
        return want

    def taken(self, grid: torch.Tensor, t: int, n_values: int) -> None:
        return None

    def taken_all(self, grid: torch.Tensor, n_values: int) -> None:
        return None


class Path(NoRule):
    """The on-path cells with the two given ends form one simple chain (graph: a neighbour table with slots
    self, then the four neighbours; -1 where there is none). `task.ON` is the lowest on-path value (a task's
    START mark above it counts as on-path too). Only `clashing` differs from no rule: a chain is checked by
    verifying it, so nothing completes early, and every commit is admissible, every value legal."""

    def __init__(self, task, graph: torch.Tensor, positions: torch.Tensor | None = None):
        self.on_value = task.ON
        self.table = graph

    def clashing(self, v: torch.Tensor, conf: torch.Tensor, committed: torch.Tensor) -> torch.Tensor:
        """An on-path cell needs two on-path neighbours, an end one: a committed on-path cell that can no
        longer get them (a dead end) goes, and where a cell has too many (a branch) its least confident
        committed on-path neighbour, or itself, goes."""
        graph = self.table
        nb, has = graph[:, 1:].clamp(min=0), graph[:, 1:] >= 0  # (T, 4)
        on = v >= self.on_value
        on_nb = on[:, nb] & has  # (n, T, 4)
        may_nb = (on | (v == 0))[:, nb] & has
        end = on & ~committed  # the given on-path cells are the ends
        need = torch.where(end, 1, 2)
        dead = committed & on & (may_nb.sum(-1) < need)
        branch = on & (on_nb.sum(-1) > need)
        mine = torch.where(committed & on, conf, torch.full_like(conf, float("inf")))
        cand = torch.cat([mine[:, :, None], torch.where(on_nb, mine[:, nb], float("inf"))], dim=-1)  # (n, T, 5)
        pick = graph.clamp(min=0)[None].expand(len(v), -1, -1).gather(-1, cand.argmin(-1, keepdim=True)).squeeze(-1)
        ok = branch & torch.isfinite(cand.min(-1).values)
        hit = torch.zeros_like(pick).scatter_add_(1, pick, ok.long()) > 0
        return dead | (hit & committed & on)


class Sum(NoRule):
    """Kakuro's runs: the digits of a run differ and add up to its sum. graph: a neighbour table (T, S) whose
    slot ranges `task.RUN_SLOTS` list each cell's mates in its across and in its down run (-1: none);
    positions: the cells' features, whose columns `task.TOTALS` hold each cell's two run sums (0 on cells
    that are not white, which the rule leaves alone). A run is broken where two of its cells hold one
    digit, or where its empty cells can no longer make up the rest of its sum with digits different from
    each other and from its filled ones (exact, by the task's `reachable_sums` table: more than the
    committed sum plus the least and greatest sums the empty cells could add bracketing the clue). What
    a broken run does, `clashing`, `admissible` and `completes` say; AR's cell-by-cell masks are NoRule's."""

    def __init__(self, task, graph: torch.Tensor, positions: torch.Tensor):
        device = graph.device
        self.runs = []  # per direction: (mates (T, m), members of the run (T,), its sum (T,))
        for (lo, hi), column in zip(task.RUN_SLOTS, task.TOTALS):
            mates = graph[:, lo:hi]
            self.runs.append((mates, 1 + (mates >= 0).sum(-1), positions[:, column].to(device)))
        self.white = (self.runs[0][2] > 0) | (self.runs[1][2] > 0)
        self.reach = torch.as_tensor(task.reachable_sums(), device=device)  # [used digits, cells, rest of sum]
        self.n_values, self.sums = task.n_values, self.reach.shape[-1]
        self.bit = 1 << torch.arange(task.n_values, device=device)
        self.order = torch.arange(graph.shape[0], device=device)

    def _digits(self, v: torch.Tensor) -> torch.Tensor:
        """v's digits in the white cells, 0 elsewhere."""
        return torch.where(self.white & (v <= self.n_values), v, 0)

    @staticmethod
    def _of(x: torch.Tensor, mates: torch.Tensor) -> torch.Tensor:
        """x (n, T) at each cell's run mates (n, T, m); 0 (False) where a slot has none."""
        return torch.where(mates >= 0, x[:, mates.clamp(min=0)], torch.zeros((), dtype=x.dtype, device=x.device))

    def _check(self, mine: torch.Tensor, theirs: torch.Tensor, members: torch.Tensor, total: torch.Tensor):
        """(ok, repeats), bool (n, T) each, of the run through each cell holding `mine` (n, T) there and `theirs`
        (n, T, m) in its mates (0: empty): ok when it repeats no digit and its empty cells can still meet its sum."""
        run = torch.cat([mine[..., None], theirs], dim=-1)
        held = torch.nn.functional.one_hot(run, self.n_values + 1)[..., 1:].sum(-2)  # (n, T, 9): each digit's count
        repeats = (held > 1).any(-1)
        bits = ((held > 0).long() * self.bit).sum(-1)
        count = (run > 0).sum(-1)
        rest = total - run.sum(-1)
        ok = ~repeats & (rest >= 0) & (rest < self.sums)
        ok &= self.reach[bits, (members - count).clamp(0, self.n_values), rest.clamp(0, self.sums - 1)]
        return ok, repeats

    def _first(self, x: torch.Tensor, mx: torch.Tensor, mates: torch.Tensor, above: bool) -> torch.Tensor:
        """bool (n, T, m): mates whose x beats the cell's (greater with `above`, else smaller; ties: the earlier
        cell beats the later one with `above`, the later the earlier without)."""
        if above:
            return (mx > x[..., None]) | ((mx == x[..., None]) & (mates < self.order[:, None]))
        return (mx < x[..., None]) | ((mx == x[..., None]) & (mates > self.order[:, None]))

    def clashing(self, v: torch.Tensor, conf: torch.Tensor, committed: torch.Tensor) -> torch.Tensor:
        """Of two cells of a run holding one digit, the less confident (ties: the later cell); of a run that
        repeats nothing but can no longer meet its sum, the least confident committed cell."""
        d = self._digits(v)
        filled = d > 0
        out = torch.zeros_like(committed)
        for mates, members, total in self.runs:
            md, mc = self._of(d, mates), self._of(conf, mates)
            stronger = self._first(conf, mc, mates, above=True)
            out |= committed & filled & ((md == d[..., None]) & stronger).any(-1)
            ok, repeats = self._check(d, md, members, total)
            weaker = self._of(committed, mates) & self._first(conf, mc, mates, above=False)
            out |= committed & filled & ~ok & ~repeats & ~weaker.any(-1)
        return out

    def completes(self, v: torch.Tensor, argmax: torch.Tensor) -> torch.Tensor:
        """Rows whose white cells, the masked ones filled with the argmax, make every run right: a solution."""
        d = self._digits(torch.where(v > 0, v, argmax))
        ok = torch.ones(len(v), dtype=torch.bool, device=v.device)
        for mates, members, total in self.runs:
            good, _ = self._check(d, self._of(d, mates), members, total)
            ok &= (good | ~self.white).all(-1)
        return ok

    def admissible(self, want, choice, score, v, best) -> torch.Tensor:
        """A wanted commit goes when a filled run mate holds its digit, when a surer commit of a mate wants the
        same digit, or when with the run's filled cells alone its run cannot meet its sum; then, in a run whose
        kept commits together break it, all but the surest go. The row's single best cell always stays."""
        d = self._digits(v)
        is_best = self.order[None] == best[:, None]
        drop = torch.zeros_like(want)
        wanted = torch.where(want, choice, 0)
        for mates, members, total in self.runs:
            md = self._of(d, mates)
            against = (md == choice[..., None]).any(-1)
            ms = self._of(score, mates)
            beaten = ((self._of(wanted, mates) == choice[..., None]) & self._first(score, ms, mates, above=True)).any(-1)
            alone, _ = self._check(choice, md, members, total)
            drop |= want & (beaten | ((against | ~alone) & ~is_best))
        kept = want & ~drop
        grid = torch.where(kept, choice, d)
        for mates, members, total in self.runs:
            ok, _ = self._check(grid, self._of(grid, mates), members, total)
            surer = self._of(kept, mates) & self._first(score, self._of(score, mates), mates, above=True)
            drop |= kept & ~ok & surer.any(-1) & ~is_best
        return want & ~drop


RULES = {"all-different": AllDifferent, "path": Path, "sum": Sum}


def rule_for(task, graph: torch.Tensor, on: bool = True, positions: torch.Tensor | None = None):
    """The clash rule of `task`'s kind of constraint, over its attention graph and positions (`on` False:
    `NoRule`, the decoder uses none of the puzzle's rules)."""
    if not on:
        return NoRule()
    if task.constraint not in RULES:
        raise NotImplementedError(f"no clash rule for {task.constraint!r} constraints; add one to RULES")
    return RULES[task.constraint](task, graph, positions)
