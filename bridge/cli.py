"""The ``gramophone`` command line: ``render``, ``batch``, ``demo``, ``preset …``, ``serve``,
``clients``, ``doctor``, ``errors``, ``settings`` and ``info``.

A user error prints one line (``gramophone: error: …``) and exits with status 2; Ctrl-C
cancels a render cleanly (no partial output) and exits with 130.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from . import threads as thread_policy

thread_policy.prepare_environment()  # OpenMP reads it when torch loads, which the engine's import does

from .. import engine  # noqa: E402
from ..engine import GramophoneError, RenderCancelled, RenderSettings, get_model  # noqa: E402
from ..engine.device import describe_precision  # noqa: E402
from ..engine.errors import BY_CODE, markdown as errors_markdown  # noqa: E402
from ..engine.settings import markdown as settings_markdown  # noqa: E402
from ..engine.preset_store import PresetStore  # noqa: E402
from ..engine.models import check_model_name  # noqa: E402
from ..engine.progress import CancelToken  # noqa: E402

from .addresses import DEFAULT_PORT, DEFAULT_REPLY_PORT  # noqa: E402
from .responsiveness import REALTIME_PRIORITY  # noqa: E402
from .setting_options import add_options, settings_from  # noqa: E402

defaults = RenderSettings()


#: --model's values, for the help; an unknown name is bad_model (check_model_name), as everywhere
_MODEL_CHOICES = "{" + ",".join(sorted(engine.MODELS)) + "}"


def _add_render_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, metavar=_MODEL_CHOICES,
                   help=f"texture model (default {engine.DEFAULT_MODEL}; with --preset, the preset's)")
    add_options(p, "cli", {"iterations": _model_iterations() + "; auditory with --iterations 300 --contour 0 "
                                                                "gives its converged texture"})
    _add_blend_options(p)
    _add_threads_option(p)
    _add_weights_options(p)


def _add_blend_options(p: argparse.ArgumentParser) -> None:
    second = p.add_mutually_exclusive_group()
    second.add_argument("--blend-to", metavar="PRESET",
                        help="a second style, a preset made with the same model, that --blend moves to")
    second.add_argument("--blend-to-style", action="append", metavar="FILE",
                        help="a second style from style audio (repeat to pool files), analysed with the first "
                             "style's model, that --blend moves to")


def _second_style(args: argparse.Namespace, store: PresetStore, model, record: Optional[dict]):
    """``(statistics, StyleOrigin)`` of the second style a blend moves to: ``--blend-to``,
    ``--blend-to-style``, else the one ``--like``'s sidecar records; ``(None, None)`` without one."""
    from ..engine import sidecar
    from ..engine.pipeline import style_from_files
    from ..engine.recorded_style import check_same_model, restore_blend

    if getattr(args, "blend_to", None):
        preset = store.load(args.blend_to)
        check_same_model(model, preset.build_model(args.weights), f"preset '{preset.name}'")
        return preset.stats, sidecar.StyleOrigin(preset=preset.name)
    if getattr(args, "blend_to_style", None):
        return style_from_files(args.blend_to_style, model), sidecar.StyleOrigin(files=list(args.blend_to_style))
    if record:
        return restore_blend(record, store, model, args.weights)
    return None, None


def _add_threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", metavar="N|auto",
                   help=f"torch threads per render (default: ${thread_policy.ENV}, else auto: the cores other "
                        "programs leave idle, so that the music software keeps its core)")


def _threads(args: argparse.Namespace) -> thread_policy.Setting:
    """The thread setting: --threads, else $GRAMOPHONE_THREADS, else auto (refused with bad_parameter if bad)."""
    given = getattr(args, "threads", None)
    return thread_policy.parse(given) if given is not None else thread_policy.from_env()


def _model_iterations() -> str:
    """Each model's default iteration count, for the help (read from the models themselves)."""
    return "the model's: " + ", ".join(f"{cls.default_iterations} for {name}"
                                       for name, cls in sorted(engine.MODELS.items()))


def _add_weights_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", metavar="PATH", help="vgg19/soundnet: pretrained weights (a state dict file)")
    p.add_argument("--random-weights", action="store_true",
                   help="vgg19/soundnet: use random weights instead (not the paper's models)")


def _add_memory_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-memory", type=_memory_size, metavar="MB|SIZE",
                   help="refuse a render whose estimated peak memory is over this, before it starts: MB, or "
                        "e.g. 512M, 2G (default: the memory the machine has available when it starts)")


