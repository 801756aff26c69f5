"""The sampler's clash rules, one per kind of constraint a task names (`task.constraint`).

A rule works on batches of grids as tensors (the task's own `conflicts` is NumPy, one fact per
cell; these are the sampler's fast, batched reading of the same rule). A new kind of puzzle
with an all-different or path constraint needs no edit here; a new kind of constraint is one
class and one entry in RULES.

Every rule is built from the task and the structure's attention graph (on the sampler's device)
and answers:
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

    def __init__(self, task, graph: torch.Tensor):
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

    def __init__(self, task=None, graph: torch.Tensor | None = None):
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

    def __init__(self, task, graph: torch.Tensor):
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


RULES = {"all-different": AllDifferent, "path": Path}


def rule_for(task, graph: torch.Tensor, on: bool = True):
    """The clash rule of `task`'s kind of constraint, over its attention graph (`on` False: `NoRule`, the
    decoder uses none of the puzzle's rules)."""
    if not on:
        return NoRule()
    if task.constraint not in RULES:
        raise NotImplementedError(f"no clash rule for {task.constraint!r} constraints; add one to RULES")
    return RULES[task.constraint](task, graph)
