"""The engine's error types: one type for every problem a user can fix, one for cancellation."""


class GramophoneError(Exception):
    """A problem with the user's input or settings, with a message fit to show the user.

    ``code`` is a short machine-readable word (used by the OSC bridge's error replies).
    """

    def __init__(self, message: str, code: str = "bad_input") -> None:
        super().__init__(message)
        self.code = code


class RenderCancelled(Exception):
    """Raised inside a render when its cancellation token is set."""
