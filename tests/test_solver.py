"""Solver names: a model kind or a shipped KIND@BUDGET, and the checkpoint each finds."""

from __future__ import annotations

from csp_diffusion import models


def test_solver_names_are_kinds_or_kinds_at_a_budget(tmp_path, monkeypatch):
    from csp_diffusion import solver

    assert models.kind_of("trm") == "trm" and models.kind_of("trm@1e13") == "trm"
    assert models.kind_of("trm@") is None and models.kind_of("magic@1e13") is None and models.kind_of("cpsat") is None
    assert models.kind_of("trm@1e13@x") is None and models.kind_of("trm@big") is None
    monkeypatch.setattr(solver, "SHIPPED", tmp_path)
    for name in ("sudoku-trm@3e12", "sudoku-trm@1e13", "sudoku-loopmdm", "maze-trm@1e13"):
        (tmp_path / f"{name}.safetensors").write_bytes(b"")
    assert solver.shipped_names("sudoku") == ["trm@1e13", "trm@3e12"]
    assert solver.shipped_checkpoint("trm", "sudoku").name == "sudoku-trm@1e13.safetensors"  # the largest budget
    assert solver.shipped_checkpoint("trm@3e12", "sudoku").name == "sudoku-trm@3e12.safetensors"
    assert solver.shipped_checkpoint("loopmdm", "sudoku").name == "sudoku-loopmdm.safetensors"
