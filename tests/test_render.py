"""Rendering: the style loss falls, an independent statistic moves toward the style, the
content stays aligned, shapes are kept, renders are deterministic and cancellable."""
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

import gramophone.engine.optimise as optimise
from gramophone.engine import CancelToken, RenderCancelled, RenderSettings, render
from gramophone.engine.errors import GramophoneError
from gramophone.engine.loudness import PEAK_CEILING
from gramophone.engine.metrics import content_preservation, style_distance
from gramophone.engine.resampling import resample
from gramophone.engine.render import analyse_style, to_analysis_rate

from helpers import SR

FAST = RenderSettings(iterations=8, domain="waveform")


def style_loss(clip, model, stats):
    x = torch.from_numpy(to_analysis_rate(clip, SR, model))
    return float(model.loss(model.analysis(x)[0], stats))


@pytest.fixture(scope="module")
def rendered(melody, kernel_model, rain_stats):
    return render(melody, SR, kernel_model, rain_stats, FAST)


@pytest.mark.slow
def test_render_lowers_style_loss(melody, kernel_model, rain_stats):
    # without the partials step: it sets the melody's partials back on purpose, which the model's
    # own statistics count against the style (tests/test_partials.py measures what it keeps)
    rendered = render(melody, SR, kernel_model, rain_stats, replace(FAST, partials=0.0))
    before, after = style_loss(melody, kernel_model, rain_stats), style_loss(rendered, kernel_model, rain_stats)
    assert after < 0.3 * before


@pytest.mark.slow
def test_render_moves_independent_statistics_toward_style(melody, rain, rendered):
    assert style_distance(rendered, rain, melody, SR) < 0.9


def test_render_stays_aligned_with_content(melody, rain, rendered):
    kept = content_preservation(rendered, melody, SR)
    assert kept > 0.4
    assert kept > content_preservation(rain, melody, SR) + 0.3


def test_output_has_content_shape_and_no_clipping(melody, rendered):
    assert rendered.shape == melody.shape and rendered.dtype == np.float32
    assert np.abs(rendered).max() <= 1.0
    rms = lambda a: np.sqrt(np.mean(a ** 2))  # noqa: E731
    # the content's level, or a spiky texture as loud as MAX_LIMITING_DB of limiting gets it:
    # then its peaks reach the ceiling
    assert rms(rendered) <= rms(melody) * 1.02
    assert rms(rendered) >= rms(melody) * 0.98 or np.abs(rendered).max() >= 0.98 * PEAK_CEILING


@pytest.mark.slow
def test_render_is_deterministic(melody, kernel_model, rain_stats, rendered):
    again = render(melody, SR, kernel_model, rain_stats, FAST)
    assert np.array_equal(again, rendered)


@pytest.mark.slow
def test_strength_is_monotone(melody, rain, kernel_model, rain_stats):
    losses = []
    for s in (0.0, 0.3, 0.6, 1.0):
        out = render(melody, SR, kernel_model, rain_stats, RenderSettings(iterations=8, strength=s))
        losses.append(style_loss(out, kernel_model, rain_stats))
        if s == 0.0:
            assert np.array_equal(out, melody)
    assert all(a > b for a, b in zip(losses, losses[1:])), losses


@pytest.mark.slow
def test_strength_is_a_morph_of_the_full_render(melody, kernel_model, rain_stats):
    """What bench/frontier.py relies on to judge every strength from one render."""
    from gramophone.engine.loudness import match_loudness
    from gramophone.engine.strength import morph

    full = render(melody, SR, kernel_model, rain_stats, replace(FAST, match_loudness=False))
    half = render(melody, SR, kernel_model, rain_stats, replace(FAST, strength=0.5))
    np.testing.assert_allclose(half, match_loudness(morph(melody, full, 0.5, SR), melody, SR), atol=1e-6)


def test_cancel_stops_within_one_iteration(melody, kernel_model, rain_stats):
    token, seen = CancelToken(), []

    def progress(fraction, loss):
        seen.append(fraction)
        if len(seen) == 3:  # 0.0, then two iterations
            token.cancel()

    with pytest.raises(RenderCancelled):
        render(melody, SR, kernel_model, rain_stats, RenderSettings(iterations=50), progress, token)
    assert len(seen) <= 4


