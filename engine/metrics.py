"""Model-independent measures of a render: how much style it took on, how much content it kept.

No texture model's loss or features are used here, so every model (and the paper's own
configuration) is judged by the same ruler. The measures follow what a listener hears of a
texture (McDermott & Simoncelli 2011) over the full audible band, 50 Hz to 20 kHz:

* **Style** (:func:`style_statistics`): from ERB-spaced band envelopes of the mono mix,
  four groups of statistics, each level-independent:

  - ``spectrum``: the band levels in dB relative to the clip's mean (its spectral envelope,
    full band: hiss above 11 kHz counts);
  - ``marginals``: per band, the compressed envelope's modulation depth (std/mean) and skewness
    (how impulsive or steady each band is);
  - ``correlations``: cross-band correlations of the envelopes (what moves together: the clicks
    of crackle are broadband, the bands of rain are independent);
  - ``modulation``: per band, the envelope's power in octave modulation bands 0.5-64 Hz, relative
    to its total (slow swells vs. fast flutter).

  :func:`style_gain` scores an output per group as ``1 − d(out, style) / d(content, style)``:
  0 is as far from the style as the content was, 1 is the style's statistics exactly, negative
  is further away than the content. The overall gain is the mean over the groups.

* **Content** (:func:`content_kept`): correlation of the log-energy contours of output and
  content in three broad bands (below 500 Hz, 500 Hz-4 kHz, above 4 kHz), over the bands where
  the content has energy. It follows onsets, syllables and notes, and is blind to which
  fine-grained texture fills each band.

Inputs are ``float32 [channels, samples]`` arrays at any rate; channels are mixed to mono.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resampling import resample

#: Analysis rate: 44.1 kHz, so the measures see up to 20 kHz whatever the clip's rate.
RATE = 44_100
N_FFT, HOP = 1024, 256  # 23 ms windows, 5.8 ms hop: envelopes sampled at 172 Hz
BANDS = 32
LOW_HZ, HIGH_HZ = 50.0, 20_000.0
#: Octave modulation bands (Hz) of the envelopes.
MODULATION_BANDS = ((0.5, 1), (1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (32, 64))
#: Broad bands (Hz) whose energy contours stand for the content's structure.
CONTENT_BANDS = ((50.0, 500.0), (500.0, 4_000.0), (4_000.0, 20_000.0))
GROUPS = ("spectrum", "marginals", "correlations", "modulation")
_FLOOR = 1e-10


def erb_edges(bands: int = BANDS, low: float = LOW_HZ, high: float = HIGH_HZ) -> np.ndarray:
    """``bands + 1`` band edges (Hz) equally spaced on the ERB-number scale (Glasberg & Moore)."""
    def erb(f):
        return 21.4 * np.log10(1 + 0.00437 * f)

    def inverse(e):
        return (10 ** (e / 21.4) - 1) / 0.00437

    return inverse(np.linspace(erb(low), erb(high), bands + 1))


def _mono_at(clip: np.ndarray, sample_rate: int, rate: int) -> np.ndarray:
    """The mono mix of ``clip [channels, samples]`` at ``rate``."""
    return resample(np.mean(clip, axis=0, keepdims=True).astype(np.float32), sample_rate, rate)[0]


def power_spectrogram(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power ``[frames, bins]`` of the mono mix at :data:`RATE` (Hann window)."""
    x = _mono_at(clip, sample_rate, RATE)
    x = np.pad(x, (0, max(0, N_FFT - len(x))))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * np.hanning(N_FFT)
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2


