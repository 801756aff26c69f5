"""Does a model doubt its own mistakes? The measure retraction depends on, for any task a LoopMDM runs on.

From the bare puzzle, the model's surest `share` of each puzzle's blank cells take its most probable value,
right or wrong (the grid the sampler's first step leaves); the model then reads that grid (only the true givens
pinned) and its doubt in each committed value is one minus the value's probability. The AUROC of that doubt for
telling wrong commits from right ones is 0.5 when the model cannot tell them apart (retraction then removes
right and wrong commits alike) and 1 when every wrong commit is doubted more than every right one.
"""

from __future__ import annotations

import numpy as np
import torch


def auroc(wrong: np.ndarray, right: np.ndarray) -> float:
    """P(a wrong commit is doubted more than a right one), ties counting half (Mann-Whitney)."""
    if not len(wrong) or not len(right):
        return float("nan")
    scores = np.concatenate([wrong, right])
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[where]  # 1-based, ties sharing their mean rank
    return float((ranks[:len(wrong)].sum() - len(wrong) * (len(wrong) + 1) / 2) / (len(wrong) * len(right)))


def auroc_interval(wrong: np.ndarray, right: np.ndarray, wrong_puzzle: np.ndarray, right_puzzle: np.ndarray,
                   puzzles: int, reps: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of `auroc(wrong, right)` over the puzzles (each commit's puzzle index given): each
    resample draws the puzzles with replacement and weighs every commit by its puzzle's draws. (nan, nan) when
    more than 2.5% of the resamples lack a wrong or a right commit. Few wrong commits make a narrow interval of
    little weight: the report gives their count beside it."""
    if not len(wrong) or not len(right):
        return float("nan"), float("nan")
    scores = np.concatenate([wrong, right])
    is_wrong = np.r_[np.ones(len(wrong)), np.zeros(len(right))]
    owner = np.concatenate([wrong_puzzle, right_puzzle])
    _, group = np.unique(scores, return_inverse=True)  # tie groups, in increasing doubt
    rng, out = np.random.default_rng(seed), np.empty(reps)
    for k in range(reps):
        w = np.bincount(rng.integers(puzzles, size=puzzles), minlength=puzzles)[owner].astype(float)
        w_wrong, w_right = np.bincount(group, w * is_wrong), np.bincount(group, w * (1 - is_wrong))
        below = np.cumsum(w_right) - w_right  # right commits doubted less than each group
        total = w_wrong.sum() * w_right.sum()
        out[k] = (w_wrong * (below + w_right / 2)).sum() / total if total else np.nan
    if np.isnan(out).mean() > 0.025:  # too few wrong (or right) commits for most resamples to have both: no interval
        return float("nan"), float("nan")
    lo, hi = np.nanquantile(out, [0.025, 0.975])
    return float(lo), float(hi)


def doubt(model, task, puzzles: np.ndarray, solutions: np.ndarray, shape, device, share: float = 0.5,
          batch: int = 128) -> dict:
    """{doubt_auroc, doubt_interval (95%, over the puzzles), committed_wrong, wrong_commits, right_commits} of an
    MDM (model(values, given, positions, graph, loops) -> logits) on encoded `puzzles` (n, T) of one grid
    `shape`, `solutions` their values."""
    structure = task.structure(shape)
    positions = torch.as_tensor(structure.positions, device=device)
    graph = torch.as_tensor(structure.graph, device=device)
    solutions = task.classes(np.asarray(solutions))

    def probs(values: np.ndarray, givens: np.ndarray) -> np.ndarray:
        out = []
        for k in range(0, len(values), batch):
            v = torch.as_tensor(values[k:k + batch], dtype=torch.long, device=device)
            g = torch.as_tensor(givens[k:k + batch] > 0, device=device)
            with torch.no_grad():
                out.append(model(v, g, positions, graph, model.max_loops).float().softmax(-1).cpu().numpy())
        return np.concatenate(out)

    blank = puzzles == 0
    first = probs(puzzles, puzzles)
    sure, guess = first.max(-1), first.argmax(-1) + 1
    ranked = np.where(blank, sure, -1.0).argsort(1)[:, ::-1].argsort(1)  # 0: the surest blank of its row
    commit = blank & (ranked < np.ceil(share * blank.sum(1, keepdims=True)))
    grids = np.where(commit, guess, puzzles)
    kept = np.take_along_axis(probs(grids, puzzles), (grids - 1).clip(0)[..., None], -1)[..., 0]
    right = guess == solutions
    wrong_c, right_c = commit & ~right, commit & right
    owner = np.broadcast_to(np.arange(len(puzzles))[:, None], commit.shape)
    return {"doubt_auroc": auroc(1 - kept[wrong_c], 1 - kept[right_c]),
            "doubt_interval": list(auroc_interval(1 - kept[wrong_c], 1 - kept[right_c], owner[wrong_c], owner[right_c],
                                                  len(puzzles))),
            "committed_wrong": float(wrong_c.sum() / max(1, commit.sum())),
            "wrong_commits": int(wrong_c.sum()), "right_commits": int(right_c.sum())}


__all__ = ["auroc", "auroc_interval", "doubt"]
