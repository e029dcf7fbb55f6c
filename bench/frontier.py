"""Style-vs-content frontier: every model's strength sweep against the paper's iteration sweep.

    .venv/bin/python -m bench.frontier                          # every pair, kernel model
    .venv/bin/python -m bench.frontier --models kernel auditory --pairs speech-a11->rain
    .venv/bin/python -m bench.frontier --list                   # the pairs

Per content/style pair (real recordings from ``bench/recordings`` at their own rates, collected
with ``python -m bench.recordings.collect``, plus the synthesised pairs), the paper's
configuration (``bench/paper.py``) after 10, 30, 100 and 300 L-BFGS iterations, and each model at
strength 0.25, 0.5, 0.75 and 1 (one full render per model and pair, morphed to each strength
exactly as ``render`` does), and the stock tools of :mod:`bench.baselines` (wet/dry mix, Match
EQ, vocoder, NMF musaicing, each at its four knob points) are judged by the model-independent
measures of ``gramophone.engine.metrics``: style gain (0 = the content's texture, 1 = the
style's), content kept, and pitch kept (peak chroma; the paper's points where its audio is
cached in ``bench/out/frontier/paper/``, since its committed scores predate the measure). Content and style are mixed to mono; the content is a 3 s excerpt, the style up
to 6 s. The paper's scores are kept in ``bench/frontier_paper.json`` (its renders take minutes;
the audio is cached in ``bench/out/frontier/paper/``).

Checks printed per pair (the targets of issue #11): the default's strength 1 dominates the
paper's 300 iterations (at least as much style and as much content); the share of the paper's
points dominated by some strength; style gain rising and content kept not rising with strength;
for 44.1/48 kHz clips whose style has real content above 11 kHz, the output's 11-20 kHz level
(relative to 1-4 kHz) within 3 dB of the style's at strength 1; and the share of each baseline's
points that some strength dominates on all three axes (style, content, pitch). Writes a PNG per
pair (style against content kept, each point coloured by its pitch kept) and
``bench/out/frontier.json``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from bench.baselines import BASELINES, KNOBS
from bench.common import OUT, machine, save_json
from bench.paper import paper_sweep
from bench.pairs import all_pairs
from gramophone.engine import RenderSettings, analyse_style, get_model, render
from gramophone.engine.metrics import content_kept, high_band_level, pitch_kept, style_gain
from gramophone.engine.models import MODELS
from gramophone.engine.models.weights import PretrainedMixin
from gramophone.engine.render import finish

BUDGETS = (10, 30, 100, 300)
STRENGTHS = (0.25, 0.5, 0.75, 1.0)
CACHE = OUT / "frontier" / "paper"
#: The paper's scores per pair (committed: its sweeps take minutes per pair on 2 cores), keyed by
#: pair and a hash of the excerpts, so a changed excerpt is re-run rather than misread.
PAPER_SCORES = Path(__file__).parent / "frontier_paper.json"
#: styles with less than this above 11 kHz (relative to 1-4 kHz) have nothing there to reach
HF_STYLE_MIN_DB = -30.0


def judge(out: np.ndarray, content: np.ndarray, style: np.ndarray, rate: int, style_rate: int) -> dict:
    gains = style_gain(out, style, content, rate, style_rate)
    return dict(style=gains["style"], groups={k: v for k, v in gains.items() if k != "style"},
                content=content_kept(out, content, rate), pitch=pitch_kept(out, content, rate),
                hf_db=high_band_level(out, rate))


def excerpt_key(name: str, content: np.ndarray, style: np.ndarray) -> str:
    digest = hashlib.sha256(content.tobytes() + style.tobytes()).hexdigest()[:16]
    return f"{name}@{digest}"


def paper_scores(name: str, content, rate, style, style_rate, run: bool = True) -> dict[int, dict] | None:
    """The paper's sweep judged, from the committed scores or by running it (then recorded);
    None when it is not recorded and ``run`` is false."""
    key = excerpt_key(name, content, style)
    known = json.loads(PAPER_SCORES.read_text()) if PAPER_SCORES.exists() else {}
    if key not in known and not run:
        return None
    if key not in known:
        outs = paper_points(name, content, rate, style, style_rate)
        scores = {str(b): judge(o, content, style, rate, style_rate) for b, o in outs.items()}
        # re-read just before writing: another sweep (e.g. a second process) may have added pairs
        known = json.loads(PAPER_SCORES.read_text()) if PAPER_SCORES.exists() else {}
        known[key] = scores
        PAPER_SCORES.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return {int(b): v for b, v in known[key].items()}


def paper_pitch(name: str, content: np.ndarray, rate: int, paper: dict[int, dict]) -> None:
    """Fill in the paper's pitch kept from its cached audio, where its scores lack it and the audio
    is here (``bench/out/frontier/paper/``); else it stays unknown (None)."""
    if all("pitch" in v for v in paper.values()):
        return
    path = CACHE / f"{name.replace('>', '')}.npz"
    data = np.load(path) if path.exists() else None
    usable = data is not None and data["content"].shape == content.shape and np.array_equal(data["content"], content)
    for b, v in paper.items():
        v.setdefault("pitch", pitch_kept(data[f"it{b}"], content, rate) if usable else None)


def baseline_points(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int) -> dict[str, list[dict]]:
    """Each stock tool of :mod:`bench.baselines` at its four knob points, judged like the models."""
    return {name: [dict(knob=k, **judge(fn(content, rate, style, style_rate, k), content, style, rate, style_rate))
                   for k in KNOBS[name]] for name, fn in BASELINES.items()}


def paper_points(name: str, content, rate, style, style_rate) -> dict[int, np.ndarray]:
    path = CACHE / f"{name.replace('>', '')}.npz"
    if path.exists():
        data = np.load(path)
        if data["content"].shape == content.shape and np.array_equal(data["content"], content):
            return {b: data[f"it{b}"] for b in BUDGETS}
    t = time.perf_counter()
    outs = paper_sweep(content, rate, style, style_rate, BUDGETS)
    print(f"  paper sweep for {name}: {time.perf_counter() - t:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, content=content, **{f"it{b}": o for b, o in outs.items()})
    return outs


def at_strength(content: np.ndarray, full: np.ndarray, strength: float, rate: int) -> np.ndarray:
    """A render at ``strength`` from the full render before its loudness match: the morph, the
    loudness match and the ends held, by the engine's own :func:`gramophone.engine.render.finish`."""
    return finish(content, full, RenderSettings(strength=strength), rate)


