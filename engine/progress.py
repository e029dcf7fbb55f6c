"""Progress reporting and cooperative cancellation shared by long-running engine calls."""
from __future__ import annotations

import threading
from typing import Callable, Optional

from .errors import RenderCancelled

#: ``progress(fraction, loss)``: fraction in [0, 1]; loss is the latest relative style loss.
ProgressCallback = Callable[[float, float], None]


class CancelToken:
    """A thread-safe flag a caller sets to stop a render at the next iteration."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def check(self) -> None:
        """Raise :class:`RenderCancelled` if cancellation was requested."""
        if self._event.is_set():
            raise RenderCancelled("render cancelled")


def check_cancel(token: Optional[CancelToken]) -> None:
    if token is not None:
        token.check()
