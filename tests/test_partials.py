"""Keeping the notes: the pitch measures hear pitch, and the partials step keeps a melody's."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from gramophone.engine import RenderSettings, render
from gramophone.engine.metrics import f0_kept, pitch_kept
from gramophone.engine.partials import keep_partials, partial_peaks

from helpers import SR


def tone(f0: float, seconds: float = 2.0, rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    freq = np.where(t < seconds / 2, f0, f0 * 1.5)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 8)))[None].astype(np.float32)


def test_pitch_measures_hear_the_notes():
    notes = tone(220.0)
    noise = 0.05 * np.random.default_rng(0).standard_normal(notes.shape).astype(np.float32)
    assert pitch_kept(notes, notes, SR) == pytest.approx(1.0)
    assert f0_kept(notes, notes, SR) == pytest.approx(1.0)
    assert pitch_kept(notes + noise, notes, SR) > 0.8 and f0_kept(notes + noise, notes, SR) > 0.9
    assert pitch_kept(noise, notes, SR) < 0.2 and f0_kept(noise, notes, SR) < 0.1
    transposed = tone(220.0 * 2 ** (3 / 12))  # a minor third up: other notes
    assert pitch_kept(transposed, notes, SR) < 0.2 and f0_kept(transposed, notes, SR) < 0.1


def test_partial_peaks_are_the_partials_not_noise():
    window = torch.hann_window(2048, dtype=torch.float64)
    def magnitude(x):
        return torch.stft(torch.from_numpy(x.astype(np.float64)), 2048, 512, window=window,
                          return_complex=True).abs()
    harmonic = partial_peaks(magnitude(tone(220.0, rate=44_100)), 44_100)
    noise = partial_peaks(magnitude(np.random.default_rng(1).standard_normal((1, 88_200))), 44_100)
    assert (noise > 0).float().mean() < 0.05  # a noise spectrum's ripple stays under the threshold
    bin_220 = round(220.0 * 2048 / 44_100)
    assert harmonic[0, bin_220, 10:70].min() > 10  # the fundamental stands out in every frame of its note
    assert keep_partials(magnitude(tone(220.0)), magnitude(tone(220.0)), 0.0, SR).equal(magnitude(tone(220.0)))


@pytest.mark.slow
def test_partials_keep_the_melody_at_full_strength(melody, kernel_model, rain_stats):
    settings = RenderSettings()
    kept = render(melody, SR, kernel_model, rain_stats, settings)
    lost = render(melody, SR, kernel_model, rain_stats, replace(settings, partials=0.0))
    assert pitch_kept(kept, melody, SR) > 0.75
    assert pitch_kept(kept, melody, SR) > pitch_kept(lost, melody, SR) + 0.2
    assert f0_kept(kept, melody, SR) > f0_kept(lost, melody, SR) + 0.2  # YIN: periodicity, not peaks
