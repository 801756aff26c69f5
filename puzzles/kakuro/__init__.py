"""Kakuro: the grid and its text form (`grid`), the exact CP-SAT oracle (`oracle`), the generator of
puzzles with one solution (`generate`) and the task the CLI and benchmark use (`task.KakuroTask`).

Never imports torch; OR-tools is imported only when a puzzle is solved or generated.
"""