@pytest.mark.slow
def test_progress_reports_start_and_end(melody, kernel_model, rain_stats):
    seen = []
    render(melody, SR, kernel_model, rain_stats, RenderSettings(iterations=3), lambda f, loss: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("settings", [RenderSettings(iterations=20),
                                      RenderSettings(iterations=20, domain="spectrogram", random_phase=True),
                                      RenderSettings(iterations=10, domain="waveform", optimiser="adam")])
@pytest.mark.slow
def test_other_domains_and_optimisers_lower_the_loss(melody, kernel_model, rain_stats, settings):
    out = render(melody, SR, kernel_model, rain_stats, settings)
    assert out.shape == melody.shape
    assert style_loss(out, kernel_model, rain_stats) < 0.8 * style_loss(melody, kernel_model, rain_stats)


@pytest.mark.slow
def test_stereo_keeps_each_channel_and_the_image(melody, kernel_model, rain_stats):
    stereo = np.stack([melody[0], 0.5 * np.roll(melody[0], 2000)])
    out = render(stereo, SR, kernel_model, rain_stats, FAST)
    assert out.shape == stereo.shape
    for c in range(2):
        assert content_preservation(out[c:c + 1], stereo[c:c + 1], SR) > 0.4
    # the quieter right channel stays quieter
    assert np.std(out[1]) < np.std(out[0])


@pytest.mark.slow
def test_long_clips_are_chunked_without_seams(melody, kernel_model, rain_stats):
    long = np.tile(melody, 3)  # 9 s
    chunked = render(long, SR, kernel_model, rain_stats, RenderSettings(iterations=6, domain="waveform", chunk_seconds=4.0))
    assert chunked.shape == long.shape
    assert style_loss(chunked, kernel_model, rain_stats) < 0.7 * style_loss(long, kernel_model, rain_stats)
    # no clicks at the joins: the largest sample-to-sample jump is like the rest of the clip's
    jumps = np.abs(np.diff(chunked[0]))
    assert jumps.max() < 10 * np.percentile(jumps, 99.9)


@pytest.mark.slow
def test_random_model_renders(melody, rain):
    from gramophone.engine.models import get_model

    model = get_model("random", filters=256)
    stats = analyse_style([(rain, SR)], model)
    out = render(melody, SR, model, stats, RenderSettings(iterations=4))
    assert out.shape == melody.shape
    assert style_loss(out, model, stats) < style_loss(melody, model, stats)


def high_band_share_db(clip: np.ndarray) -> float:
    """Power above 4 kHz relative to the whole clip's, in dB."""
    power = np.abs(np.fft.rfft(clip.mean(0))) ** 2
    return float(10 * np.log10(power[np.fft.rfftfreq(clip.shape[1], 1 / SR) > 4000].sum() / power.sum()))


@pytest.mark.slow
def test_waveform_models_take_on_the_style_spectrum(melody, rain):
    """The random net's Gram statistics leave the long-term spectrum loose (a plucked melody
    stayed 4 dB short of rain's brightness); its statistics now hold the style's spectrum and the
    render matches it after the optimiser, as the kernel model's spectrogram renders do."""
    from gramophone.engine.models import get_model

    model = get_model("random", filters=256, sample_rate=SR)  # measured: loose 3.9 dB off, matched 0.1
    stats = analyse_style([(rain, SR)], model)
    assert stats["power"].shape == (model.stft.bins,)
    # the spectrum step alone: the partials step after it sets the melody's partials back on purpose
    matched = render(melody, SR, model, stats, RenderSettings(iterations=8, partials=0.0))
    loose = render(melody, SR, model, stats, RenderSettings(iterations=8, envelope=False, partials=0.0))
    target = high_band_share_db(rain)
    assert abs(high_band_share_db(matched) - target) < 1.0
    assert abs(high_band_share_db(loose) - target) > 3.0


@pytest.mark.slow
def test_statistics_without_a_spectrum_render_as_before(melody, rain):
    """Presets made before statistics held ``power`` load with none: the render skips the step."""
    from gramophone.engine.models import get_model

    model = get_model("random", filters=256)
    stats = analyse_style([(rain, SR)], model)
    before = {k: v for k, v in stats.items() if k != "power"}
    assert model.style_power(before) is None
    assert np.array_equal(render(melody, SR, model, before, RenderSettings(iterations=4)),
                          render(melody, SR, model, stats, RenderSettings(iterations=4, envelope=False)))
    assert "power" not in model.blend([(0.5, stats), (0.5, before)])  # a blend with such a preset: none
    assert torch.equal(model.blend([(0.5, stats), (0.5, stats)])["power"], stats["power"])


def test_bad_settings_are_clear_errors(melody, kernel_model, rain_stats):
    for bad in (dict(strength=1.5), dict(iterations=0), dict(contour=-0.1), dict(contour=2.0), dict(domain="mel"),
                dict(optimiser="sgd"), dict(device="tpu")):
        with pytest.raises(GramophoneError):
            render(melody, SR, kernel_model, rain_stats, RenderSettings(**bad))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the CPU path is tested above)")
