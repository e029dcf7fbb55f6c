"""Presets: round trips through the command line, every corruption case, names, blending,
equivalence with rendering from the style files, and concurrent creation."""
import io
import json
import pickle
import threading
import zipfile

import numpy as np
import pytest
import torch

from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings, get_model, render
from gramophone.engine import preset_format
from gramophone.engine.preset_store import PresetStore
from gramophone.engine.pipeline import style_from_files
from gramophone.engine.preset_format import PresetError
from gramophone.engine.render import to_analysis_rate

from helpers import SR, write_wav


@pytest.fixture
def store(tmp_path):
    return PresetStore(tmp_path / "user", tmp_path / "shipped")


@pytest.fixture
def style_file(tmp_path, rain):
    return write_wav(tmp_path / "rain.wav", rain)


@pytest.fixture
def saved(store, style_file):
    store.save(preset_format.create("rain", [style_file], get_model("kernel"), "falling water"))
    return store.find("rain").path


def cli(tmp_path, *argv):
    return main(["--preset-dir", str(tmp_path / "user"), *argv])


@pytest.mark.slow
def test_cli_round_trip(tmp_path, style_file, melody, capsys, monkeypatch):
    monkeypatch.setenv("GRAMOPHONE_SHIPPED_PRESETS", str(tmp_path / "shipped"))
    drone = write_wav(tmp_path / "drone.wav", np.roll(melody, 1000))
    assert cli(tmp_path, "preset", "create", "rain", str(style_file), "--description", "wet") == 0
    assert cli(tmp_path, "preset", "create", "tune", str(drone)) == 0
    assert cli(tmp_path, "preset", "blend", "mix", "rain", "tune", "--weight", "0.25") == 0
    capsys.readouterr()
    assert cli(tmp_path, "preset", "list") == 0
    listing = capsys.readouterr().out
    assert all(n in listing for n in ("rain", "tune", "mix")) and "wet" in listing
    assert cli(tmp_path, "preset", "show", "mix") == 0
    shown = capsys.readouterr().out
    for text in ("kernel", "rain.wav", "drone.wav", "22050", "44100", "format 2", "sha256", "MB", "weight 0.25"):
        assert text in shown
    content = write_wav(tmp_path / "c.wav", melody)
    assert cli(tmp_path, "render", str(content), "--preset", "mix", "-o", str(tmp_path / "o.wav"),
               "--iterations", "2") == 0
    assert cli(tmp_path, "render", str(content), "--preset", "mix", "--model", "random", "-o",
               str(tmp_path / "o2.wav")) == 2  # a kernel preset cannot drive another model
    assert "holds kernel statistics" in capsys.readouterr().err
    assert cli(tmp_path, "preset", "delete", "mix") == 0
    assert cli(tmp_path, "preset", "show", "mix") == 2


def test_duplicates_need_force(store, style_file):
    p = preset_format.create("rain", [style_file], get_model("kernel"))
    store.save(p)
    with pytest.raises(PresetError, match="already exists"):
        store.save(p)
    store.save(p, force=True)


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "a\\b", ".", "..", " lead", "x" * 65, "semi;colon"])
def test_bad_names_are_refused(store, style_file, name):
    with pytest.raises(PresetError, match="invalid preset name"):
        preset_format.create(name, [style_file], get_model("kernel"))
    with pytest.raises(PresetError):
        store.find(name)


def rewrite(path, mutate):
    """Rewrite a preset zip with ``mutate(meta, arrays)`` applied."""
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("preset.json"))
        arrays = {n[:-4]: z.read(n) for n in z.namelist() if n.endswith(".npy")}
    mutate(meta, arrays)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("preset.json", json.dumps(meta))
        for k, v in arrays.items():
            z.writestr(f"{k}.npy", v)


def tamper_stats(meta, arrays):
    a = np.load(io.BytesIO(arrays["frames"]))
    a[0, 0] += 1
    buf = io.BytesIO()
    np.save(buf, a)
    arrays["frames"] = buf.getvalue()


CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "renamed audio": lambda p: p.write_bytes(b"RIFF" + bytes(100)),
    "garbage": lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)),
    "foreign version": lambda p: rewrite(p, lambda m, a: m.update(format_version=99)),
    "not a preset zip": lambda p: rewrite(p, lambda m, a: m.update(format="something-else")),
    "unknown model": lambda p: rewrite(p, lambda m, a: m.update(model="wavenet")),
    "missing field": lambda p: rewrite(p, lambda m, a: m.pop("params")),
    "tampered statistics": lambda p: rewrite(p, tamper_stats),
    "missing statistic": lambda p: rewrite(p, lambda m, a: a.pop("weights")),
    "pickled array": lambda p: rewrite(p, lambda m, a: a.update(frames=_pickled())),
}


