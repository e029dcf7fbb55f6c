"""The host clients (package data): Max and Max for Live patches, the SuperCollider client and the
Pure Data patch, with the scripts that generate the Max and Pd files. ``gramophone clients``
prints where they are installed or copies them to a folder the host can see."""
