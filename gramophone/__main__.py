"""``python -m gramophone`` is the ``gramophone`` command."""
from gramophone.bridge.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
