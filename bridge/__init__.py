"""Gramophone's edges: the ``gramophone`` command line, the OSC server and the tools around them."""
