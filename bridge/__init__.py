"""Gramophone's edges: the ``gramophone`` command line (and, later, the OSC server)."""
