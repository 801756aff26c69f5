"""The `csp` terminal tool: a thin Typer layer over `puzzles` and `csp_diffusion`."""
