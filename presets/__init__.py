"""The shipped preset library: ``*.gpreset`` files (package data, read through
:func:`gramophone.engine.preset_store.default_shipped_dir`) and the script that makes them
(``python -m gramophone.presets.make_library``)."""
