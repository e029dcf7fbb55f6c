"""Does the render keep the notes? The default's strength sweep against the stock tools.

    .venv/bin/python -m bench.notes                    # every pitched pair, excerpts and whole clips
    .venv/bin/python -m bench.notes --modes excerpt --pairs 'instrument_piano->noise_rain'
    .venv/bin/python -m bench.notes --no-baselines     # the default only (baselines from the cache)

The corpus: every pair of ``bench/recordings/manifest.json`` whose content is pitched (speech,
singing, a melody instrument, a mix: all but the drum loops), judged twice, at the files' own
rates and channel counts: a 3 s excerpt (``excerpt``) and the whole clip up to 12 s from the
excerpt's start (``whole``, at least 8 s where the recording has it). Each output is scored on
four axes that no part of the engine optimises (``gramophone.engine.metrics``): style gain,
content kept (broad-band contour), pitch kept (peak chroma) and, for monophonic content, f0
kept (YIN within a semitone); plus its end bursts and its level against the content's.

Points: the default at strength 0.25, 0.5, 0.75 and 1 (one full render, morphed as ``render``
does), and each baseline of :mod:`bench.baselines` at its four knob points. Strength is a
continuous knob, so "some strength dominates a baseline point" is counted twice: over those four
strengths, and over every strength in steps of 0.05 (``FINE_STRENGTHS``, style, content and pitch
only). The other direction (a baseline point dominating a default point) uses the four. A point dominates
another when it is at least as good on style gain, content kept and pitch kept. Printed: per
pair and mode the rows, then the issue's checks (share of each baseline's points some default
point dominates; pairs where a baseline point dominates a default point; pitch at strength 1;
monotone style; pitch steps; bursts; levels; strength 1 against the paper's 300 iterations). Writes
``bench/out/notes.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace

import numpy as np

from bench.baselines import BASELINES, KNOBS
from bench.common import OUT, machine, save_json
from bench.frontier import PAPER_SCORES, at_strength
from bench.pairs import MANIFEST, RECORDINGS, collected
from gramophone.engine import RenderSettings, analyse_style, get_model, render
from gramophone.engine.audio_io import read_audio
from gramophone.engine.metrics import (content_kept, end_energy_ratio, end_ratio, f0_kept, level_db, pitch_kept,
                                       style_gain)

STRENGTHS = (0.25, 0.5, 0.75, 1.0)
#: every strength a musician could set, in steps of 0.05, for "some strength dominates"
FINE_STRENGTHS = tuple(round(0.05 * i, 2) for i in range(1, 21))
MODES = {"excerpt": 3.0, "whole": 12.0}
PITCHED = ("speech", "singing", "instrument", "mix")
AXES = ("style", "content", "pitch")
#: The ends judged over other spans than the issue's 50 ms, which the engine holds (engine.ends):
#: what that step does not target
OTHER_END_MS = (20, 100)
BASELINE_CACHE = OUT / "notes_baselines.json"


@dataclass(frozen=True)
class Case:
    name: str
    mode: str
    content: np.ndarray
    rate: int
    style: np.ndarray
    style_rate: int
    monophonic: bool


def cases(modes: list[str], names: list[str] | None) -> list[Case]:
    """The pitched pairs, cut as each mode says, at their own rates and channels."""
    manifest = json.loads(MANIFEST.read_text())
    clips = {c["id"]: c for c in manifest["clips"]}
    out = []
    for pair in manifest["pairs"]:
        c, s = clips[pair["content"]], clips[pair["style"]]
        name = f"{c['id']}->{s['id']}"
        if c["category"] not in PITCHED or (names and name not in names):
            continue
        paths = [collected(c["id"]), collected(s["id"])]
        if not all(paths):
            print(f"note: {name} not collected into {RECORDINGS} (python -m bench.recordings.collect)")
            continue
        content, rate = read_audio(paths[0])
        style, style_rate = read_audio(paths[1])
        for mode in modes:
            seconds = MODES[mode]
            start = c.get("start_s", 0.0)
            if mode == "whole" and content.shape[1] / rate - start < 8.0:
                start = max(0.0, content.shape[1] / rate - seconds)
            a = int(start * rate)
            piece = np.ascontiguousarray(content[:, a:a + int(seconds * rate)])
            if mode == "whole" and piece.shape[1] < 8 * rate:
                continue  # the recording is shorter than 8 s: judged on its excerpt only
            sa = int(s.get("start_s", 0.0) * style_rate)
            style_piece = np.ascontiguousarray(style[:, sa:sa + int(2 * seconds * style_rate)])
            out.append(Case(name, mode, piece, rate, style_piece, style_rate, bool(c.get("monophonic"))))
    return out


def score(out: np.ndarray, case: Case) -> dict:
    """The three dominance axes, f0 kept (monophonic content), the ends' peak against what the
    content allows (a render's ends may be no louder than the content's own, or than the rest
    where the content's are quieter) and the level against the content's."""
    c, rate = case.content, case.rate
    return dict(**axes(out, case), f0=f0_kept(out, c, rate) if case.monophonic else None,
                burst_ratio=end_ratio(out, rate) / max(end_ratio(c, rate), 1.0), level_db=level_db(out, c),
                **{f"burst_ratio_{ms}ms": end_ratio(out, rate, ms / 1e3) / max(end_ratio(c, rate, ms / 1e3), 1.0)
                   for ms in OTHER_END_MS},
                energy_ratio=end_energy_ratio(out, rate) / max(end_energy_ratio(c, rate), 1.0))


def axes(out: np.ndarray, case: Case) -> dict:
    """Style gain, content kept and pitch kept only (the dominance axes)."""
    c, rate = case.content, case.rate
    return dict(style=style_gain(out, case.style, c, rate, case.style_rate)["style"],
                content=content_kept(out, c, rate), pitch=pitch_kept(out, c, rate))


def dominates(a: dict, b: dict) -> bool:
    return all(a[k] >= b[k] for k in AXES)


def baseline_points(case: Case, refresh: bool) -> dict[str, list[dict]]:
    """Each baseline's four points, from the cache unless ``refresh`` (they do not depend on the engine)."""
    cache = json.loads(BASELINE_CACHE.read_text()) if BASELINE_CACHE.exists() else {}
    key = f"{case.name}|{case.mode}"
    if refresh or key not in cache:
        cache[key] = {name: [dict(knob=k, **score(fn(case.content, case.rate, case.style, case.style_rate, k), case))
                             for k in KNOBS[name]] for name, fn in BASELINES.items()}
        fresh = json.loads(BASELINE_CACHE.read_text()) if BASELINE_CACHE.exists() else {}
        fresh[key] = cache[key]
        BASELINE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE_CACHE.write_text(json.dumps(fresh, indent=1))
    return cache[key]


def run_case(case: Case, settings: RenderSettings, baselines: bool, model_name: str) -> dict:
    model = get_model(model_name)
    stats = analyse_style([(case.style, case.style_rate)], model)
    t = time.perf_counter()
    full = render(case.content, case.rate, model, stats, replace(settings, match_loudness=False))
    seconds = time.perf_counter() - t
    rows = [dict(strength=s, **score(at_strength(case.content, full, s, case.rate), case)) for s in STRENGTHS]
    fine = [dict(strength=s, **axes(at_strength(case.content, full, s, case.rate), case)) for s in FINE_STRENGTHS]
    return dict(pair=case.name, mode=case.mode, rate=case.rate, channels=case.content.shape[0],
                seconds_audio=case.content.shape[1] / case.rate, render_s=seconds, default=rows, fine=fine,
                baselines=baseline_points(case, refresh=baselines))


def checks(result: dict) -> dict:
    rows = result["default"]
    out = {"pitch_at_1": rows[-1]["pitch"], "style_at_1": rows[-1]["style"], "content_at_1": rows[-1]["content"],
           "monotone": all(b["style"] > a["style"] for a, b in zip(rows, rows[1:])),
           "pitch_steps_ok": all(a["pitch"] - b["pitch"] <= 0.15 for a, b in zip(rows, rows[1:])),
           "bursts": sum(r["burst_ratio"] > 1 for r in rows), "worst_burst": max(r["burst_ratio"] for r in rows),
           "worst_level_db": min(r["level_db"] for r in rows)}
    for name, points in result["baselines"].items():
        out[f"{name}_dominated"] = sum(any(dominates(r, p) for r in rows) for p in points)
        out[f"{name}_dominated_fine"] = sum(any(dominates(r, p) for r in result.get("fine", rows)) for p in points)
        out[f"{name}_beats_default"] = any(dominates(p, r) and p != r for p in points for r in rows)
    return out


def report(result: dict) -> None:
    print(f"{result['pair']} [{result['mode']}, {result['rate']} Hz x{result['channels']}, "
          f"{result['seconds_audio']:.1f} s, render {result['render_s']:.1f} s]")
    def fmt(r: dict) -> str:
        f0 = "" if r.get("f0") is None else f"/{r['f0']:.2f}"
        return f"{r['style']:+.2f}/{r['content']:.2f}/{r['pitch']:.2f}{f0}"
    print("  default  " + "  ".join(f"{r['strength']:g}: {fmt(r)}" for r in result["default"]))
    for name, points in result["baselines"].items():
        print(f"  {name:8s} " + "  ".join(f"{p['knob']:g}: {fmt(p)}" for p in points))
    c = checks(result)
    print("  " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in c.items()), flush=True)


