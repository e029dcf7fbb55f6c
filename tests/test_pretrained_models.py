"""vgg19 and soundnet: architectures in code, weights only from a named file, loaded safely;
tests write their own small checkpoints."""
import pickle

import numpy as np
import pytest
import torch

from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth
from gramophone.engine.errors import GramophoneError
from gramophone.engine.models.soundnet import SoundNet8
from gramophone.engine.models.vgg19 import BLOCK_OUTPUTS, _Features

from helpers import write_wav

SR = 22_050
SMALL_VGG = {"n_fft": 256, "hop": 128}


def checkpoint(tmp_path, module, name="w.pt", seed=1):
    torch.manual_seed(seed)
    for m in module.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    path = tmp_path / name
    torch.save(module.state_dict(), path)
    return path


@pytest.mark.parametrize("name,params", [("vgg19", SMALL_VGG), ("soundnet", {})])
def test_weights_are_required_or_explicitly_random(name, params):
    with pytest.raises(GramophoneError, match="needs pretrained weights"):
        get_model(name, **params)
    a, b = get_model(name, weights="random", **params), get_model(name, weights="random", **params)
    assert all(torch.equal(x, y) for x, y in zip(a.net.state_dict().values(), b.net.state_dict().values()))


def test_vgg19_matches_torchvision_layout_and_loads_a_checkpoint(tmp_path):
    net = _Features()
    convs = [k for k in net.state_dict() if k.endswith("weight")]
    assert len(convs) == 16 and convs[0] == "features.0.weight" and convs[-1] == "features.34.weight"
    assert [type(net.features[i]).__name__ for i in BLOCK_OUTPUTS] == ["ReLU"] * 5
    path = checkpoint(tmp_path, net)
    model = get_model("vgg19", weights_path=path, **SMALL_VGG)
    assert torch.equal(model.net.features[0].weight, net.features[0].weight)
    assert len(model.params["weights"]) == 64  # recorded as the file's hash


def test_soundnet_loads_a_checkpoint_and_gives_eight_grams(tmp_path):
    path = checkpoint(tmp_path, SoundNet8())
    model = get_model("soundnet", weights_path=path)
    stats = analyse_style([(synth.rain(SR, 2.0), SR)], model)
    assert sorted(stats) == [f"gram{i}" for i in range(1, 9)] + ["power"]  # and the long-term spectrum
    assert stats["gram1"].shape == (16, 16) and stats["gram8"].shape == (1000, 1000)


def test_npz_weights_work_too(tmp_path):
    net = SoundNet8()
    np.savez(tmp_path / "w.npz", **{k: v.numpy() for k, v in net.state_dict().items()})
    get_model("soundnet", weights_path=tmp_path / "w.npz")


def test_unsafe_or_wrong_weights_are_refused(tmp_path, capfd):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(GramophoneError, match="safely"):
        get_model("soundnet", weights_path=tmp_path / "evil.pt")
    assert "must never run" not in capfd.readouterr().out
    torch.save({"something": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(GramophoneError, match="not a soundnet checkpoint"):
        get_model("soundnet", weights_path=tmp_path / "other.pt")
    state = SoundNet8().state_dict()
    state["conv1.weight"] = torch.zeros(3, 3, 3)
    torch.save(state, tmp_path / "shape.pt")
    with pytest.raises(GramophoneError, match="shape"):
        get_model("soundnet", weights_path=tmp_path / "shape.pt")
    with pytest.raises(GramophoneError, match="no weights file"):
        get_model("soundnet", weights_path=tmp_path / "missing.pt")
    with pytest.raises(GramophoneError, match="takes no weights"):
        get_model("kernel", weights_path=tmp_path / "shape.pt")


@pytest.mark.slow
@pytest.mark.parametrize("name,params,domain", [("vgg19", SMALL_VGG, "spectrogram"), ("soundnet", {}, "waveform")])
def test_pretrained_models_render_and_lower_their_loss(tmp_path, name, params, domain):
    model = get_model(name, weights="random", **params)
    content, style = synth.plucked_melody(SR, 2.0), synth.rain(SR, 2.0)
    stats = analyse_style([(style, SR)], model)
    loss = lambda clip: float(model.loss(model.analysis(torch.from_numpy(clip * (0.1 / np.sqrt(np.mean(clip ** 2)))))[0], stats))  # noqa
    out = render(content, SR, model, stats, RenderSettings(iterations=4, domain=domain))
    assert out.shape == content.shape
    assert loss(out) < loss(content)


@pytest.mark.slow
def test_preset_made_with_weights_needs_the_same_file(tmp_path, rain):
    style = write_wav(tmp_path / "rain.wav", rain)
    weights = checkpoint(tmp_path, SoundNet8())
    other = checkpoint(tmp_path, SoundNet8(), "other.pt", seed=2)
    args = ["--preset-dir", str(tmp_path / "user")]
    assert main(args + ["preset", "create", "net", str(style), "--model", "soundnet", "--weights", str(weights)]) == 0
    content = write_wav(tmp_path / "c.wav", rain[:, ::-1].copy())
    out = str(tmp_path / "o.wav")
    assert main(args + ["render", str(content), "--preset", "net", "-o", out, "--iterations", "1"]) == 2
    assert main(args + ["render", str(content), "--preset", "net", "-o", out, "--iterations", "1",
                        "--weights", str(other)]) == 2
    assert main(args + ["render", str(content), "--preset", "net", "-o", out, "--iterations", "1",
                        "--weights", str(weights)]) == 0