#: `serve`'s longest clip by default: a request from the network cannot make it read an hour of audio
SERVE_MAX_SECONDS = 900.0


def _add_length_option(p: argparse.ArgumentParser, default: Optional[float] = None) -> None:
    p.add_argument("--max-seconds", type=_seconds, default=default, metavar="S",
                   help="refuse (too_long) a content or style clip longer than S seconds, from its header, before "
                        "any of it is read (default: " + (f"{default:g}" if default else "no limit") + ")")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _check_lengths(args: argparse.Namespace, content: str, styles: Sequence[str] = ()) -> None:
    """Refuse (``too_long``) a content or style clip over ``--max-seconds``, from its header."""
    from ..engine.audio_io import check_length

    limit = getattr(args, "max_seconds", None)
    if limit is not None:
        check_length(content, limit, "the content clip")
        for style in styles:
            check_length(style, limit, "the style clip")


def _memory_size(text: str) -> float:
    from ..engine.memory_budget import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_memory(args: argparse.Namespace, content: str, settings: RenderSettings, **style) -> None:
    """Refuse the render (``over_budget``) when its estimated peak is over ``--max-memory``."""
    from ..engine.memory_budget import check_budget, estimate_render

    check_budget(estimate_render(content, settings, **style), getattr(args, "max_memory", None))


def _model(name: str, args: argparse.Namespace):
    """Build the model the options ask for (weights only where given)."""
    params = {"weights": "random"} if getattr(args, "random_weights", False) else {}
    if getattr(args, "weights", None):
        params["weights_path"] = args.weights
    return get_model(name, **params)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (like every other user error here)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gramophone", description="Render audio in the style of another sound.")
    parser.add_argument("--version", action="version", version=f"gramophone {engine.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    parser.add_argument("--preset-dir", type=Path, default=None,
                        help="user preset folder (default: $GRAMOPHONE_PRESETS or the platform's data folder)")

    p = sub.add_parser("render", help="render a clip in the style of a preset or of style files")
    p.add_argument("content", help="the clip to transform (wav, flac, aiff, ogg, mp3)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--style", action="append", metavar="FILE", help="style audio; repeat to pool several files")
    source.add_argument("--preset", metavar="NAME", help="a saved or shipped preset (see 'gramophone preset list')")
    source.add_argument("--like", metavar="OUT.json",
                        help="render with the preset or style files and every setting of an earlier render, "
                             "from its sidecar (options given here override it)")
    p.add_argument("-o", "--output",
                   help="where to write the result (format from the extension); required except with --like, "
                        "which defaults to CONTENT-STYLE.EXT beside the content")
    p.add_argument("--no-sidecar", action="store_true",
                   help="do not write OUTPUT.json (the record of how the render was made)")
    _add_render_options(p)
    _add_memory_option(p)
    _add_length_option(p)

    preset = sub.add_parser("preset", help="create, list, show, delete and blend style presets")
    psub = preset.add_subparsers(dest="preset_command", required=True, metavar="ACTION")
    p = psub.add_parser("create", help="analyse style audio once and save it as a user preset")
    p.add_argument("name")
    p.add_argument("style_files", nargs="+", metavar="STYLE_FILE")
    p.add_argument("--model", default=engine.DEFAULT_MODEL, metavar=_MODEL_CHOICES)
    p.add_argument("--description", default="")
    p.add_argument("--force", action="store_true", help="replace a user preset of the same name")
    _add_weights_options(p)
    psub.add_parser("list", help="every preset: name, model, origin, description")
    p = psub.add_parser("show", help="a preset's model, parameters, sources, versions and hash, after checking it "
                                     "(sizes, hash) in full; a .gpreset file is checked without installing it")
    p.add_argument("name", help="a preset name, or the path of a .gpreset file")
    p = psub.add_parser("delete", help="delete a user preset")
    p.add_argument("name")
    p = psub.add_parser("blend", help="save the weighted mix of two presets' statistics as a new preset")
    p.add_argument("name")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--weight", type=float, required=True, help="0 = all A, 1 = all B")
    p.add_argument("--description", default="")
    p.add_argument("--force", action="store_true", help="replace a user preset of the same name")

    p = sub.add_parser("demo", help="render the built-in melody in the style of built-in rain")
    p.add_argument("-o", "--output-dir", default="gramophone-demo", help="folder for the demo files (default %(default)s)")
    _add_render_options(p)

    p = sub.add_parser("serve", help="run the OSC server that music software talks to")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="UDP port to listen on (default %(default)s)")
    p.add_argument("--reply-port", type=int, default=DEFAULT_REPLY_PORT,
                   help="also send every reply to this port on the sender's host (default %(default)s; 0: off)")
    p.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                   help="also allow reading and writing under DIR (repeatable); defaults: the temporary "
                        "folder, ~/Music, ~/Documents")
    p.add_argument("--queue", type=int, default=8, help="most jobs waiting at once (default %(default)s)")
    _add_length_option(p, SERVE_MAX_SECONDS)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default %(default)s)")
    p.add_argument("--weights", action="append", default=[], metavar="PATH",
                   help="weights files for vgg19/soundnet presets (repeatable; matched by content hash)")
    p.add_argument("--jobs", type=int, default=1,
                   help="render worker processes, i.e. renders at once (default %(default)s)")
    p.add_argument("--realtime-priority", type=int, default=REALTIME_PRIORITY, metavar="N",
                   help="the server's threads (not the renders) at real-time priority N, 1-99, where this user "
                        "may (Linux: an rtprio limit, as the audio group has for JACK), so that pings are answered "
                        "at once however busy the machine; 0: never (default %(default)s)")
    _add_threads_option(p)
    _add_memory_option(p)

    p = sub.add_parser("clients", help="where the Max, Max for Live, SuperCollider and Pure Data clients are; "
                                       "or copy them to a folder")
    p.add_argument("dest", nargs="?", metavar="DEST",
                   help="copy the client files into this folder (created if needed; same-named files are replaced)")

    p = sub.add_parser("doctor", help="check this installation: Python, torch, device, audio output, OSC port, "
                                      "presets, folders, clients; exit status 1 if anything is wrong")
    p.add_argument("--host", default="127.0.0.1", help="the address `serve` would listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="the OSC port to check (default %(default)s)")
    p.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                   help="folders you pass to `serve --allow-dir` (checked that they exist)")
    p.add_argument("--device", default="auto", help="the device to test a 1 s render on (default %(default)s)")

    sub.add_parser("errors", help="every error code: when it happens and what to do (a Markdown table)")
    sub.add_parser("settings", help="every render setting: where it is set, its default and values (a Markdown table)")
    sub.add_parser("info", help="version, device, threads and models")
    _add_batch_parser(sub)
    _add_cluster_options(sub.choices["serve"])
    return parser