def dominates(a: dict, b: dict, slack: float = 0.0) -> bool:
    """``a`` has at least as much style and as much content as ``b``."""
    return a["style"] >= b["style"] - slack and a["content"] >= b["content"] - slack


def dominates_all_axes(a: dict, b: dict) -> bool:
    """``a`` has at least as much style, content and pitch kept as ``b`` (pitch unknown: not compared)."""
    pitch = a.get("pitch") is None or b.get("pitch") is None or a["pitch"] >= b["pitch"]
    return dominates(a, b) and pitch


def plot(name: str, paper: dict[int, dict], models: dict[str, list[dict]], path: Path,
         baselines: dict[str, list[dict]] | None = None) -> None:
    """Style gain against content kept; each point's colour is its pitch kept (grey: unknown)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
    colour = dict(cmap="viridis", vmin=0.0, vmax=1.0, edgecolors="black", linewidths=0.5, zorder=3)

    def points(rows: list[dict], marker: str, line: str, label: str, tags: list[str]) -> None:
        xs, ys = [r["content"] for r in rows], [r["style"] for r in rows]
        ax.plot(xs, ys, line, marker=marker, color="grey", markerfacecolor="white", alpha=0.8, label=label, zorder=2)
        known = [r for r in rows if r.get("pitch") is not None]
        if known:
            ax.scatter([r["content"] for r in known], [r["style"] for r in known],
                       c=[r["pitch"] for r in known], marker=marker, s=40, **colour)
        unknown = [r for r in rows if r.get("pitch") is None]
        if unknown:
            ax.scatter([r["content"] for r in unknown], [r["style"] for r in unknown], marker=marker, s=40,
                       color="lightgrey", edgecolors="black", linewidths=0.5, zorder=3)
        for tag, x, y in zip(tags, xs, ys):
            ax.annotate(tag, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=6, color="dimgrey")

    if paper:
        points([paper[b] for b in BUDGETS], "s", "--", "paper (10/30/100/300 it.)", [str(b) for b in BUDGETS])
    for tool, marker in zip(baselines or {}, "vP^D"):
        rows = (baselines or {})[tool]
        knobs = "/".join(f"{r['knob']:g}" for r in rows)
        points(rows, marker, ":", f"{tool} ({knobs})", [""] * len(rows))
    for model, rows in models.items():
        points(rows, "o", "-", f"{model} (strength .25-1)", [f"{r['strength']:g}" for r in rows])
    mappable = plt.cm.ScalarMappable(cmap="viridis", norm=plt.Normalize(0, 1))
    fig.colorbar(mappable, ax=ax, label="pitch kept (peak chroma)")
    ax.set_xlabel("content kept (broad-band contour correlation)")
    ax.set_ylabel("style gain (0 content, 1 style)")
    ax.set_title(name, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["kernel"])
    parser.add_argument("--pairs", nargs="*", help="pair names (default: all)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--no-paper", action="store_true",
                        help="do not run missing paper sweeps: judge the models alone on those pairs")
    parser.add_argument("--paper-only", action="store_true", help="only compute (and cache) the paper sweeps")
    parser.add_argument("--no-baselines", action="store_true", help="leave out the stock tools (bench.baselines)")
    parser.add_argument("--random-weights", action="store_true",
                        help="vgg19/soundnet with seeded random weights (no pretrained file is shipped)")
    args = parser.parse_args()

    pairs = all_pairs(args.seconds)
    if args.list:
        for p in pairs:
            print(f"{p.name}: {p.content_rate} Hz <- {p.style_rate} Hz  {p.description}")
        return
    if args.pairs:
        pairs = [p for p in pairs if p.name in args.pairs]
    (OUT / "frontier").mkdir(parents=True, exist_ok=True)
    results = []
    for pair in pairs:
        c, s, rate, srate = pair.content, pair.style, pair.content_rate, pair.style_rate
        print(f"{pair.name} ({rate} Hz, style {srate} Hz)", flush=True)
        paper = paper_scores(pair.name, c, rate, s, srate, run=not args.no_paper)
        if args.paper_only:
            continue
        if paper:
            paper_pitch(pair.name, c, rate, paper)
        baselines = None if args.no_baselines else baseline_points(c, rate, s, srate)
        style_hf = high_band_level(s, srate)
        models = {}
        for name in args.models:
            model = get_model(name, **({"weights": "random"} if args.random_weights and issubclass(MODELS[name], PretrainedMixin) else {}))
            stats = analyse_style([(s, srate)], model)
            t = time.perf_counter()
            full = render(c, rate, model, stats, RenderSettings(match_loudness=False))
            seconds = time.perf_counter() - t
            # what render(strength=s) returns, from the one full render (tests/test_render.py checks it)
            rows = [dict(strength=k, seconds=seconds, **judge(at_strength(c, full, k, rate), c, s, rate, srate))
                    for k in STRENGTHS]
            models[name] = rows
        plot(pair.name, paper or {}, models, OUT / "frontier" / f"{pair.name.replace('>', '')}.png", baselines)
        results.append(dict(pair=pair.name, rate=rate, style_rate=srate, style_hf_db=style_hf,
                            content_hf_db=high_band_level(c, rate), paper=paper, models=models,
                            baselines=baselines))
        report(results[-1])
    save_json("frontier.json", dict(results=results, machine=machine()))
    summary(results, args.models)


def checks(result: dict, model: str) -> dict:
    """The issue's targets for one pair; those against the paper are None without its sweep."""
    rows, paper = result["models"][model], result["paper"]
    full = rows[-1]
    styles, contents = [r["style"] for r in rows], [r["content"] for r in rows]
    hf_applies = result["rate"] >= 44_100 and result["style_rate"] >= 44_100 and result["style_hf_db"] > HF_STYLE_MIN_DB
    return dict(
        beats_300=dominates(full, paper[300]) if paper else None,
        dominated=sum(any(dominates(r, p) for r in rows) for p in paper.values()) if paper else None,
        monotone=all(b > a for a, b in zip(styles, styles[1:])),
        content_falls=all(b <= a + 0.01 for a, b in zip(contents, contents[1:])),
        half_keeps=rows[STRENGTHS.index(0.5)]["content"] >= 0.5,
        hf_gap=(full["hf_db"] - result["style_hf_db"]) if hf_applies else None,
        # per stock tool: its points some strength dominates on style, content and pitch kept
        baselines_dominated={tool: sum(any(dominates_all_axes(r, p) for r in rows) for p in points)
                             for tool, points in (result.get("baselines") or {}).items()})


