"""Gramophone: render a clip "in the style of" another sound, from the command line or over OSC.

One import name for everything that installs:

* :mod:`gramophone.engine` — the style-transfer library (pure render, texture models, presets);
* :mod:`gramophone.bridge` — the ``gramophone`` command line and the OSC server;
* :mod:`gramophone.presets` — the shipped preset library (package data);
* :mod:`gramophone.clients` — the Max, Max for Live, SuperCollider and Pure Data clients.

The source tree keeps the design's top-level folders (``engine/``, ``bridge/``, ``presets/``,
``max_patches/``); ``pyproject.toml`` maps them under this package.
"""

__version__ = "0.2.0"