def _add_cluster_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", metavar="auto|ADDRESS",
                   help="run the renders as Ray tasks on a cluster: 'auto' (the cluster this machine belongs to, "
                        "or $RAY_ADDRESS) or its address, e.g. 10.0.0.5:6379 (needs: pip install gramophone[ray])")
    p.add_argument("--gpus-per-job", type=float, default=0.0,
                   help="with --ray: GPUs each render asks for (default %(default)s; e.g. 1, or 0.5 to share)")
    p.add_argument("--ship-audio", action="store_true",
                   help="with --ray: send the rendered audio back to this machine, which writes it (for "
                        "clusters that do not share this machine's paths)")


def _add_batch_parser(sub) -> None:
    from .batch import DEFAULT_NAME
    from .workers import default_jobs

    p = sub.add_parser("batch", help="render many clips x presets x strengths, resumably",
                       description="Render every clip of the inputs (files, folders searched recursively for "
                                   "audio files, or CSV/JSON manifests) in every style at every strength, into -o. "
                                   "A re-run skips what is already done.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files, folders, or manifest .csv/.json files")
    p.add_argument("-o", "--output-dir", required=True, help="folder for the outputs and batch.json")
    p.add_argument("--preset", action="append", default=[], metavar="NAME", help="a preset (repeatable)")
    p.add_argument("--style", action="append", default=[], metavar="FILE",
                   help="style audio (repeatable; several files are pooled into one style)")
    p.add_argument("--name", default=DEFAULT_NAME,
                   help="output name template below -o (default %(default)s; also {seed}, {iterations}, {model}); "
                        "sub-folders of input folders are mirrored")
    p.add_argument("--jobs", type=int, default=default_jobs(),
                   help="renders at once: worker processes, torch threads split between them "
                        "(default %(default)s: one per 2 cores)")
    p.add_argument("--model", default=None, metavar=_MODEL_CHOICES,
                   help=f"model for --style files (default {engine.DEFAULT_MODEL})")
    p.add_argument("--blend-to", metavar="PRESET",
                   help="a second style, a preset made with the same model, that --blend moves to (a manifest's "
                        "blend_to column overrides it)")
    add_options(p, "batch")
    _add_threads_option(p)
    _add_weights_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar (failures are still printed)")
    _add_memory_option(p)
    _add_length_option(p)
    _add_cluster_options(p)