def _cell(value, fmt: str = "{}") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt.format(value)


def _point(r: dict) -> str:
    """style / content / pitch kept, as the tables show them."""
    return f"{r['style']:+.2f} / {r['content']:.2f} / {_cell(r.get('pitch'), '{:.2f}')}"


def report(result: dict) -> None:
    p = result["paper"]
    if p:
        print("  paper    " + "  ".join(f"{b}: {_point(p[b])}" for b in BUDGETS))
    for tool, rows in (result.get("baselines") or {}).items():
        print(f"  {tool:8s} " + "  ".join(f"{r['knob']:g}: {_point(r)}" for r in rows))
    for model, rows in result["models"].items():
        c = checks(result, model)
        print(f"  {model:8s} " + "  ".join(f"{r['strength']:g}: {_point(r)}" for r in rows)
              + f"  | beats 300: {_cell(c['beats_300'])}, dominated {_cell(c['dominated'])}/4, "
              + f"monotone {_cell(c['monotone'])}, hf gap {_cell(c['hf_gap'], '{:+.1f}')} dB, "
              + "baselines dominated " + ", ".join(f"{t} {n}/4" for t, n in c["baselines_dominated"].items())
              + f", {rows[-1]['seconds']:.1f} s", flush=True)


def summary(results: list[dict], models: list[str]) -> None:
    """A markdown table per model (for bench/RESULTS.md) and the totals against the targets."""
    for m in models:
        print(f"\n{m}: style gain / content kept / pitch kept at strength 0.25, 0.5, 0.75, 1 "
              "(paper 300 it. for reference)\n")
        print("| pair | rate | paper 300 | s=0.25 | s=0.5 | s=0.75 | s=1 | beats 300 | paper points dominated "
              "| monotone | HF gap dB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            c, p = checks(r, m), r["paper"]
            cells = " | ".join(_point(x) for x in r["models"][m])
            ref = _point(p[300]) if p else "-"
            print(f"| {r['pair']} | {r['rate'] // 1000} k | {ref} | {cells} | {_cell(c['beats_300'])} "
                  f"| {_cell(c['dominated'], '{}/4')} | {_cell(c['monotone'])} | {_cell(c['hf_gap'], '{:+.1f}')} |")
        cs = [checks(r, m) for r in results]
        judged = [c for c in cs if c["beats_300"] is not None]
        gaps = [c["hf_gap"] for c in cs if c["hf_gap"] is not None]
        print(f"\n{m}: monotone on {sum(c['monotone'] for c in cs)}/{len(cs)} pairs; content kept at 0.5 >= 0.5 on "
              f"{sum(c['half_keeps'] for c in cs)}/{len(cs)}; mean style gain at 1 "
              f"{np.mean([r['models'][m][-1]['style'] for r in results]):.2f}, content kept "
              f"{np.mean([r['models'][m][-1]['content'] for r in results]):.2f}; HF gap within 3 dB on "
              f"{sum(abs(g) <= 3 for g in gaps)}/{len(gaps)} full-band pairs")
        tools = {t for c in cs for t in c["baselines_dominated"]}
        for tool in sorted(tools):
            judged_tool = [c["baselines_dominated"][tool] for c in cs if tool in c["baselines_dominated"]]
            print(f"{m} against {tool}: its points some strength dominates on style, content and pitch "
                  f"{sum(judged_tool)}/{4 * len(judged_tool)}")
        print(f"{m}: mean pitch kept at strength 1 "
              f"{np.mean([r['models'][m][-1]['pitch'] for r in results]):.2f}")
        if judged:
            with_paper = [r for r in results if r["paper"]]
            print(f"{m} against the paper ({len(judged)} pairs with its sweep): strength 1 dominates its 300 it. on "
                  f"{sum(c['beats_300'] for c in judged)}/{len(judged)}; paper points dominated "
                  f"{sum(c['dominated'] for c in judged)}/{4 * len(judged)}; paper 300 mean style gain "
                  f"{np.mean([r['paper'][300]['style'] for r in with_paper]):.2f}, content kept "
                  f"{np.mean([r['paper'][300]['content'] for r in with_paper]):.2f}")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
