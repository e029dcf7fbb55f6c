"""Audio I/O: formats, rates, atomic writes, resampling, loudness and the peak ceiling."""
import os

import numpy as np
import pytest

from gramophone.engine.audio_io import read_audio, write_audio
from gramophone.engine.loudness import MAX_LIMITING_DB, MAX_QUIETER_DB, PEAK_CEILING, limit_peaks, match_loudness, rms
from gramophone.engine.resampling import resample, round_trip_response
from gramophone.engine.errors import GramophoneError


@pytest.mark.parametrize("ext", [".wav", ".flac", ".aiff", ".ogg", ".mp3"])
def test_every_format_round_trips(tmp_path, ext):
    sr = 44_100
    t = np.arange(sr) / sr
    clip = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)]).astype(np.float32)
    path = write_audio(tmp_path / f"x{ext}", clip, sr)
    back, back_sr = read_audio(path)
    assert back_sr == sr and back.shape[0] == 2
    assert abs(back.shape[1] - sr) < 0.1 * sr  # lossy codecs may pad a little
    assert rms(back) == pytest.approx(rms(clip), rel=0.1)
    assert [p.name for p in tmp_path.iterdir()] == [f"x{ext}"]  # no temporary left behind


def test_wav_is_float32_and_exact(tmp_path):
    clip = np.random.default_rng(0).uniform(-0.9, 0.9, (1, 1000)).astype(np.float32)
    back, _ = read_audio(write_audio(tmp_path / "x.wav", clip, 48_000))
    assert np.array_equal(back, clip)


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.wav"
    target.write_bytes(b"previous render")
    import soundfile

    def broken(*args, **kwargs):
        with open(args[0], "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(soundfile, "SoundFile", broken)  # what write_audio's encoder opens
    with pytest.raises(GramophoneError, match="disk full"):
        write_audio(target, np.zeros((1, 100), np.float32), 44_100)
    assert target.read_bytes() == b"previous render"
    assert sorted(os.listdir(tmp_path)) == ["out.wav"]


def test_write_refuses_non_audio_extension(tmp_path):
    with pytest.raises(GramophoneError, match="must end in"):
        write_audio(tmp_path / "x.txt", np.zeros((1, 10), np.float32), 44_100)


@pytest.mark.parametrize("src,dst,n", [(44_100, 22_050, 44_101), (8_000, 22_050, 1), (192_000, 22_050, 19_200),
                                       (22_050, 48_000, 7)])
def test_resample_gives_exact_lengths(src, dst, n):
    x = np.random.default_rng(0).standard_normal((2, n)).astype(np.float32)
    assert resample(x, src, dst).shape == (2, max(1, round(n * dst / src)))
    assert resample(x, src, dst, length=123).shape == (2, 123)


def test_resample_keeps_a_sine():
    t = np.arange(44_100) / 44_100
    y = resample(np.sin(2 * np.pi * 1000 * t)[None].astype(np.float32), 44_100, 22_050)
    ref = np.sin(2 * np.pi * 1000 * np.arange(22_050) / 22_050)
    assert np.abs(y[0, 100:-100] - ref[100:-100]).max() < 0.01


@pytest.mark.parametrize("rate", [32_000, 44_100, 48_000, 96_000])
def test_resampling_round_trip_gives_the_signal_back(rate):
    """Content goes to the analysis rate and a render's change comes back: both legs must line up
    to a fraction of a sample, or content + change leaves a residue of the content (48 kHz was 70 %)."""
    n = rate
    spectrum = np.fft.rfft(np.random.default_rng(0).standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1 / rate) > 8_000] = 0
    x = np.fft.irfft(spectrum, n=n)[None].astype(np.float32)
    back = resample(resample(x, rate, 22_050), 22_050, rate, n)
    inner = slice(1000, -1000)
    assert rms(back[:, inner] - x[:, inner]) < 0.01 * rms(x)