def _backend(args: argparse.Namespace, nice: int = 0):
    """The job layer's backend the options ask for: local worker processes, or Ray tasks."""
    threads = _threads(args)
    if getattr(args, "ray", None):
        from .ray_backend import RayBackend

        return lambda emit: RayBackend(emit, args.ray, gpus_per_job=args.gpus_per_job, ship_audio=args.ship_audio,
                                       threads=threads)
    from .workers import LocalWorkers

    return lambda emit: LocalWorkers(emit, jobs=args.jobs, threads=threads, nice=nice)


def _batch(args: argparse.Namespace) -> int:
    from . import batch
    from .batch import StyleChoice

    if args.jobs < 1:
        raise GramophoneError("--jobs must be at least 1", "bad_args")
    backend = _backend(args)  # checks --threads before any work
    styles = [StyleChoice(preset=name) for name in args.preset] + ([StyleChoice(style=tuple(
        str(Path(f).resolve()) for f in args.style))] if args.style else [])
    base = settings_from(args, "batch")
    planned = batch.plan(args.inputs, args.output_dir, styles, args.strength or [defaults.strength], base,
                         PresetStore(args.preset_dir), args.name, args.model,
                         str(Path(args.weights).resolve()) if args.weights else None, args.random_weights,
                         args.blend_to)
    batch.check_lengths(planned, args.max_seconds)
    batch.check_memory(planned, args.max_memory)
    skipped = batch.mark_finished(planned)
    todo = sum(i.status == "pending" for i in planned.items)
    print(f"{len(planned.items)} renders: {todo} to do, {skipped} already done, "
          f"{sum(i.status == 'error' for i in planned.items)} refused", file=sys.stderr)
    try:
        summary = batch.run(planned, backend, progress_bar=not args.no_progress)
    except KeyboardInterrupt:
        print("\ngramophone: batch interrupted; finished outputs are kept, nothing partial was written. "
              "Run the same command again to do the rest.", file=sys.stderr)
        return 130
    print(batch.table(summary))
    if summary.write_error:
        print(f"gramophone: warning: {summary.write_error}", file=sys.stderr)
    return 1 if any(i.status == "error" for i in planned.items) else 0