def _pickled():
    """A hostile statistic: an object array, which only a pickle-enabled load would accept."""
    buf = io.BytesIO()  # a .npy of dtype object is a header followed by a pickle
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    pickle.dump(np.array([{"evil": 1}], dtype=object), buf, protocol=3)
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_presets_give_one_clear_error(store, saved, case):
    CORRUPTIONS[case](saved)
    with pytest.raises(PresetError) as info:
        store.load("rain")
    assert str(info.value) and "\n" not in str(info.value)
    # listing still works and shows the problem instead of crashing
    assert any("unreadable" in e.description or e.name == "rain" for e in store.entries())


def test_model_mismatched_blend_is_refused(store, style_file):
    a = preset_format.create("a", [style_file], get_model("kernel"))
    b = preset_format.create("b", [style_file], get_model("kernel", n_fft=1024))
    with pytest.raises(PresetError, match="same model|share the model"):
        preset_format.blend("c", a, b, 0.5)


@pytest.mark.slow
def test_blend_weights_select_the_parts(style_file, tmp_path, melody):
    model = get_model("kernel")
    a = preset_format.create("a", [style_file], model)
    b = preset_format.create("b", [write_wav(tmp_path / "m.wav", melody)], model)
    x = model.analysis(torch.from_numpy(to_analysis_rate(melody, SR, model)))[0]
    loss = [float(model.loss(x, preset_format.blend("m", a, b, w).stats)) for w in (0.0, 0.5, 1.0)]
    assert loss[0] > loss[1] > loss[2] and loss[2] < 1e-4


@pytest.mark.slow
def test_render_from_preset_equals_render_from_files(store, style_file, melody, rain):
    clip = melody[:, :SR]  # a second: the renders are compared, not judged
    for name, params in (("kernel", {}), ("random", {"filters": 128}), ("auditory", {})):
        model = get_model(name, **params)
        store.save(preset_format.create(name, [style_file], model), force=True)
        loaded = store.load(name)
        direct = render(clip, SR, model, style_from_files([style_file], model), RenderSettings(iterations=3))
        via = render(clip, SR, loaded.build_model(), loaded.stats, RenderSettings(iterations=3))
        np.testing.assert_allclose(via, direct, rtol=0, atol=1e-6)


def test_user_preset_shadows_shipped_and_shipped_is_read_only(tmp_path, style_file):
    shipped_store = PresetStore(tmp_path / "shipped", tmp_path / "none")
    shipped_store.save(preset_format.create("rain", [style_file], get_model("kernel"), "shipped one"))
    store = PresetStore(tmp_path / "user", tmp_path / "shipped")
    assert store.find("rain").origin == "shipped"
    with pytest.raises(PresetError, match="shipped"):
        store.delete("rain")
    store.save(preset_format.create("rain", [style_file], get_model("kernel"), "mine"))
    entries = [e for e in store.entries() if e.name == "rain"]
    assert [(e.origin, e.shadowed) for e in entries] == [("user", False), ("shipped", True)]
    assert store.load("rain").description == "mine"


def test_concurrent_creation_corrupts_neither(store, style_file, tmp_path, melody):
    other = write_wav(tmp_path / "m.wav", melody)
    errors = []

    def make(name, f):
        try:
            for _ in range(3):
                store.save(preset_format.create(name, [f], get_model("kernel")), force=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=a) for a in (("one", style_file), ("two", other))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    assert store.load("one").sources[0]["file"] == "rain.wav"
    assert store.load("two").sources[0]["file"] == "m.wav"
    assert sorted(p.name for p in store.user_dir.iterdir()) == ["one.gpreset", "two.gpreset"]


def test_format_1_presets_load_with_the_parameters_they_were_made_with(tmp_path, style_file):
    """A version-1 preset (before ``gain`` existed) still loads, and its model is the one it was
    made with (gain 1), not the new default."""
    model = get_model("kernel", sample_rate=22_050, hop=512, gain=1.0)
    path = preset_format.save(preset_format.create("old", [style_file], model), tmp_path / "old.gpreset")

    def downgrade(meta, arrays):
        meta["format_version"] = 1
        del meta["params"]["gain"]

    rewrite(path, downgrade)
    old = preset_format.load(path)
    assert old.params["gain"] == 1.0 and old.build_model().params == model.params
    assert get_model("kernel").params["gain"] != 1.0