def test_cuda_render_matches_cpu(melody, kernel_model, rain_stats):
    cpu = render(melody, SR, kernel_model, rain_stats, RenderSettings(iterations=4, device="cpu"))
    gpu = render(melody, SR, kernel_model, rain_stats, RenderSettings(iterations=4, device="cuda"))
    assert content_preservation(gpu, cpu, SR) > 0.95


@pytest.mark.slow
def test_default_render_moves_every_band_to_the_style_up_to_20_khz():
    """At 44.1 kHz the style's top octave reaches the output: a melody with nothing above 11 kHz,
    rendered in the style of hiss that has, comes out with the style's 11-20 kHz level."""
    from gramophone.engine import get_model, synth
    from gramophone.engine.metrics import content_kept, high_band_level, style_gain

    rate = 44_100
    melody = synth.plucked_melody(rate, 2.0)
    melody = resample(resample(melody, rate, 16_000), 16_000, rate)  # nothing above 8 kHz
    vinyl = synth.vinyl(rate, 4.0)
    model = get_model("kernel")
    stats = analyse_style([(vinyl, rate)], model)
    strengths = (0.25, 0.5, 0.75, 1.0)
    outs = {s: render(melody, rate, model, stats, RenderSettings(strength=s)) for s in strengths}
    before, style_level = high_band_level(melody, rate), high_band_level(vinyl, rate)
    assert before < style_level - 20
    # measured: nothing there before (-124 dB), +1.0 dB after against the style's +1.5 dB (on real
    # recordings within 3 dB on 16 of 16 pairs: bench/RESULTS.md); the 22.05 kHz engine added nothing
    # the spectrum step alone: the partials step after it sets the melody's own 1-4 kHz lines back,
    # which this measure (11-20 kHz against 1-4 kHz) counts against the top octave (with them:
    # -13 dB; the top octave is there, under notes that are louder than the hiss)
    after = high_band_level(render(melody, rate, model, stats, RenderSettings(partials=0.0)), rate)
    assert abs(after - style_level) < 3, (before, after, style_level)
    assert high_band_level(outs[1.0], rate) > style_level - 20
    gains = [style_gain(outs[s], vinyl, melody, rate)["style"] for s in strengths]
    kept = [content_kept(outs[s], melody, rate) for s in strengths]
    # measured: style gain -0.12, -0.02, 0.13, 0.24 (0.49 at 1 before the partials step kept the
    # melody's notes, which count against the style here); content kept 0.97, 0.93, 0.84, 0.59
    assert all(b > a for a, b in zip(gains, gains[1:])) and gains[-1] > 0.2, gains
    assert kept == sorted(kept, reverse=True) and kept[1] >= 0.5, kept


def test_the_morphs_power_mean_runs_from_magnitudes_to_decibels():
    """The morph's mean: the content at 0, the render at 1, the closed form in between (a mean of
    magnitudes near 0, of dB near 1), the same with one strength per frame, and each bin's level
    moving one way as strength rises, for render-to-content ratios within the floor's 40 dB."""
    import torch

    from gramophone.engine.strength import mean_exponent, power_mean

    ratios = torch.logspace(-2, 2, 81, dtype=torch.float64)[:, None]  # the render over the content
    a, b = torch.ones_like(ratios), ratios
    assert torch.equal(power_mean(a, b, 0.0), a) and torch.allclose(power_mean(a, b, 1.0), b, rtol=1e-14)
    assert mean_exponent(0.0) == 1.0 and mean_exponent(1.0) == 0.0
    for s in (0.25, 0.5, 0.9):
        p = mean_exponent(s)
        torch.testing.assert_close(power_mean(a, b, s), ((1 - s) * a ** p + s * b ** p) ** (1 / p), rtol=1e-12, atol=0)
    strengths = torch.linspace(0, 1, 101, dtype=torch.float64)
    per_frame = power_mean(a.expand(-1, 101), b.expand(-1, 101), strengths)
    torch.testing.assert_close(per_frame[:, 37:38], power_mean(a, b, float(strengths[37])), rtol=1e-12, atol=0)
    steps = per_frame.log().diff(dim=1) * ratios.log().sign()
    assert bool((steps >= -1e-12).all())


