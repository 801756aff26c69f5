"""A kind's drawings (`Terminal.draw`, `Terminal.live`: (text, style) pieces) as rich Text."""

from __future__ import annotations

from rich.text import Text

from puzzles.contract import Drawing


def text(drawing: Drawing) -> Text:
    """The pieces as one Text, each in its style ("" none)."""
    return Text.assemble(*((piece, style or None) for piece, style in drawing))
