"""The public API: ``from gramophone import ...`` gives the documented names, lazily."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gramophone


def test_every_public_name_resolves_and_is_documented():
    for name in gramophone.__all__:
        value = getattr(gramophone, name)
        if name != "__version__":
            assert value.__doc__ and value.__doc__.strip(), f"{name} has no docstring"
    assert set(gramophone.__all__) <= set(dir(gramophone))


def test_import_gramophone_does_not_load_torch():
    code = "import sys, gramophone; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_the_top_level_api_renders(melody, kernel_model, rain_stats):
    from helpers import SR

    out = gramophone.render(melody, SR, gramophone.get_model("kernel"), rain_stats,
                            gramophone.RenderSettings(iterations=2, strength=0.5))
    assert out.shape == melody.shape and np.isfinite(out).all()
    assert issubclass(gramophone.GramophoneError, Exception)
