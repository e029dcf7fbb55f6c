"""A one-line terminal progress bar for long renders (stderr, so stdout stays parseable)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws in place on a terminal; elsewhere (logs, CI) prints a line every 25%."""

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream, width
        self.tty = stream.isatty()
        self.started = time.perf_counter()
        self._next_line = 0.0

    def __call__(self, fraction: float, loss: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        loss_text = "" if loss != loss else f"  style loss {loss:.4f}"
        line = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}%"
                f"  {time.perf_counter() - self.started:5.1f}s{loss_text}")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if fraction >= 1.0 else ""))
            self.stream.flush()
        elif fraction >= self._next_line:
            self.stream.write(line + "\n")
            self._next_line = fraction + 0.25
