"""Full-length renders (issue #21): no burst at a render's ends, and its level stays its content's.

The 3 s excerpts of the benchmarks hide what happens at the end of a long clip and at chunk
joins: a render used to end in a burst (the inverse STFT dividing by one decaying window's
energy), which the loudness match then answered by turning the whole render down. These render
whole 12 s clips, cut mid-sound at both ends, in one chunk and in 5 s chunks (joins inside), and
check the issue's two rules on each. Said plainly: these synthetic clips did not reproduce the
burst itself (rendered without the fix, they end cleanly too: the real case was a dense blues mix
as rustling leaves; ``tests/test_ends.py`` has one that does, a steady tone in 2 iterations);
``bench/notes.py`` counts bursts and levels on the real recordings, whole clips included.
Iterations are 10 (the default 30 takes three times as long and changes neither rule's figures
here).
"""
from __future__ import annotations

import numpy as np
import pytest

from gramophone.engine import RenderSettings, analyse_style, render, synth
from gramophone.engine.metrics import end_ratio, level_db

from helpers import SR

SECONDS = 12.0
#: a render's ends may exceed the allowed ratio by rounding only: they are held to it
#: (``engine.ends``; before, a content whose first 50 ms held its loudest attack kept it a little
#: louder in the render: measured on real recordings, 1.01-1.17x)
TOLERANCE = 1 + 1e-6


@pytest.fixture(scope="module")
def contents() -> dict[str, np.ndarray]:
    """Two 12 s clips cut mid-sound at both ends: a sustained drone and a melody (its first 0.2 s cut off)."""
    melody = synth.plucked_melody(SR, SECONDS + 0.2)[:, int(0.2 * SR):]
    return {"drone": synth.bowed_drone(SR, SECONDS), "melody": np.ascontiguousarray(melody)}


@pytest.mark.slow
@pytest.mark.parametrize("style_name", ["fire", "rain"])
@pytest.mark.parametrize("chunk_seconds", [30.0, 5.0])
def test_full_length_renders_end_cleanly_at_their_contents_level(contents, kernel_model, style_name, chunk_seconds):
    style = getattr(synth, style_name)(SR, 6.0)
    stats = analyse_style([(style, SR)], kernel_model)
    settings = RenderSettings(chunk_seconds=chunk_seconds, iterations=10)
    for name, content in contents.items():
        out = render(content, SR, kernel_model, stats, settings)
        allowed = max(end_ratio(content, SR), 1.0)
        assert end_ratio(out, SR) <= TOLERANCE * allowed, (name, end_ratio(out, SR), allowed)
        assert abs(level_db(out, content)) <= 3.0, (name, level_db(out, content))