def test_strength_fades_the_style_into_bands_the_content_leaves_empty():
    """A band the content leaves silent takes on the render's texture at low strength, with the
    render's envelope (the content's floor raised to CONTENT_FLOOR_DB under the render, then the
    power mean: at 0.25 the texture is 18 dB under the render, where the log-magnitude mean left
    it 30 dB under), and the morph is continuous at 0."""
    from gramophone.engine.strength import CONTENT_FLOOR_DB, mean_exponent, morph

    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    content = (0.3 * np.sin(2 * np.pi * 440 * t) + 1e-7 * rng.standard_normal(t.size)).astype(np.float32)[None]
    rendered = (0.1 * rng.standard_normal(t.size)).astype(np.float32)[None]

    def high_band_db(x: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(x[0])) ** 2
        return float(10 * np.log10(spectrum[np.fft.rfftfreq(x.shape[1], 1 / SR) > 5000].mean()))

    full = high_band_db(rendered)
    for strength, under in ((0.25, 18.3), (0.5, 14.5)):
        p, floor = mean_exponent(strength), 10 ** (-CONTENT_FLOOR_DB / 20)
        expected = full + 20 / p * np.log10((1 - strength) * floor ** p + strength)
        assert abs(expected - (full - under)) < 0.1  # the law, worked by hand
        assert abs(high_band_db(morph(content, rendered, strength, SR)) - expected) < 3.0, strength
    # just above 0, no bed of texture appears (the floor fades in): still 60 dB under the render
    assert high_band_db(morph(content, rendered, 1e-4, SR)) < full - 60.0


def test_a_stereo_objective_is_the_gradient_of_its_loss(melody, rain_stats, kernel_model, monkeypatch):
    """The optimiser's objective for two channels returns their mean loss, so its gradient is the
    mean's: a step along it changes the loss as the gradient says (it was the sum's, twice that)."""
    seen = {}

    def capture(objective, x0, iterations, callback=None):
        seen["objective"], seen["x"] = objective, x0.detach().clone()
        return optimise.lbfgs(objective, x0, 1, callback)

    monkeypatch.setattr(sys.modules["gramophone.engine.render"], "lbfgs", capture)
    stereo = np.concatenate([melody[:, :SR], 0.5 * melody[:, :SR]])
    render(stereo, SR, kernel_model, rain_stats, RenderSettings(iterations=1))
    objective, x = seen["objective"], seen["x"]
    f, gradient = objective(x)
    g = gradient()
    h = 1e-3 * float(x.abs().max()) / float(g.abs().max())
    slope = (objective(x + h * g)[0] - objective(x - h * g)[0]) / (2 * h * float(g.square().sum()))
    assert slope == pytest.approx(1.0, rel=0.1)


@pytest.mark.slow
def test_a_render_has_no_holes_quieter_than_the_style_ever_is(kernel_model, monkeypatch):
    """Drums as a drone: the loss scores log1p features, so a bin 60 dB under the drone's
    quietest and a silent one look alike to it, and the optimiser left some bins below zero
    (silence). The render's bins are raised to the style's floor before they are heard:
    measured, 0.02 % of the bins 60 dB under the drone's 5th percentile, against 0.7 % without."""
    from gramophone.engine import synth
    from gramophone.engine.models.kernel import KernelModel

    rate = 44_100  # the model's own: bins 10-372 are 200 Hz - 8 kHz
    drums, drone = synth.percussion(rate, 4.0), synth.bowed_drone(rate, 6.0)
    stats = analyse_style([(drone, rate)], kernel_model)

    def spectrogram(x: np.ndarray) -> np.ndarray:
        return torch.stft(torch.from_numpy(x[0]).float(), 2048, 512, window=torch.hann_window(2048),
                          return_complex=True).abs().numpy()[10:372]

    floor = np.quantile(spectrogram(drone), 0.05, axis=1)[:, None] * 10 ** (-60 / 20)

    def holes() -> float:
        out = render(drums, rate, kernel_model, stats, RenderSettings(match_loudness=False))
        return float((spectrogram(out)[:, 2:-2] < floor).mean())

    assert holes() < 0.002
    monkeypatch.setattr(KernelModel, "style_floor", lambda self, target: None)
    assert holes() > 0.004  # what the test sees without the floor