def _render(content: str, styles: Optional[Sequence[str]], output: Optional[str], args: argparse.Namespace) -> int:
    from ..engine import sidecar
    from ..engine.pipeline import render_takes, style_from_files
    from ..engine.recorded_style import restore_style

    if output is None and not getattr(args, "like", None):
        raise GramophoneError("name the output with -o OUTPUT (only --like has a default)", "bad_output")
    store = PresetStore(args.preset_dir)
    record = sidecar.read(args.like) if getattr(args, "like", None) else None
    if args.model is not None:
        check_model_name(args.model)
    settings = settings_from(args, "cli", sidecar.settings_from(record) if record else defaults)  # checked here,
    # before any audio is read or analysed
    threads = _threads(args)
    _check_lengths(args, content, () if record or getattr(args, "preset", None) else styles or ())
    if record:
        model, style, source = restore_style(record, store, args.weights)
        _check_memory(args, content, settings, model=model.name, params=model.params,
                      style_frames=int(style["frames"].shape[-1]) if "frames" in style else 0)
        if args.model not in (None, model.name):
            raise GramophoneError(f"that render used the {model.name} model, not {args.model}; drop --model",
                                  "model_mismatch")
        if output is None:
            label = source.preset or Path(source.files[0]).stem
            output = str(Path(content).with_name(f"{Path(content).stem}-{label}"
                                                 f"{Path(record['output']['path']).suffix or '.wav'}"))
    elif getattr(args, "preset", None):
        _check_memory(args, content, settings, preset_path=store.find(args.preset).path)
        preset = store.load(args.preset)
        if args.model not in (None, preset.model):
            raise GramophoneError(f"preset '{preset.name}' holds {preset.model} statistics, not {args.model}; "
                                  "drop --model or pick a preset made with that model", "model_mismatch")
        model, style, source = preset.build_model(args.weights), preset.stats, sidecar.StyleOrigin(preset=preset.name)
    else:
        _check_memory(args, content, settings, style_files=styles or [], model=args.model)
        model = _model(args.model or engine.DEFAULT_MODEL, args)
        style, source = style_from_files(styles or [], model), sidecar.StyleOrigin(files=list(styles or []))
    assert output is not None  # checked above: only --like has a default, set with the record
    blend_to, blend_source = _second_style(args, store, model, record)
    cancel = CancelToken()
    thread_policy.apply(threads)
    try:
        with _progress_bar("rendering") as progress:
            progress = thread_policy.following(progress, threads)
            results = render_takes(content, output, model, style, settings, progress, cancel, source=source,
                                   sidecar=not getattr(args, "no_sidecar", False),  # the style analysed once
                                   blend_to=blend_to, blend_source=blend_source)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    for result in results:  # one path a line on stdout, the figures on stderr
        print(result.output_path)
        take = f"{result.output_path.name}: " if len(results) > 1 else ""
        print(f"{take}rendered {result.duration:.2f} s of audio ({result.channels} ch, {result.sample_rate} Hz) "
              f"in {result.seconds:.2f} s", file=sys.stderr)
        if result.report:
            print("  " + ", ".join(f"{k} {v:.1f}" for k, v in result.report.items()), file=sys.stderr)
    return 0


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[float, float], None]]:
    """A tqdm bar on stderr (stdout stays parseable), shown only on a terminal."""
    from tqdm import tqdm

    with tqdm(total=100, desc=label, file=sys.stderr, disable=None, leave=True,
              bar_format="{desc} {bar:30} {percentage:5.1f}% {elapsed}{postfix}") as bar:
        def update(fraction: float, loss: float) -> None:
            bar.n = 100 * min(max(fraction, 0.0), 1.0)
            if loss == loss:  # not NaN
                bar.set_postfix_str(f"style loss {loss:.4f}", refresh=False)
            bar.refresh()

        yield update


def _demo(args: argparse.Namespace) -> int:
    from ..engine import synth
    from ..engine.audio_io import write_audio

    folder = Path(args.output_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    sr = 44_100
    content = write_audio(folder / "content-melody.wav", synth.plucked_melody(sr, 8.0), sr)
    style = write_audio(folder / "style-rain.wav", synth.rain(sr, 8.0), sr)
    print(f"content: {content}\nstyle:   {style}", file=sys.stderr)
    return _render(str(content), [str(style)], str(folder / "melody-in-the-style-of-rain.wav"), args)


def _preset(args: argparse.Namespace) -> int:
    from ..engine import preset_format

    store = PresetStore(args.preset_dir)
    action = args.preset_command
    if action == "create":
        import time

        started = time.perf_counter()
        preset = preset_format.create(args.name, args.style_files, _model(args.model, args), args.description)
        path = store.save(preset, force=args.force)
        print(path)
        print(f"created preset '{args.name}' ({args.model}) in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    elif action == "list":
        entries = store.entries()
        width = max([len(e.name) for e in entries] + [4])
        for e in entries:
            origin = e.origin + (" (hidden by user preset)" if e.shadowed else "")
            print(f"{e.name:<{width}}  {e.model:<8} {origin:<8}  {e.description}")
        if not entries:
            print(f"no presets yet (user folder: {store.user_dir})", file=sys.stderr)
    elif action == "show":
        path, origin = _preset_to_show(store, args.name)
        meta = preset_format.read_metadata(path)
        preset_format.load(path)  # every bound and the statistics' hash: a bad file is an error here
        print(f"name:        {meta['name']} ({origin}, {path})")
        print(f"description: {meta['description']}")
        print(f"model:       {meta['model']}  " + ", ".join(f"{k}={v}" for k, v in meta["params"].items()))
        for src in meta["sources"]:
            print(f"source:      {src['file']}  {src['duration']:.2f} s  {src['sample_rate']} Hz  {src['channels']} ch")
        if "blend" in meta.get("extra", {}):
            b = meta["extra"]["blend"]
            print(f"blend:       {b['a']} + {b['b']} at weight {b['weight']}")
        print(f"versions:    format {meta['format_version']}, engine {meta['engine_version']}; created {meta['created']}")
        print("statistics:  " + ", ".join(f"{k} {v['dtype']} {v['shape']}" for k, v in meta["arrays"].items()))
        print(f"sha256:      {meta['stats_sha256']}")
        print(f"size:        {path.stat().st_size / 1e6:.2f} MB")
        print("check:       ok (sizes within the model's bounds, statistics match their sha256)")
    elif action == "delete":
        print(f"deleted {store.delete(args.name)}")
    elif action == "blend":
        preset = preset_format.blend(args.name, store.load(args.a), store.load(args.b), args.weight, args.description)
        print(store.save(preset, force=args.force))
    return 0


def _preset_to_show(store: PresetStore, name: str) -> tuple[Path, str]:
    """``(path, origin)`` of what ``preset show`` names: a ``.gpreset`` file (or any path with a
    folder in it) as it is, without installing it; otherwise an installed preset by its name."""
    from ..engine.preset_format import EXTENSION

    if name.endswith(EXTENSION) or os.sep in name or (os.altsep and os.altsep in name):
        return Path(name).expanduser(), "file, not installed"
    entry = store.find(name)
    return entry.path, entry.origin


def _serve(args: argparse.Namespace) -> int:
    import logging
    import signal

    from .paths import default_allowed_dirs
    from .server import GramophoneServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for d in args.allow_dir:
        if not Path(d).is_dir():
            raise GramophoneError(f"--allow-dir {d}: no such folder")
    if not 0 <= args.realtime_priority <= 99:
        raise GramophoneError(f"--realtime-priority must be 0-99, got {args.realtime_priority}", "bad_input")
    backend = _backend(args, nice=10)
    try:
        server = GramophoneServer(args.host, args.port, args.reply_port or None,
                                  default_allowed_dirs() + [Path(d) for d in args.allow_dir],
                                  PresetStore(args.preset_dir), args.device, args.queue, args.weights,
                                  args.max_seconds, jobs=args.jobs, backend=backend,
                                  max_memory=args.max_memory)
    except OSError as exc:
        raise GramophoneError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} "
                              "(is another server running? choose another --port)") from exc
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.shutdown())
    from .responsiveness import prepare_server

    prepare_server(args.realtime_priority)  # a ping waits neither for a core, nor for the GIL, nor for a collection
    server.serve_forever()
    return 0


