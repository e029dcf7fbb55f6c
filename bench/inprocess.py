"""In-process render times of one thread configuration, in a fresh process (OpenMP reads its
wait policy when torch loads, so each configuration needs its own process); ``bench/speed.py``
runs it with each policy's environment.

    python -m bench.inprocess mono44 --repeats 3 [--budget 30] [--counter PATH] [--late SECONDS]

Prints one JSON line: the threads torch used, each render's seconds and, with ``--counter``
(a :class:`bench.busy.Competitor`'s file), how far the competitor counted during each render.
``--late``: a competitor starts that many seconds into each render (a DAW that starts playing
while a render runs) and stops with it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import threading
import time

from gramophone.bridge import threads

threads.prepare_environment()  # before torch is imported

import numpy as np  # noqa: E402

from bench.busy import Competitor, Counter  # noqa: E402
from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth  # noqa: E402

#: name -> (seconds, sample rate, channels) of the benchmark's clips (the plucked melody; stereo:
#: the right channel 20 ms later and 3 dB down), each in the style of 10 s of rain
CLIPS = {"mono44": (10.0, 44_100, 1), "stereo48": (10.0, 48_000, 2), "mono30": (30.0, 44_100, 1)}


def clip(name: str) -> tuple[np.ndarray, int]:
    seconds, sr, channels = CLIPS[name]
    melody = synth.plucked_melody(sr, seconds)[0]
    if channels == 2:
        return np.stack([melody, 0.7 * np.roll(melody, sr // 50)]), sr
    return melody[None], sr


class Late:
    """A competitor that starts ``after`` seconds from now, until :meth:`stop`."""

    def __init__(self, after: float) -> None:
        self._running = contextlib.ExitStack()
        self._timer = threading.Timer(after, lambda: self._running.enter_context(Competitor()))
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()
        self._timer.join()
        self._running.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", choices=sorted(CLIPS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=float("inf"),
                        help="no further repeat once the renders have taken this many seconds")
    parser.add_argument("--counter", help="a competitor's counter file")
    parser.add_argument("--late", type=float, default=None, help="start a competitor this many seconds into each render")
    args = parser.parse_args()
    content, sr = clip(args.clip)
    model = get_model()
    stats = analyse_style([(synth.rain(sr, 10.0), sr)], model)
    counter = Counter(args.counter) if args.counter else None
    used, seconds, counts = [], [], []
    setting = threads.from_env()
    # $BENCH_THREADS_ONCE=1: the threads chosen as each render starts and kept (the policy before
    # renders followed the load), for bench/speed.py's comparison
    follow = (lambda progress, _: progress) if os.environ.get("BENCH_THREADS_ONCE") == "1" else threads.following
    for _ in range(args.repeats):
        used.append(threads.apply(setting))
        late = Late(args.late) if args.late is not None else None
        c0, t0 = counter.count() if counter else 0, time.perf_counter()
        render(content, sr, model, stats, RenderSettings(), follow(lambda f, loss: None, setting))
        seconds.append(time.perf_counter() - t0)
        if late:
            late.stop()
        counts.append(counter.count() - c0 if counter else 0)
        if sum(seconds) > args.budget:
            break
    print(json.dumps(dict(threads=used, seconds=seconds, counts=counts)))


if __name__ == "__main__":
    main()
