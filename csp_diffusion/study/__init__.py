"""The architecture study behind `csp compare`: matched variants trained to FLOP budgets, scored on a ladder of
tiers, gated, and their claims decided by intervals. It reads everything that differs between kinds of puzzle from
the task (`study_tiers`, `study_grid`, `study_hints`: puzzles.contract.NEURAL), never from a kind's name.

  runs.py     Study, the variants and their recipes, training and scoring every snapshot, the gates, results.json
  report.py   the claims (paired-bootstrap intervals), report.md and the plots
  doubt.py    whether a model doubts its own wrong commits (the measure retraction depends on)

The functions `report.report` and `doubt.doubt` are not re-exported here: they share their module's name.
"""

from __future__ import annotations

from csp_diffusion.study.doubt import auroc
from csp_diffusion.study.report import claims, difference, flops_ratio, plots, to_target, trend
from csp_diffusion.study.runs import (
    LOOPS,
    RECIPES,
    VARIANTS,
    Study,
    budget_name,
    config,
    gates,
    match_widths,
    rewrite,
    run,
    trained_and_scored,
)

__all__ = ["LOOPS", "RECIPES", "VARIANTS", "Study", "auroc", "budget_name", "claims", "config", "difference",
           "flops_ratio", "gates", "match_widths", "rewrite", "plots", "run", "to_target", "trained_and_scored", "trend"]
