"""Forward noising for training: from (puzzle, solution) to a partially filled, partly wrong grid.

The sampler meets grids where some unknown cells are committed, and some of those
commitments are wrong. Training shows the model such grids: a random fraction of
the unknown cells is revealed, and a few revealed cells get a wrong value, so the
model learns both to fill masked cells and to doubt its own earlier commitments
(which is what retraction reads).
"""

from __future__ import annotations

import torch


def noise(
    puzzle: torch.Tensor,
    solution: torch.Tensor,
    n_values: int,
    generator: torch.Generator | None = None,
    p_start: float = 0.25,
    p_wrong: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """puzzle, solution: (B, T) long, 0 = unknown in puzzle. Returns (values, given).

    Per row: with probability p_start nothing is revealed (the sampler's first step);
    otherwise each unknown cell is revealed with probability r ~ U(0, 1); each revealed
    cell is wrong with probability p_wrong.
    """
    B, T = puzzle.shape
    dev = puzzle.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator, device=dev)

    given = puzzle > 0
    r = rand(B, 1) * (rand(B, 1) >= p_start)
    reveal = ~given & (rand(B, T) < r)
    wrong = reveal & (rand(B, T) < p_wrong)
    offset = torch.randint(1, n_values, (B, T), generator=generator, device=dev)
    wrong_value = (solution - 1 + offset) % n_values + 1  # any value but the right one
    values = torch.where(given, puzzle, torch.where(reveal, torch.where(wrong, wrong_value, solution), 0))
    return values, given
