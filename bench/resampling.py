"""Resampling: soxr (what the engine uses) against the former pedalboard resampler with its
fractional-delay correction, for speed, round-trip accuracy and usable bandwidth.

    .venv/bin/python -m bench.resampling

Round trip: rate -> 22.05 kHz (the analysis rate) -> rate, as a render's content and change
travel. Error: RMS of (back - original) over RMS of the original, for 2 s of noise band-limited
to 8 kHz. Bandwidth: the highest frequency at which the round trip's gain is within 0.1 dB.
Speed: 10 s of stereo to 22.05 kHz and back, median of 3.
"""
from __future__ import annotations

import functools

import numpy as np

from bench.common import machine, save_json, timed
from gramophone.engine.loudness import rms
from gramophone.engine.resampling import resample as soxr_resample

ANALYSIS_RATE = 22_050
RATES = (32_000, 44_100, 48_000, 96_000)


def pedalboard_resample(data: np.ndarray, source_rate: int, target_rate: int, length: int | None = None) -> np.ndarray:
    """The engine's former resampler: pedalboard's StreamResampler, flushed, then its measured
    fractional latency removed by a phase ramp (pedalboard compensates only whole samples)."""
    n = data.shape[1]
    length = length or max(1, int(round(n * target_rate / source_rate)))
    out = data
    if source_rate != target_rate:
        out = _fractional_shift(_stream(data, source_rate, target_rate), -_delay(source_rate, target_rate))
    if out.shape[1] < length:
        out = np.pad(out, ((0, 0), (0, length - out.shape[1])))
    return np.ascontiguousarray(out[:, :length], dtype=np.float32)


def _stream(data: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    from pedalboard.io import StreamResampler

    channels = []
    for channel in np.asarray(data, dtype=np.float32):
        r = StreamResampler(float(source_rate), float(target_rate), 1)
        channels.append(np.concatenate([r.process(channel[None]), r.process(None)], axis=1)[0])
    m = min(len(c) for c in channels)
    return np.stack([c[:m] for c in channels])


@functools.lru_cache(maxsize=64)
def _delay(source_rate: int, target_rate: int) -> float:
    ratio = target_rate / source_rate
    impulse = np.zeros((1, 4096), np.float32)
    impulse[0, 1024] = 1.0
    response = _stream(impulse, source_rate, target_rate)[0]
    freqs = np.fft.rfftfreq(len(response))
    spectrum = np.fft.rfft(response) * np.exp(2j * np.pi * freqs * 1024 * ratio)
    band = freqs < 0.35 * min(1.0, 1.0 / ratio)
    phase = np.unwrap(np.angle(spectrum[band]))
    return float(-np.polyfit(2 * np.pi * freqs[band], phase, 1)[0])


def _fractional_shift(data: np.ndarray, samples: float) -> np.ndarray:
    if abs(samples) < 1e-3:
        return data
    n = data.shape[1]
    ramp = np.exp(-2j * np.pi * np.fft.rfftfreq(n) * samples)
    return np.fft.irfft(np.fft.rfft(data, axis=1) * ramp, n=n, axis=1).astype(np.float32)


RESAMPLERS = {"pedalboard + fractional delay": pedalboard_resample, "soxr VHQ": soxr_resample}


def round_trip_error(fn, rate: int) -> float:
    n = 2 * rate
    spectrum = np.fft.rfft(np.random.default_rng(0).standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1 / rate) > 8_000] = 0
    x = np.fft.irfft(spectrum, n=n)[None].astype(np.float32)
    back = fn(fn(x, rate, ANALYSIS_RATE), ANALYSIS_RATE, rate, n)
    inner = slice(1000, -1000)
    return rms(back[:, inner] - x[:, inner]) / rms(x)


def bandwidth(fn, rate: int) -> float:
    """Highest frequency (Hz) up to which the round trip's gain stays within 0.1 dB."""
    n = 1 << 15
    impulse = np.zeros((1, n), np.float32)
    impulse[0, n // 2] = 1.0
    gain = np.abs(np.fft.rfft(fn(fn(impulse, rate, ANALYSIS_RATE), ANALYSIS_RATE, rate, n)[0]))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    bad = np.nonzero(np.abs(20 * np.log10(gain + 1e-12)) > 0.1)[0]
    return float(freqs[bad[0]]) if len(bad) else float(freqs[-1])


def main() -> None:
    rows = []
    print("| resampler | rate | round-trip error | flat (±0.1 dB) to | 10 s stereo there and back |")
    print("|---|---|---|---|---|")
    for name, fn in RESAMPLERS.items():
        for rate in RATES:
            x = np.random.default_rng(1).standard_normal((2, 10 * rate)).astype(np.float32)
            seconds, _ = timed(lambda: fn(fn(x, rate, ANALYSIS_RATE), ANALYSIS_RATE, rate))
            row = dict(resampler=name, rate=rate, error=round_trip_error(fn, rate), flat_to=bandwidth(fn, rate),
                       seconds=seconds)
            rows.append(row)
            print(f"| {name} | {rate / 1000:g} kHz | {100 * row['error']:.4f} % | {row['flat_to'] / 1000:.2f} kHz "
                  f"| {1000 * seconds:.0f} ms |", flush=True)
    save_json("resampling.json", dict(rows=rows, machine=machine()))
    print(f"\nmachine: {machine()}")


if __name__ == "__main__":
    main()
