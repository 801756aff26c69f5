"""A recurrent model (HRM, TRM) seen through LoopMDM's interface, so the same decoders read it.

The sampler and the argmax decoder call a network as `model(values, given, positions, graph, loops,
state=..., return_state=True)` and read each cell's distribution. `Recurrent` runs an HRM or TRM that
way: `loops` is segments, the recurrent state (HRM's z_H and z_L, TRM's y and z, packed side by side
in one tensor) is what the sampler carries from one call to the next, and the grid it reads holds the
givens and every cell committed so far (committed cells enter as the model's input, as givens do:
it knows no other way to be told a value). Only the true givens are pinned in the output, so a
committed cell keeps a distribution of its own that the sampler's doubt can read.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class Recurrent(nn.Module):
    carries_state = True  # the sampler may carry its state between calls
    resumes = True  # and always should: a recurrent model's state is what it has worked out so far
    trace = 0
    max_loops = 1  # one segment per call unless told

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.config = net.config

    def forward(self, values: torch.Tensor, given: torch.Tensor, positions: torch.Tensor, graph: torch.Tensor,
                loops: int, state: torch.Tensor | None = None, return_state: bool = False, quiet=None):
        """Logits (B, T, n_values) after `loops` segments (at least one) from `state` (None: the model's
        initial state); with return_state, (logits, the new packed state). `quiet` is ignored: every cell
        is recomputed."""
        B, T = values.shape
        z = self.net.initial(B, T) if state is None else tuple(s.contiguous() for s in state.chunk(2, dim=-1))
        for _ in range(max(1, loops)):
            z, logits, _ = self.net(values, z, positions, graph, pinned=given)
        return (logits, torch.cat(z, dim=-1)) if return_state else logits

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        return self.net.flops(loops, cells, neighbours)


def as_denoiser(model: nn.Module) -> nn.Module:
    """`model` as the sampler and the argmax decoder call it: a masked-diffusion network as it is, a
    recurrent one (it has an initial state) wrapped in `Recurrent`."""
    return Recurrent(model) if model.recurrent else model
