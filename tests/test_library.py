"""The shipped preset library: enough distinct presets, within size, reproducible."""
from pathlib import Path

import numpy as np
import pytest
import torch

from gramophone.engine import preset_format
from gramophone.engine.preset_store import PresetStore, default_shipped_dir


@pytest.mark.slow
def test_library_has_six_or_more_distinct_loadable_presets():
    store = PresetStore(Path("/nonexistent-user-dir"), default_shipped_dir())
    entries = [e for e in store.entries() if e.origin == "shipped"]
    assert len(entries) >= 6
    loaded = {e.name: store.load(e.name) for e in entries}
    sizes = [e.path.stat().st_size for e in entries]
    assert max(sizes) <= 16e6 and sum(sizes) <= 30e6
    model = next(iter(loaded.values())).build_model()
    # each preset's own frames are much closer to its statistics than to any other preset's
    for name, p in loaded.items():
        frames = p.stats["frames"][:, : int(p.stats["weights"].gt(0).sum()) + model.min_frames - 1]
        losses = {other: float(model.loss(frames, q.stats)) for other, q in loaded.items()}
        own = losses.pop(name)
        assert own < 0.05 and own < 0.5 * min(losses.values()), (name, own, losses)
        assert p.description and p.sources[0]["licence"].startswith("GPL")


@pytest.mark.slow
def test_library_regenerates_reproducibly(tmp_path, monkeypatch):
    import gramophone.presets.make_library as make  # the script in presets/

    monkeypatch.setattr(make, "HERE", tmp_path)
    monkeypatch.setattr(make, "LIBRARY", {"rain": make.LIBRARY["rain"]})
    make.main()
    fresh, shipped = preset_format.load(tmp_path / "rain.gpreset"), preset_format.load(default_shipped_dir() / "rain.gpreset")
    assert fresh.params == shipped.params
    for key in shipped.stats:
        torch.testing.assert_close(fresh.stats[key], shipped.stats[key], rtol=1e-4, atol=1e-4)
    assert np.isclose(float(fresh.stats["self_term"][0]), float(shipped.stats["self_term"][0]), rtol=1e-4)
