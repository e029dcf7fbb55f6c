"""A render's ends are held to its content's (engine.ends), judged by the benchmark's own measure."""
from __future__ import annotations

import numpy as np
import pytest

from gramophone.engine import RenderSettings
from gramophone.engine.ends import END_SECONDS, hold_ends
from gramophone.engine.metrics import end_ratio
from gramophone.engine.render import finish

from helpers import SR

N = int(END_SECONDS * SR)


def noise(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal((1, int(seconds * SR)))).astype(np.float32)


def test_an_end_louder_than_the_contents_is_pulled_down_to_its_bound_and_nothing_else_moves():
    content = noise(2.0, 0.1)
    out = noise(2.0, 0.1, seed=1)
    out[:, -N // 2] = 0.9  # a click in the last 50 ms, where the content has none
    held = hold_ends(out, content, SR)
    assert end_ratio(out, SR) > 2.0
    assert end_ratio(held, SR) <= max(end_ratio(content, SR), 1.0) * (1 + 1e-6)
    np.testing.assert_array_equal(held[:, :-2 * N], out[:, :-2 * N])  # the first end and the rest untouched
    assert np.abs(held[:, -2 * N:-N] - out[:, -2 * N:-N]).max() < 0.02  # the limiter's release only


def test_an_end_may_be_as_loud_as_the_contents_own():
    """A content that starts on its loudest attack may be rendered so: its ratio is the bound."""
    content = noise(2.0, 0.1)
    content[:, N // 2] = 0.8  # the content's first 50 ms peak 0.8 / ~0.4: about 2x the rest
    out = noise(2.0, 0.1, seed=1)
    out[:, N // 3] = 0.7
    held = hold_ends(out, content, SR)
    assert end_ratio(out, SR) <= end_ratio(content, SR)
    assert held is out  # within its bound: left as it is

    out[:, N // 3] = 1.5 * end_ratio(content, SR) * np.abs(out[:, N:-N]).max()  # past it
    held = hold_ends(out, content, SR)
    assert end_ratio(held, SR) == pytest.approx(end_ratio(content, SR), rel=1e-5)


def test_a_clip_too_short_to_have_ends_and_a_rest_is_left_as_it_is():
    content, out = noise(0.15, 0.1), noise(0.15, 0.1, seed=1)
    out[:, -1] = 0.9
    assert hold_ends(out, content, SR) is out


def test_the_render_holds_its_ends_where_it_matches_the_level_and_not_in_a_chunk():
    """``finish`` holds the ends of a clip (its level is matched over the whole); with the level
    match off (how chunks of a long file are rendered) nothing is held: a chunk's end is a join."""
    content = noise(2.0, 0.1)
    full = noise(2.0, 0.1, seed=1)
    full[:, N // 2] = 0.9
    assert end_ratio(finish(content, full, RenderSettings(), SR), SR) <= max(end_ratio(content, SR), 1.0) * (1 + 1e-6)
    kept = finish(content, full, RenderSettings(match_loudness=False), SR)
    assert end_ratio(kept, SR) > 2.0