def band_power(power: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Power summed in each band ``[bands, frames]``; a band narrower than a bin takes its bin."""
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (freqs >= lo) & (freqs < hi)
        if not inside.any():
            inside = np.abs(freqs - (lo + hi) / 2) == np.abs(freqs - (lo + hi) / 2).min()
        out.append(power[:, inside].sum(1))
    return np.stack(out)


@dataclass(frozen=True)
class StyleStatistics:
    """The four groups of texture statistics of one clip (see the module docstring)."""

    spectrum: np.ndarray
    marginals: np.ndarray
    correlations: np.ndarray
    modulation: np.ndarray

    def group(self, name: str) -> np.ndarray:
        return getattr(self, name)


def style_statistics(clip: np.ndarray, sample_rate: int) -> StyleStatistics:
    """Texture statistics of ``clip``, independent of its level."""
    bands = band_power(power_spectrogram(clip, sample_rate), erb_edges())
    total = bands.mean() + _FLOOR
    spectrum = 10 * np.log10(bands.mean(1) / total + _FLOOR)
    spectrum = np.maximum(spectrum, -80.0)  # an empty band (above a 22 kHz clip's Nyquist) is "very quiet"
    env = np.sqrt(bands / total) ** 0.3  # compressed amplitude envelopes, as the cochlea does
    mean, std = env.mean(1), env.std(1) + 1e-9
    depth = std / (mean + 1e-9)
    skew = (((env - mean[:, None]) / std[:, None]) ** 3).mean(1)
    marginals = np.concatenate([depth, 0.2 * np.clip(skew, -10, 10)])
    corr = np.corrcoef(env + 1e-9 * np.random.default_rng(0).standard_normal(env.shape))
    correlations = corr[np.triu_indices(BANDS, 1)]
    return StyleStatistics(spectrum / 10.0, marginals, correlations, _modulation_power(env))


def _modulation_power(env: np.ndarray) -> np.ndarray:
    """Per band, the share of the envelope's variance in each octave modulation band."""
    rate = RATE / HOP
    centred = env - env.mean(1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(centred * np.hanning(env.shape[1]), axis=1)) ** 2
    freqs = np.fft.rfftfreq(env.shape[1], 1 / rate)
    total = spectrum[:, 1:].sum(1, keepdims=True) + _FLOOR
    shares = [spectrum[:, (freqs >= lo) & (freqs < hi)].sum(1) for lo, hi in MODULATION_BANDS]
    return (np.stack(shares, 1) / total).ravel()


def style_gain(output: np.ndarray, style: np.ndarray, content: np.ndarray, sample_rate: int,
               style_rate: int | None = None, content_rate: int | None = None) -> dict[str, float]:
    """How far ``output`` moved from the content's texture to the style's, per group and overall
    (``"style"``, the mean of the groups): 0 = the content's, 1 = the style's."""
    s = style_statistics(style, style_rate or sample_rate)
    c = style_statistics(content, content_rate or sample_rate)
    o = style_statistics(output, sample_rate)
    gains = {}
    for g in GROUPS:
        far = np.linalg.norm(c.group(g) - s.group(g)) + 1e-9
        gains[g] = float(1.0 - np.linalg.norm(o.group(g) - s.group(g)) / far)
    gains["style"] = float(np.mean([gains[g] for g in GROUPS]))
    return gains


def content_kept(output: np.ndarray, content: np.ndarray, sample_rate: int,
                 content_rate: int | None = None) -> float:
    """Correlation (−1..1) of the output's broad-band log-energy contours with the content's,
    averaged over the bands where the content has energy (within 40 dB of its loudest band)."""
    edges = [np.array(b) for b in CONTENT_BANDS]
    a = [band_power(power_spectrogram(output, sample_rate), e)[0] for e in edges]
    b = [band_power(power_spectrogram(content, content_rate or sample_rate), e)[0] for e in edges]
    n = min(len(a[0]), len(b[0]))
    level = np.array([x.mean() for x in b])
    scores = []
    for x, y, lvl in zip(a, b, level):
        if lvl < level.max() * 1e-4:
            continue
        x, y = _smooth(np.log(x[:n] + _FLOOR * level.max())), _smooth(np.log(y[:n] + _FLOOR * level.max()))
        x, y = x - x.mean(), y - y.mean()
        scores.append(float((x * y).sum() / (np.sqrt((x * x).sum() * (y * y).sum()) + 1e-12)))
    return float(np.mean(scores)) if scores else 0.0


def _smooth(x: np.ndarray, width: int = 4) -> np.ndarray:
    """Moving average over ``width`` frames (23 ms): contours, not frame-to-frame noise."""
    return np.convolve(x, np.ones(width) / width, mode="same")


def high_band_level(clip: np.ndarray, sample_rate: int) -> float:
    """Level (dB) of 11-20 kHz relative to 1-4 kHz: how much of the top octave a clip has."""
    power = power_spectrogram(clip, sample_rate).mean(0)
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    high = power[(freqs >= 11_000) & (freqs < 20_000)].sum()
    mid = power[(freqs >= 1_000) & (freqs < 4_000)].sum()
    return float(10 * np.log10((high + _FLOOR) / (mid + _FLOOR)))


# The measures earlier benchmarks used, kept so their tables stay comparable.
def style_distance(output: np.ndarray, style: np.ndarray, content: np.ndarray, sample_rate: int,
                   style_rate: int | None = None) -> float:
    """``1 − style_gain(...)["style"]``: 1.0 is as far as the content, 0.0 the style exactly."""
    return 1.0 - style_gain(output, style, content, sample_rate, style_rate)["style"]


def content_preservation(output: np.ndarray, content: np.ndarray, sample_rate: int) -> float:
    """Alias of :func:`content_kept` (the name earlier benchmarks used)."""
    return content_kept(output, content, sample_rate)


# --- Pitch: whether the content's notes and intonation survive -------------------------------
#
# Neither the style nor the content measure above hears pitch: a vocoder (the style as carrier,
# the content's band envelopes as modulator) keeps the content's contour and scores well on both
# while every note is gone. Two pitch measures, each independent of the other:
#
# * :func:`pitch_kept`: per frame, the correlation of the output's 12-bin chroma of *spectral
#   peaks* with the content's. Peaks, not energy: each log-frequency bin's level is taken in dB
#   above the median of the octave around it, so a texture's noise floor (rain under a piano)
#   does not hide the partials that stand out of it, and a texture's broad spectrum counts for
#   nothing. Frames are weighted by how pitched the content is there (its own peak salience).
# * :func:`f0_kept`: for monophonic content, the share of the content's voiced frames (YIN,
#   de Cheveigné & Kawahara 2002) in which the output's YIN f0 lies within a semitone of the
#   content's: periodicity in the waveform, not peaks in a spectrum.

#: Pitch analysis: 22.05 kHz, 372 ms windows (resolves semitones from about C3 up), 46 ms hop.
PITCH_RATE, PITCH_N_FFT, PITCH_HOP = 22_050, 8192, 1024
#: The log-frequency axis: 3 bins a semitone from C2 (65.4 Hz) over 6 octaves (to C8).
BINS_PER_SEMITONE, PITCH_LOW_HZ, PITCH_OCTAVES = 3, 65.406, 6
#: Frames more than this (dB) under the content's loudest are silence, not notes.
PITCH_GATE_DB = -40.0


def log_frequency_filterbank(rate: int = PITCH_RATE, n_fft: int = PITCH_N_FFT) -> np.ndarray:
    """Triangular filters ``[bins, n_fft/2+1]`` centred on a 1/3-semitone grid from
    :data:`PITCH_LOW_HZ`; each at least one STFT bin wide (an interpolation where the grid is
    finer than the STFT)."""
    per_octave = 12 * BINS_PER_SEMITONE
    centres = PITCH_LOW_HZ * 2.0 ** (np.arange(PITCH_OCTAVES * per_octave) / per_octave)
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    width = np.maximum(centres * (2 ** (1 / per_octave) - 1), rate / n_fft)
    weights = np.maximum(0.0, 1 - np.abs(freqs[None, :] - centres[:, None]) / width[:, None])
    return weights / weights.sum(1, keepdims=True)


def peak_salience(clip: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Spectral peaks on the log-frequency axis: each bin's level in dB above the median of the
    octave around it, at least 0 ``[bins, frames]``; and each frame's level in dB ``[frames]``."""
    x = _mono_at(clip, sample_rate, PITCH_RATE)
    x = np.pad(x, (PITCH_N_FFT // 2, PITCH_N_FFT // 2))
    frames = np.lib.stride_tricks.sliding_window_view(x, PITCH_N_FFT)[::PITCH_HOP] * np.hanning(PITCH_N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    level = 10 * np.log10(power.sum(1) + _FLOOR)
    db = 10 * np.log10(log_frequency_filterbank() @ power.T + _FLOOR)
    half = 6 * BINS_PER_SEMITONE  # half an octave each side
    padded = np.pad(db, ((half, half), (0, 0)), mode="edge")
    floor = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0), axis=-1)
    return np.maximum(db - floor, 0.0), level


def peak_chroma(salience: np.ndarray) -> np.ndarray:
    """12-bin chroma ``[12, frames]`` of :func:`peak_salience` (C first), octaves and the
    three bins of each semitone summed."""
    bins, frames = salience.shape
    return salience.reshape(PITCH_OCTAVES, 12, BINS_PER_SEMITONE, frames).sum((0, 2))


def pitch_kept(output: np.ndarray, content: np.ndarray, sample_rate: int,
               content_rate: int | None = None) -> float:
    """Correlation (−1..1) of the output's peak chroma with the content's, frame by frame,
    averaged with each frame weighted by the content's peak salience (how pitched it is there);
    frames :data:`PITCH_GATE_DB` under the content's loudest are left out."""
    c_sal, c_level = peak_salience(content, content_rate or sample_rate)
    o_sal, _ = peak_salience(output, sample_rate)
    n = min(c_sal.shape[1], o_sal.shape[1])
    a, b = peak_chroma(c_sal[:, :n]), peak_chroma(o_sal[:, :n])
    weight = c_sal[:, :n].mean(0) * (c_level[:n] > c_level.max() + PITCH_GATE_DB)
    a, b = a - a.mean(0), b - b.mean(0)
    corr = (a * b).sum(0) / (np.sqrt((a * a).sum(0) * (b * b).sum(0)) + 1e-12)
    return float((corr * weight).sum() / weight.sum()) if weight.sum() > 0 else 0.0


#: YIN: 46 ms windows at 22.05 kHz every 11.6 ms, f0 from 60 Hz to 1 kHz.
YIN_WINDOW, YIN_HOP, YIN_LOW_HZ, YIN_HIGH_HZ = 1024, 256, 60.0, 1000.0
#: A content frame is voiced where YIN's normalised difference dips under this.
YIN_THRESHOLD = 0.15


def yin(clip: np.ndarray, sample_rate: int, threshold: float = YIN_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """YIN f0 (Hz) and aperiodicity (the normalised difference at the chosen lag, 0 = periodic)
    per frame of the mono mix. The lag is the first dip under ``threshold``, else the deepest."""
    f0, aperiodicity, _ = _yin(_mono_at(clip, sample_rate, PITCH_RATE), threshold)
    return f0, aperiodicity


def _yin(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`yin` of mono ``x`` at :data:`PITCH_RATE`, and each frame's level (dB)."""
    x = x.astype(np.float64)
    lo, hi = int(PITCH_RATE / YIN_HIGH_HZ), int(PITCH_RATE / YIN_LOW_HZ)
    span = YIN_WINDOW + hi + 1
    x = np.pad(x, (0, max(0, span - len(x))))
    frames = np.lib.stride_tricks.sliding_window_view(x, span)[::YIN_HOP]
    size = 1 << int(np.ceil(np.log2(2 * span)))
    spec_full = np.fft.rfft(frames, size)
    spec_head = np.fft.rfft(frames[:, :YIN_WINDOW], size)
    corr = np.fft.irfft(np.conj(spec_head) * spec_full, size)[:, :hi + 1]  # r(tau) = sum_j x_j x_{j+tau}
    energy = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames ** 2, 1)], 1)
    taus = np.arange(hi + 1)
    shifted = energy[:, taus + YIN_WINDOW] - energy[:, taus]  # energy of each lagged window
    diff = np.maximum(shifted[:, :1] + shifted - 2 * corr, 0.0)
    cumulative = np.cumsum(diff[:, 1:], 1) / np.arange(1, hi + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(cumulative, 1e-12)
    band = cmnd[:, lo:hi]
    below = band < threshold
    first = np.where(below.any(1), below.argmax(1), band.argmin(1))
    # walk from the first dip under the threshold down to its local minimum
    for _ in range(8):
        step = (first + 1 < band.shape[1]) & (band[np.arange(len(band)), np.minimum(first + 1, band.shape[1] - 1)]
                                              < band[np.arange(len(band)), first])
        first = first + step
    tau = first + lo
    rows = np.arange(len(band))
    left, mid, right = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, hi)]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    level = 10 * np.log10(frames[:, :YIN_WINDOW].var(1) + _FLOOR)
    return PITCH_RATE / (tau + np.clip(shift, -1, 1)), mid, level


def f0_kept(output: np.ndarray, content: np.ndarray, sample_rate: int, content_rate: int | None = None) -> float:
    """Share (0..1) of the content's voiced frames in which the output's f0 is within a
    semitone of the content's (monophonic content; YIN on both). Voiced: periodic (YIN under
    :data:`YIN_THRESHOLD`) and within :data:`PITCH_GATE_DB` of the loudest frame."""
    f_c, ap_c, level = _yin(_mono_at(content, content_rate or sample_rate, PITCH_RATE), YIN_THRESHOLD)
    f_o, _ = yin(output, sample_rate, threshold=2 * YIN_THRESHOLD)
    n = min(len(f_c), len(f_o))
    voiced = (ap_c[:n] < YIN_THRESHOLD) & (level[:n] > level.max() + PITCH_GATE_DB)
    if not voiced.any():
        return float("nan")
    return float(np.mean(np.abs(12 * np.log2(f_o[:n][voiced] / f_c[:n][voiced])) < 1.0))


#: The ends of a render (issue #21's end-burst rule): its first and last 50 ms.
END_SECONDS = 0.05


def end_ratio(clip: np.ndarray, sample_rate: int, seconds: float = END_SECONDS) -> float:
    """Peak of the first and last ``seconds`` over the peak of the rest (a burst at an end shows as > 1)."""
    n = int(seconds * sample_rate)
    ends = max(float(np.abs(clip[:, :n]).max()), float(np.abs(clip[:, -n:]).max()))
    return ends / max(float(np.abs(clip[:, n:-n]).max()), 1e-12)


def end_energy_ratio(clip: np.ndarray, sample_rate: int, seconds: float = END_SECONDS) -> float:
    """RMS of the first or last ``seconds`` (the louder) over the RMS of the rest: what
    :func:`end_ratio` misses when an end is dense rather than peaky."""
    n = int(seconds * sample_rate)
    first, last, rest = (float(np.sqrt(np.mean(np.square(part, dtype=np.float64))))
                         for part in (clip[:, :n], clip[:, -n:], clip[:, n:-n]))
    return max(first, last) / max(rest, 1e-12)


def level_db(output: np.ndarray, content: np.ndarray) -> float:
    """The output's RMS over the content's, in dB."""
    power = [float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) for x in (output, content)]
    return float(10 * np.log10(power[0] / max(power[1], 1e-20)))
