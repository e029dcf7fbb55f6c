"""Keeping the notes: the pitch measures hear pitch, and the partials step keeps a melody's."""
from dataclasses import replace

import numpy as np
import pytest
import torch

import gramophone.engine.partials as partials
from gramophone.engine import RenderSettings, analyse_style, render, synth
from gramophone.engine.metrics import f0_kept, pitch_kept, style_gain
from gramophone.engine.partials import keep_partials, partial_peaks, spectral_envelope, texture_prominence, to_db

from helpers import SR


def tone(f0: float, seconds: float = 2.0, rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    freq = np.where(t < seconds / 2, f0, f0 * 1.5)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 8)))[None].astype(np.float32)


def hum(seconds: float = 3.0, rate: int = 44_100) -> np.ndarray:
    """A glass-hum-like drone: three steady inharmonic partials over a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    lines = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (587.0, 1480.0, 2794.0))
    return (lines + 0.003 * np.random.default_rng(2).standard_normal(t.size))[None].astype(np.float32)


def magnitude(x: np.ndarray, hop: int = 1024) -> torch.Tensor:
    """2048-point STFT magnitudes (at 44.1 kHz with the default hop: the kernel model's grid)."""
    window = torch.hann_window(2048, dtype=torch.float64)
    return torch.stft(torch.from_numpy(np.asarray(x, dtype=np.float64)), 2048, hop, window=window,
                      return_complex=True).abs()


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
    harmonic = partial_peaks(magnitude(tone(220.0, rate=44_100), hop=512), 44_100)
    noise = partial_peaks(magnitude(np.random.default_rng(1).standard_normal((1, 88_200)), hop=512), 44_100)
    assert (noise > 0).float().mean() < 0.05  # a noise spectrum's ripple stays under the threshold
    bin_220 = round(220.0 * 2048 / 44_100)
    assert harmonic[0, bin_220, 10:70].min() > 10  # the fundamental stands out in every frame of its note
    assert keep_partials(magnitude(tone(220.0)), magnitude(tone(220.0)), 0.0, SR).equal(magnitude(tone(220.0)))


def test_a_tonal_texture_raises_the_notes_a_noise_does_not(monkeypatch):
    def prominence(x):
        db = to_db(magnitude(x))
        return texture_prominence(db, spectral_envelope(db, 44_100), torch.zeros_like(db))
    assert float(prominence(hum()).median()) > 10  # the drone's partials stand out of its envelope
    assert float(prominence(synth.rain(44_100, 3.0)).max()) == 0  # a noise's ripple does not count
    notes, drone = magnitude(tone(220.0, 3.0, 44_100)), magnitude(hum())
    raised = keep_partials(drone, notes, 0.75, 44_100)
    monkeypatch.setattr(partials, "TEXTURE_PEAK_FLOOR_DB", 1e3)  # the texture's peaks ignored
    plain = keep_partials(drone, notes, 0.75, 44_100)
    fundamental = round(220.0 * 2048 / 44_100)  # sounding in the first half (frames 0-64)
    gain_db = 20 * torch.log10(raised[0, fundamental, 10:55] / plain[0, fundamental, 10:55])
    assert float(gain_db.min()) > 6  # the note stands out of the drone as the drone's own partials do
    still = partial_peaks(notes, 44_100) == 0
    assert torch.equal(raised[still], plain[still])  # only the content's partials move


@pytest.mark.slow
def test_partials_keep_a_melody_against_a_drone(melody, kernel_model, monkeypatch):
    """A tonal texture's own partials drowned the melody (on the corpus a voice as a singing bowl
    kept 0.05 of its f0, 0.83 now): the notes are raised to stand out of the drone as its own
    partials do, and the drone stays (measured here: pitch kept 0.40 -> 0.73, style 0.36 -> 0.23)."""
    drone = hum(3.0, SR)
    stats = analyse_style([(drone, SR)], kernel_model)
    kept = render(melody, SR, kernel_model, stats, RenderSettings())
    monkeypatch.setattr(partials, "TEXTURE_PEAK_FLOOR_DB", 1e3)
    drowned = render(melody, SR, kernel_model, stats, RenderSettings())
    assert pitch_kept(kept, melody, SR) > pitch_kept(drowned, melody, SR) + 0.2
    assert style_gain(kept, drone, melody, SR, SR)["style"] > 0.15


@pytest.mark.slow
def test_partials_keep_the_melody_at_full_strength(melody, kernel_model, rain_stats):
    settings = RenderSettings()
    kept = render(melody, SR, kernel_model, rain_stats, settings)
    lost = render(melody, SR, kernel_model, rain_stats, replace(settings, partials=0.0))
    assert pitch_kept(kept, melody, SR) > 0.75
    assert pitch_kept(kept, melody, SR) > pitch_kept(lost, melody, SR) + 0.2
    assert f0_kept(kept, melody, SR) > f0_kept(lost, melody, SR) + 0.2  # YIN: periodicity, not peaks


def test_a_hole_in_the_renders_fold_frame_does_not_pull_the_partials_down():
    """The frame at the clip's last sample (the STFT folds the clip there) can come out of the
    optimiser nearly silent; the partials of the frames before it stay as they would be without
    the hole (15-19 dB lower without the change)."""
    rate = 44_100
    notes = magnitude(np.sin(2 * np.pi * 220.0 * np.arange(3 * rate) / rate)[None] * 0.2)
    texture = magnitude(synth.rain(rate, 3.0))
    last = 3 * rate // 1024  # the frame centred on or just before the last sample
    fundamental = round(220.0 * 2048 / rate)
    level = lambda out: 20 * torch.log10(out[0, fundamental, last - 3:last])  # noqa: E731
    whole = level(keep_partials(texture, notes, 0.75, rate, last))
    texture[..., last] = 1e-6
    held, pulled = (level(keep_partials(texture, notes, 0.75, rate, frame)) for frame in (last, None))
    assert float((held - whole).abs().max()) < 2.0  # as if the fold frame had no hole
    assert float((pulled - whole).min()) < -4.0  # without it: pulled down