def paper_styles() -> dict[str, float]:
    """The paper's style gain after 300 iterations per pair (``bench/frontier.py``'s committed
    scores: 3 s mono excerpts of the same pairs, so the comparison is with this run's excerpts)."""
    scores = json.loads(PAPER_SCORES.read_text()) if PAPER_SCORES.exists() else {}
    return {key.split("@")[0]: sweep["300"]["style"] for key, sweep in scores.items() if "300" in sweep}


def against_paper(results: list[dict]) -> str:
    """The issue's check: pairs whose strength 1 has at least the paper's style gain, and the misses."""
    paper = paper_styles()
    rs = [r for r in results if r["mode"] == "excerpt" and r["pair"] in paper]
    misses = [f"{r['pair']} {r['default'][-1]['style']:.3f} against {paper[r['pair']]:.3f}"
              for r in rs if r["default"][-1]["style"] < paper[r["pair"]]]
    return (f"style at strength 1 at or above the paper's 300 iterations: {len(rs) - len(misses)}/{len(rs)} "
            f"excerpt pairs" + (f" (misses: {'; '.join(misses)})" if misses else ""))


def summary(results: list[dict]) -> None:
    for mode in MODES:
        rs = [r for r in results if r["mode"] == mode]
        if not rs:
            continue
        cs = [checks(r) for r in rs]
        n = len(rs)
        print(f"\n## {mode}: {n} pairs")
        means = {s: {k: np.mean([r["default"][i][k] for r in rs]) for k in AXES}
                 for i, s in enumerate(STRENGTHS)}
        f0s = {s: [r["default"][i]["f0"] for r in rs if r["default"][i]["f0"] is not None] for i, s in enumerate(STRENGTHS)}
        print("| strength | style gain | content kept | pitch kept | f0 kept (monophonic) |\n|---|---|---|---|---|")
        for s in STRENGTHS:
            print(f"| {s:g} | {means[s]['style']:.2f} | {means[s]['content']:.2f} | {means[s]['pitch']:.2f} "
                  f"| {np.nanmean(f0s[s]) if f0s[s] else float('nan'):.2f} |")
        print("\n| baseline | knob | style gain | content kept | pitch kept | points dominated by the default "
              "(strengths .25/.5/.75/1 · any strength in 0.05 steps) | pairs where it dominates a default point "
              "|\n|---|---|---|---|---|---|---|")
        for name in BASELINES:
            for i, k in enumerate(KNOBS[name]):
                m = {a: np.mean([r["baselines"][name][i][a] for r in rs]) for a in AXES}
                print(f"| {name} | {k:g} | {m['style']:.2f} | {m['content']:.2f} | {m['pitch']:.2f} | | |")
            print(f"| {name} | all | | | | {sum(c[f'{name}_dominated'] for c in cs)}/{4 * n} · "
                  f"{sum(c[f'{name}_dominated_fine'] for c in cs)}/{4 * n} "
                  f"| {sum(c[f'{name}_beats_default'] for c in cs)}/{n} |")
        print(f"\nmonotone style {sum(c['monotone'] for c in cs)}/{n}; pitch steps <= 0.15 "
              f"{sum(c['pitch_steps_ok'] for c in cs)}/{n}; renders with end bursts "
              f"{sum(c['bursts'] for c in cs)}/{4 * n} (worst: ends {max(c['worst_burst'] for c in cs):.2f}x "
              f"the allowed peak); renders more than 3 dB from the content's level "
              f"{sum(abs(r['level_db']) > 3 for x in rs for r in x['default'])}/{4 * n} "
              f"(worst {min(c['worst_level_db'] for c in cs):+.1f} dB); mean render time "
              f"{np.mean([r['render_s'] for r in rs]):.1f} s")
        for ms in OTHER_END_MS:
            ratios = [r[f"burst_ratio_{ms}ms"] for x in rs for r in x["default"]]
            print(f"ends judged over {ms} ms (not held by the engine): {sum(v > 1 for v in ratios)}/{len(ratios)} "
                  f"renders over their content's ratio (worst {max(ratios):.2f}x)")
        energy = [r["energy_ratio"] for x in rs for r in x["default"]]
        print(f"ends judged by their energy (RMS of 50 ms over the rest's, against the content's or 1; what "
              f"engine.envelope.hold_end_bands targets): "
              f"{sum(v > 2 ** 0.5 for v in energy)}/{len(energy)} renders 3 dB or more over (worst {max(energy):.2f}x)")
    print(against_paper(results))
    print(f"machine: {machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="*")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--model", default="kernel")
    parser.add_argument("--refresh-baselines", action="store_true", help="re-run the baselines (else cached)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="RenderSettings fields for the default's renders (experiments)")
    parser.add_argument("--out", default="notes.json")
    args = parser.parse_args()
    overrides = {k: type(getattr(RenderSettings(), k))(v) if getattr(RenderSettings(), k) is not None else int(v)
                 for k, v in (item.split("=", 1) for item in args.set)}
    settings = RenderSettings(**overrides)
    results = []
    for case in cases(args.modes, args.pairs):
        results.append(run_case(case, settings, args.refresh_baselines, args.model))
        report(results[-1])
    save_json(args.out, dict(results=results, settings=settings.__dict__, machine=machine()))
    summary(results)


if __name__ == "__main__":
    main()
