"""The command line: renders, the demo, info, and one-line errors without tracebacks."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gramophone.bridge.cli import main
from gramophone.engine.audio_io import read_audio

from helpers import write_wav


@pytest.mark.slow
def test_render_writes_output_and_prints_its_path(tmp_path, melody, rain, capsys):
    content, style = write_wav(tmp_path / "c.wav", melody), write_wav(tmp_path / "s.wav", rain)
    out = tmp_path / "o.wav"
    assert main(["render", str(content), "--style", str(style), "-o", str(out), "--iterations", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    data, _ = read_audio(out)
    assert data.shape == melody.shape


@pytest.mark.slow
def test_two_styles_and_options(tmp_path, melody, rain):
    content, style = write_wav(tmp_path / "c.wav", melody), write_wav(tmp_path / "s.wav", rain)
    args = ["render", str(content), "--style", str(style), "--style", str(content), "-o", str(tmp_path / "o.flac"),
            "--iterations", "2", "--strength", "0.5", "--domain", "spectrogram", "--seed", "3", "--device", "cpu",
            "--peaks", "scale"]
    assert main(args) == 0


@pytest.mark.slow
def test_contour_option_reaches_the_render(tmp_path, melody, rain):
    """``--contour 0`` turns the content-contour step off: a different file, recorded as such."""
    content, style = write_wav(tmp_path / "c.wav", melody), write_wav(tmp_path / "s.wav", rain)
    outs = {}
    for contour in ("0", "0.4"):
        out = tmp_path / f"o{contour}.wav"
        assert main(["render", str(content), "--style", str(style), "-o", str(out), "--iterations", "3",
                     "--contour", contour]) == 0
        outs[contour] = read_audio(out)[0]
        assert json.loads(Path(f"{out}.json").read_text())["settings"]["contour"] == float(contour)
    assert not np.allclose(outs["0"], outs["0.4"])


@pytest.mark.slow
def test_user_errors_are_one_line_without_traceback(tmp_path, melody):
    content = write_wav(tmp_path / "c.wav", melody)
    cases = [["render", str(tmp_path / "missing.wav"), "--style", str(content), "-o", str(tmp_path / "o.wav")],
             ["render", str(content), "--style", str(content), "-o", str(content)],
             ["render", str(content), "--style", str(content), "-o", str(tmp_path / "o.wav"), "--strength", "2"],
             ["render", str(content), "--style", str(content), "-o", str(tmp_path / "o.wav"), "--contour", "1.5"],
             ["render", str(content), "--style", str(content), "-o", str(tmp_path / "o.wav"), "--device", "cuda:7"],
             ["render", str(content), "-o", str(tmp_path / "o.wav")],  # no style: an argparse usage error
             ["render", str(content), "--style", str(content), "-o", str(tmp_path / "o.wav"), "--iterations", "x"]]
    for argv in cases:
        proc = subprocess.run([sys.executable, "-m", "gramophone", *argv], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().startswith("gramophone") and ": error:" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.slow
def test_demo_runs_on_built_in_sounds(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--iterations", "2"]) == 0
    out = capsys.readouterr().out.strip()
    data, sr = read_audio(out)
    assert sr == 44_100 and data.shape[0] == 1 and np.abs(data).max() > 0


def test_info_lists_models(capsys, monkeypatch):
    monkeypatch.delenv("GRAMOPHONE_THREADS")  # the default policy (conftest fixes two threads for renders)
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert "kernel" in text and "random" in text and "device" in text
    assert "threads auto" in text and "waiting: a short spin" in text  # the thread policy in effect