def _clients(args: argparse.Namespace) -> int:
    from .clients import copy_to, installed_folder

    if args.dest is None:
        print(installed_folder())
        return 0
    copied = copy_to(args.dest)
    for path in copied:
        print(path)
    print(f"copied {len(copied)} client files to {Path(args.dest).expanduser()}", file=sys.stderr)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from . import doctor

    findings = doctor.run(PresetStore(args.preset_dir), args.host, args.port, args.allow_dir, args.device)
    for finding in findings:
        print(finding.line())
    failed = sum(f.status == doctor.FAIL for f in findings)
    print(f"{failed} problem(s) found" if failed else "no problems found", file=sys.stderr)
    return 1 if failed else 0


def _info() -> int:
    import torch

    cuda = torch.cuda.is_available()
    print(f"gramophone {engine.__version__}")
    print(f"torch {torch.__version__}; device: {'cuda (' + torch.cuda.get_device_name(0) + ')' if cuda else 'cpu'}")
    print(describe_precision(torch.device("cuda" if cuda else "cpu")))
    print(f"{thread_policy.describe(thread_policy.from_env())} (torch's own default here: "
          f"{torch.get_num_threads()} of {os.cpu_count()} cores)")
    for name, cls in engine.MODELS.items():
        params = ", ".join(f"{k}={v}" for k, v in cls.defaults.items())
        print(f"model {name}{' (default)' if name == engine.DEFAULT_MODEL else ''}: {params}")
    return 0


def _errors(args: argparse.Namespace) -> int:
    print(errors_markdown())
    return 0


def _settings_table(args: argparse.Namespace) -> int:
    print(settings_markdown())
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[Optional[str], Callable[[argparse.Namespace], int]] = {
        "render": lambda a: _render(a.content, a.style, a.output, a), "demo": _demo, "preset": _preset,
        "serve": _serve, "batch": _batch, "clients": _clients, "doctor": _doctor, "errors": _errors,
        "settings": _settings_table}
    try:
        return commands.get(args.command, lambda a: _info())(args)
    except GramophoneError as exc:
        known = BY_CODE.get(exc.code)
        print(f"gramophone: error: {exc} [{exc.code}" + (f": {known.next}]" if known else "]"), file=sys.stderr)
        return 2
    except (KeyboardInterrupt, RenderCancelled):
        print("\ngramophone: cancelled; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