def test_round_trip_response_predicts_the_round_trip():
    rng = np.random.default_rng(2)
    change = rng.standard_normal((1, 22_050)).astype(np.float32)
    actual = resample(resample(change, 22_050, 44_100), 44_100, 22_050, change.shape[1])
    h = round_trip_response(44_100, 22_050)
    predicted = np.real(np.fft.ifft(np.fft.fft(change[0]) * np.fft.fft(np.roll(np.pad(h, (0, 22_050 - len(h))),
                                                                               -(len(h) // 2)))))
    inner = slice(1000, -1000)
    assert rms(actual[0, inner] - predicted[inner]) < 0.01 * rms(change)
    assert rms(actual[0, inner] - change[0, inner]) > 0.05 * rms(change)  # and the loss is real


def test_loudness_is_matched_without_clipping():
    rng = np.random.default_rng(0)
    reference = (0.2 * rng.standard_normal((2, 44_100))).clip(-1, 1).astype(np.float32)
    spiky = (0.05 * rng.standard_normal((2, 44_100))).astype(np.float32)
    spiky[:, ::10_000] = 0.35  # the gain to match loudness takes these drops 3 dB over the ceiling
    out = match_loudness(spiky, reference, 44_100)
    assert np.abs(out).max() <= PEAK_CEILING
    assert rms(out) == pytest.approx(rms(reference), rel=0.05)


def test_loudness_match_limits_at_most_the_budget_then_turns_the_clip_down():
    """Drops 9x above the body would need 4.6 dB of limiting to match: the limiter takes
    MAX_LIMITING_DB and the clip comes out quieter instead of pumping."""
    rng = np.random.default_rng(0)
    reference = (0.2 * rng.standard_normal((2, 44_100))).clip(-1, 1).astype(np.float32)
    spiky = (0.1 * rng.standard_normal((2, 44_100))).astype(np.float32)
    spiky[:, ::10_000] = 0.9 * float(np.abs(spiky).max()) * 2.0
    out = match_loudness(spiky, reference, 44_100)
    assert np.abs(out).max() <= PEAK_CEILING
    allowed = rms(spiky) * 10 ** (MAX_LIMITING_DB / 20) * PEAK_CEILING / float(np.abs(spiky).max())
    assert rms(out) == pytest.approx(allowed, rel=0.05) and rms(out) < rms(reference)
    assert rms(out) >= rms(reference) * 10 ** (-MAX_QUIETER_DB / 20) * 0.99


def test_loudness_match_comes_out_at_most_max_quieter_db_under():
    """Drops 30x above the body would need 23 dB of limiting to match: the clip is turned down by
    MAX_QUIETER_DB and the limiter takes the rest, so it lands within 3 dB of its reference."""
    rng = np.random.default_rng(0)
    reference = (0.2 * rng.standard_normal((2, 44_100))).clip(-1, 1).astype(np.float32)
    spiky = (0.01 * rng.standard_normal((2, 44_100))).astype(np.float32)
    spiky[:, ::10_000] = 0.3
    out = match_loudness(spiky, reference, 44_100)
    assert np.abs(out).max() <= PEAK_CEILING
    assert rms(out) == pytest.approx(rms(reference) * 10 ** (-MAX_QUIETER_DB / 20), rel=0.05)


def test_loudness_match_limits_peaks_even_when_the_level_is_already_right():
    rng = np.random.default_rng(1)
    loud = (0.2 * rng.standard_normal((1, 44_100))).astype(np.float32)
    loud[0, 1000] = 1.3  # 2.4 dB over the ceiling: within the limiter's budget
    out = match_loudness(loud, loud, 44_100)
    assert np.abs(out).max() <= PEAK_CEILING
    assert rms(out) == pytest.approx(rms(loud), rel=0.02)


def test_loudness_match_without_limiting_turns_the_whole_clip_down():
    rng = np.random.default_rng(0)
    reference = (0.2 * rng.standard_normal((2, 44_100))).clip(-1, 1).astype(np.float32)
    spiky = (0.01 * rng.standard_normal((2, 44_100))).astype(np.float32)
    spiky[:, ::10_000] = 0.3
    out = match_loudness(spiky, reference, 44_100, limit=False)
    assert np.abs(out).max() == pytest.approx(PEAK_CEILING, rel=1e-5)
    np.testing.assert_allclose(out, spiky * (out[0, 0] / spiky[0, 0]), rtol=1e-5, atol=1e-7)  # one gain: shape kept
    assert rms(out) < rms(reference)
    quiet = 0.5 * reference
    assert rms(match_loudness(quiet, reference, 44_100, limit=False)) == pytest.approx(rms(reference), rel=1e-4)


def test_limiter_leaves_quiet_audio_alone():
    x = np.full((1, 1000), 0.5, np.float32)
    assert np.array_equal(limit_peaks(x, 44_100), x)
