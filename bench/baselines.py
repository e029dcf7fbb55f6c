"""What a musician can do instead of Gramophone, with the stock devices of any DAW (or FluCoMa),
each as a pure function with one knob, swept at four points by the benchmarks.

* :func:`mix`: a wet/dry mix of the content and the style (looped to the content's length, at
  the content's level); knob: the wet share.
* :func:`match_eq`: a Match EQ that takes the content's long-term spectrum to the style's
  (smoothed to about a sixth of an octave, as Match EQs do); knob: the depth (share of the
  gain curve, in dB).
* :func:`vocoder`: a channel vocoder with the style as carrier and the content as modulator
  (octave bands, 23 ms envelopes), as every DAW ships; knob: dry/wet.
* :func:`musaic`: NMF musaicing (Driedger, Prätzlich & Müller, "Let it Bee", ISMIR 2015;
  FluCoMa's ``fluid.bufnmfcross~``): the content's magnitude spectrogram approximated by
  activations of the style's own STFT frames (KL divergence, the style frames fixed), with the
  paper's repetition, polyphony and continuity constraints; the output is the style's complex
  frames mixed by those activations. Knob: polyphony (how many style frames may sound at once).

Inputs and outputs are ``float32 [channels, samples]``; the style is mixed to mono, brought to
the content's rate and looped to its length. Every output is matched to the content's RMS.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from gramophone.engine.envelope import band_weights, smooth_spectrum
from gramophone.engine.loudness import match_loudness
from gramophone.engine.resampling import resample

N_FFT, HOP = 2048, 512
#: knob points each baseline is swept over (low to high effect)
KNOBS: dict[str, tuple[float, ...]] = {
    "mix": (0.25, 0.5, 0.75, 1.0),
    "match_eq": (0.25, 0.5, 0.75, 1.0),
    "vocoder": (0.25, 0.5, 0.75, 1.0),
    "musaic": (30.0, 10.0, 3.0, 1.0),  # polyphony: fewer frames at once = more of the style
}


def _spec(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(x, dtype=np.float64))
    return torch.stft(t, N_FFT, HOP, window=torch.hann_window(N_FFT, dtype=torch.float64),
                      center=True, return_complex=True)


def _ispec(spec: torch.Tensor, length: int) -> np.ndarray:
    return torch.istft(spec, N_FFT, HOP, window=torch.hann_window(N_FFT, dtype=torch.float64),
                       center=True, length=length).numpy().astype(np.float32)


def style_carrier(style: np.ndarray, style_rate: int, rate: int, length: int, channels: int) -> np.ndarray:
    """The style's mono mix at ``rate``, looped (or cut) to ``length`` samples, per channel."""
    mono = resample(style.mean(0, keepdims=True).astype(np.float32), style_rate, rate)[0]
    looped = np.tile(mono, -(-length // len(mono)))[:length]
    return np.repeat(looped[None], channels, 0)


def _finish(out: np.ndarray, content: np.ndarray, rate: int) -> np.ndarray:
    return match_loudness(out.astype(np.float32), content, rate)


def mix(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int, wet: float) -> np.ndarray:
    carrier = style_carrier(style, style_rate, rate, content.shape[1], content.shape[0])
    carrier *= np.sqrt((content ** 2).mean() / max((carrier ** 2).mean(), 1e-20))
    return _finish((1 - wet) * content + wet * carrier, content, rate)


def match_eq(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int, depth: float) -> np.ndarray:
    carrier = style_carrier(style, style_rate, rate, max(content.shape[1], N_FFT), 1)
    target = _spec(carrier[0]).abs().square().mean(-1)
    spec = _spec(content)
    power = spec.abs().square().mean((0, -1))
    ratio = smooth_spectrum(target) / smooth_spectrum(power).clamp_min(1e-20)
    gain = ratio.clamp(1e-3, 1e3) ** (depth / 2)
    return _finish(_ispec(spec * gain[:, None], content.shape[1]), content, rate)


def vocoder(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int, wet: float) -> np.ndarray:
    carrier = style_carrier(style, style_rate, rate, content.shape[1], content.shape[0])
    c, s = _spec(content), _spec(carrier)
    weights = band_weights(N_FFT // 2 + 1, rate).double()  # [bands, bins], octave bands
    env_c = torch.einsum("kb,cbt->ckt", weights, c.abs().square())
    env_s = torch.einsum("kb,cbt->ckt", weights, s.abs().square())
    gain = torch.einsum("kb,ckt->cbt", weights, (env_c / env_s.clamp_min(1e-12)).sqrt())
    voc = _finish(_ispec(s * gain, content.shape[1]), content, rate)
    return _finish((1 - wet) * content + wet * voc, content, rate)


#: Let it Bee's iterations, and the frames a style may bring (evenly spaced, bounds the cost)
MUSAIC_ITERATIONS, MUSAIC_MAX_STYLE_FRAMES = 30, 800


def musaic(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int, polyphony: float) -> np.ndarray:
    mono = resample(style.mean(0, keepdims=True).astype(np.float32), style_rate, rate)[0]
    w_c = _spec(mono)
    if w_c.shape[1] > MUSAIC_MAX_STYLE_FRAMES:
        w_c = w_c[:, np.linspace(0, w_c.shape[1] - 1, MUSAIC_MAX_STYLE_FRAMES).round().astype(int)]
    w = w_c.abs() + 1e-9
    w_norm = w / w.sum(0, keepdim=True)
    outs = []
    gen = torch.Generator().manual_seed(0)
    for channel in content:
        v = _spec(channel).abs() + 1e-9
        h = torch.rand(w.shape[1], v.shape[1], generator=gen, dtype=torch.float64) * v.sum(0).mean()
        for it in range(MUSAIC_ITERATIONS):
            shrink = 1 - (it + 1) / MUSAIC_ITERATIONS
            # repetition restraint: a frame may not repeat within 3 frames of its local maximum
            local_max = torch.nn.functional.max_pool1d(h[None], 7, 1, 3)[0]
            h = torch.where(h < local_max, h * shrink, h)
            # polyphony: only the strongest activations in each frame survive
            r = int(min(polyphony, h.shape[0]))
            kth = torch.topk(h, r, dim=0).values[-1:]
            h = torch.where(h < kth, h * shrink, h)
            # continuity: diagonal smoothing favours runs of consecutive style frames
            h = torch.nn.functional.conv2d(h[None, None], torch.eye(3, dtype=h.dtype)[None, None] / 3, padding=1)[0, 0]
            h = h * (w_norm.T @ (v / (w_norm @ h).clamp_min(1e-12))) / w_norm.sum(0)[:, None]
        outs.append(_ispec((w_c / w.sum(0, keepdim=True)) @ h.to(w_c.dtype), content.shape[1]))
    return _finish(np.stack(outs), content, rate)


BASELINES: dict[str, Callable[..., np.ndarray]] = {"mix": mix, "match_eq": match_eq, "vocoder": vocoder,
                                                   "musaic": musaic}
