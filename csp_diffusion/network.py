"""What every model kind shares and declares: its config's (de)serialization, and the attributes the
sampler, the solver and training read instead of probing a model for what it can do."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch.nn as nn


@dataclass
class ModelConfig:
    """The settings every network has; each model's config adds its own."""

    n_values: int = 9
    tokens: int = 0  # input tokens, MASK included (a task's marks too); 0 = n_values + 1
    position_sizes: tuple[int, ...] = (9, 9, 9)
    cells: int = 81  # only LoopMDM's free-position ablation uses it
    dim: int = 128
    heads: int = 4
    mlp_ratio: int = 4
    slots: int = 0  # >0: sparse attention over a (cells, slots) neighbour table, one learned bias per slot

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        d = dict(d)
        d["position_sizes"] = tuple(d["position_sizes"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class DeepSupervisionConfig(ModelConfig):
    """The recurrent models' training (HRM, TRM): deep supervision over segments, learned halting."""

    segments: int = 8  # deep-supervision segments per training example at most
    act: bool = True  # learn when to halt; False: always `segments`
    explore: float = 0.1  # probability of a random least segment count in training
    hints: float = 0.0  # probability that a training puzzle comes with a random part of its answer given
    noised: float = 0.0  # probability that a training puzzle arrives as LoopMDM's noised grid (some unknown cells
    # revealed, some of those wrong, none pinned: the loss covers them), as the sampler shows the model grids
    # the puzzle's embedding times sqrt(dim), as HRM's and TRM's own code scale it: the carried states come out of
    # a network call at norm ~sqrt(dim), and an unscaled embedding (norm ~0.4) was 4% of the summed input, which
    # kept TRM at chance (loss ln 9 at every learning rate and step count tried: docs/results/compare.md)
    scaled_input: bool = True

    @classmethod
    def from_dict(cls, d: dict):
        return super().from_dict({"scaled_input": False, **d})  # checkpoints from before the field ran unscaled


class Network(nn.Module):
    """A model kind's network. Subclasses set the class attributes that differ."""

    carries_state = False  # forward(state=..., return_state=True) exists: the sampler may warm-start it
    resumes = False  # the sampler carries its state into every later step (a recurrent model's, denoiser.py)
    recurrent = False  # it runs segment by segment from an initial state (HRM, TRM): denoiser.Recurrent reads it
    needs_positions = False  # it needs every cell's row and column, even on tasks whose cells carry none

    @property
    def max_loops(self) -> int:
        """Loops per step it was trained for (1 for models that do not loop)."""
        return 1

    @property
    def trace(self) -> int:
        """Outputs of its execution-trace read-out (0: none; it answers with its head)."""
        return 0

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @staticmethod
    def init_weights(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)


def block_flops(cells: int, attended: int, dim: int, mlp_ratio: int) -> int:
    """x2 multiply-adds of one transformer block's forward pass over `cells` tokens, each attending
    to `attended` others: the four attention projections, the MLP, scores and weighted values."""
    return 2 * cells * (4 * dim * dim + 2 * mlp_ratio * dim * dim) + 2 * 2 * cells * attended * dim


def train_flops(forward: float, differentiated: float) -> float:
    """The one training-FLOP formula of every model kind, per example: the whole forward pass (loops,
    segments and recursions run without a graph included) plus the backward pass, twice the forward
    FLOPs of the part gradients flow through."""
    return forward + 2 * differentiated


__all__ = ["DeepSupervisionConfig", "ModelConfig", "Network", "block_flops", "train_flops"]
