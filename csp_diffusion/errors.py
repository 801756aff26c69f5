from puzzles.errors import UserError


class CheckpointError(UserError):
    """A checkpoint that is missing, corrupt, or built for another model or task."""
