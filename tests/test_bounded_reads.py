"""Every read from outside is bounded before it allocates (issue #24): a hostile file is refused
with its error code in under 100 ms and under 50 MB of extra memory, measured in a child process
(its peak resident memory, VmHWM, after the call against before it, once imports are done)."""
import io
import json
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

MAX_SECONDS = 0.1
MAX_EXTRA_MB = 50

CHILD = r'''
import json, time
from gramophone.engine.errors import GramophoneError
{imports}

def hwm_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))

def attempt():
    try:
        {call}
    except GramophoneError as exc:
        return exc.code
    return None

{warm}
before = hwm_mb()
started = time.perf_counter()
code = attempt()
print(json.dumps({{"code": code, "seconds": time.perf_counter() - started, "extra_mb": hwm_mb() - before}}))
'''


def measure(call: str, imports: str = "", warm: str = "") -> dict:
    """Run ``call`` in a fresh Python (after ``imports`` and a ``warm`` statement that loads what
    the call would load lazily) and return its error code, seconds and extra peak memory."""
    script = CHILD.format(imports=imports, call=call, warm=warm)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_refused(result: dict, code: str) -> None:
    assert result["code"] == code, result
    assert result["seconds"] < MAX_SECONDS, result
    assert result["extra_mb"] < MAX_EXTRA_MB, result


# ---- presets ----

GIGABYTES_OF_FRAMES = (1025, 786_432)  # float32: 3.2 GB, what the hostile preset declared


def npy_header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def kernel_metadata(shape) -> bytes:
    return json.dumps({"format": "gramophone-preset", "format_version": 2, "engine_version": "0.2.0",
                       "name": "bomb", "description": "", "model": "kernel", "params": {}, "sources": [],
                       "created": "", "arrays": {"frames": {"dtype": "<f4", "shape": list(shape)}},
                       "stats_sha256": "0" * 64}).encode()


def write_preset(path, shape, frames_data: bytes, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("preset.json", kernel_metadata(shape))
        z.writestr("frames.npy", npy_header(shape) + frames_data, compress_type=compression)
    return path


def declare_size(path, name: str, size: int, compressed: bool = False):
    """Patch the uncompressed size the zip declares for ``name`` (local header and central
    directory), and with ``compressed`` the compressed size too (so the ratio looks plain)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name).header_offset
    fields = [(local + 22, 24)] + ([(local + 18, 20)] if compressed else [])
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        if data[at + 46: at + 46 + len(name)] == name.encode():
            for in_local, in_central in fields:
                struct.pack_into("<I", data, in_local, size)
                struct.pack_into("<I", data, at + in_central, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def zip_bomb(path):
    """The issue's file: frames.npy, deflated zeros, declaring 3.2 GB (only 1 MiB of them is there)."""
    write_preset(path, GIGABYTES_OF_FRAMES, bytes(1 << 20))
    return declare_size(path, "frames.npy", len(npy_header(GIGABYTES_OF_FRAMES)) + 1025 * 786_432 * 4)


def header_lies(path):
    """A stored (uncompressed) frames.npy of 1 MiB whose header declares 3.2 GB."""
    return write_preset(path, GIGABYTES_OF_FRAMES, bytes(1 << 20), zipfile.ZIP_STORED)


def honest_bomb(path):
    """64 MB of zeros, deflated to 64 KB: within the kernel's bound, but expanding 1000-fold."""
    shape = (1025, 16_384)
    return write_preset(path, shape, bytes(1025 * 16_384 * 4))


def many_entries(path):
    """A zip listing 5000 entries: zipfile would build an object for each before any check."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("preset.json", kernel_metadata((1, 1)))
        for i in range(5000):
            z.writestr(f"{i}.npy", b"")
    return path


def too_many_bytes(path):
    """Three stored statistics declaring 200 MB each: each within the bound, 600 MB together."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("preset.json", kernel_metadata((1, 1)))
        for key in ("frames", "weights", "self_term"):
            z.writestr(f"{key}.npy", npy_header((1, 1)) + bytes(4))
    for key in ("frames", "weights", "self_term"):
        declare_size(path, f"{key}.npy", 200_000_000, compressed=True)
    return path


def hostile_parameters(path):
    """A small random-net preset whose parameters ask for a million filters: building its model
    would allocate 45 GB of filters."""
    meta = json.loads(kernel_metadata((4, 4)))
    meta.update(model="random", params={"filters": 1_000_000, "rank": 1},
                arrays={"factor": {"dtype": "<f4", "shape": [4, 4]}})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("preset.json", json.dumps(meta))
        z.writestr("factor.npy", npy_header((4, 4)) + bytes(64))
    return path


WARM_PRESET = "preset_format.read_metadata(SHIPPED)"
PRESET_IMPORTS = ("from gramophone.engine import preset_format\n"
                  "from gramophone.engine.preset_store import default_shipped_dir\n"
                  "SHIPPED = default_shipped_dir() / 'rain.gpreset'")


@pytest.mark.parametrize("build", [zip_bomb, header_lies, honest_bomb, many_entries, too_many_bytes, hostile_parameters])
@pytest.mark.slow
def test_a_hostile_preset_is_refused_before_it_is_read(tmp_path, build):
    path = build(tmp_path / "bomb.gpreset")
    result = measure(f"preset_format.load({str(path)!r})", PRESET_IMPORTS, WARM_PRESET)
    assert_refused(result, "bad_preset")


def test_the_shipped_presets_still_load():
    from gramophone.engine import preset_format
    from gramophone.engine.preset_store import default_shipped_dir

    for path in sorted(default_shipped_dir().glob("*.gpreset")):
        assert preset_format.load(path).stats["frames"].shape[0] == 1025


# ---- pretrained weights files (--weights, serve --weights) ----

def huge_weights(path):
    """A (sparse) file one byte over the bound: hashing it alone would read a gigabyte."""
    from gramophone.engine.limits import MAX_WEIGHTS_BYTES

    with open(path, "wb") as f:
        f.truncate(MAX_WEIGHTS_BYTES + 1)
    return path


def weights_bomb(path):
    """torch.save's zip layout, one tensor's entry being 64 MB of deflated zeros (64 KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"")
        z.writestr("archive/data/0", bytes(64 << 20))
    return path


def npz_header_lies(path):
    """An .npz whose stored array holds 1 MiB but whose header declares 3.2 GB."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("conv1.weight.npy", npy_header(GIGABYTES_OF_FRAMES) + bytes(1 << 20))
    return path


def many_weights_entries(path):
    """A zip listing 5000 entries per tensor file's worth of directory."""
    with zipfile.ZipFile(path, "w") as z:
        for i in range(5000):
            z.writestr(f"archive/data/{i}", b"")
    return path


WEIGHTS_IMPORTS = "from gramophone.engine.models import weights"


@pytest.mark.parametrize("build, name", [(huge_weights, "w.pt"), (weights_bomb, "w.pt"), (npz_header_lies, "w.npz"),
                                         (many_weights_entries, "w.pt")])
@pytest.mark.parametrize("reader", ["read_state_dict", "check_weights_file"])  # the check runs before any hash
@pytest.mark.slow
def test_a_hostile_weights_file_is_refused_before_it_is_read(tmp_path, build, name, reader):
    path = build(tmp_path / name)
    result = measure(f"weights.{reader}({str(path)!r})", WEIGHTS_IMPORTS)
    assert_refused(result, "bad_weights")


def test_a_missing_weights_file_is_no_weights(tmp_path):
    from gramophone.engine.errors import GramophoneError
    from gramophone.engine.models import weights

    with pytest.raises(GramophoneError) as caught:
        weights.read_state_dict(tmp_path / "missing.pt")
    assert caught.value.code == "no_weights"


# ---- sidecars (render --like) and batch manifests ----

def huge_sidecar(path):
    """A 100 MB sidecar: one string of 100 MB."""
    path.write_bytes(b'{"format": "gramophone-render", "pad": "' + b"x" * 100_000_000 + b'"}')
    return path


def nested_sidecar(path):
    """200 KB of brackets nested 100 000 deep: Python's parser gives up with RecursionError."""
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    return path


@pytest.mark.parametrize("build", [huge_sidecar, nested_sidecar])
@pytest.mark.slow
def test_a_hostile_sidecar_is_refused_before_it_is_parsed(tmp_path, build):
    path = build(tmp_path / "out.wav.json")
    result = measure(f"sidecar.read({str(path)!r})", "from gramophone.engine import sidecar")
    assert_refused(result, "bad_sidecar")


def huge_manifest(path):
    """A 50 MB CSV manifest."""
    path.write_bytes(b"content,strength\n" + b"loops/kick.wav,0.5\n" * 2_800_000)
    return path


def many_rows(path):
    """A JSON manifest of 900 KB holding 300 000 (empty) items."""
    path.write_bytes(b"[" + b",".join([b"{}"] * 300_000) + b"]")
    return path


@pytest.mark.parametrize("build, name", [(huge_manifest, "jobs.csv"), (many_rows, "jobs.json")])
@pytest.mark.slow
def test_a_hostile_manifest_is_refused_before_it_is_parsed(tmp_path, build, name):
    path = build(tmp_path / name)
    result = measure(f"manifest.read_manifest(Path({str(path)!r}))",
                     "from pathlib import Path\nfrom gramophone.bridge import manifest")
    assert_refused(result, "bad_manifest")


# ---- audio headers ----

def lying_wav(path):
    """An 8 KB float WAV whose data chunk declares 4 GB: 2^29 stereo frames."""
    import soundfile as sf

    sf.write(str(path), np.zeros((1000, 2), np.float32), 44_100, subtype="FLOAT")
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    struct.pack_into("<I", data, at + 4, 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.slow
def test_an_audio_header_that_declares_more_than_the_file_holds_is_refused(tmp_path):
    import soundfile as sf

    path = lying_wav(tmp_path / "liar.wav")
    sf.write(str(tmp_path / "ok.wav"), np.zeros((1000, 2), np.float32), 44_100, subtype="FLOAT")
    result = measure(f"audio_io.read_audio({str(path)!r})", "from gramophone.engine import audio_io",
                     f"audio_io.read_audio({str(tmp_path / 'ok.wav')!r})")
    assert_refused(result, "not_audio")


@pytest.mark.parametrize("ext", [".wav", ".flac", ".aiff"])
def test_silence_in_every_format_still_reads(tmp_path, ext):
    """Digital silence compresses best (FLAC: 548 samples per byte); it must stay readable."""
    import soundfile as sf
    from gramophone.engine.audio_io import read_audio

    path = tmp_path / f"quiet{ext}"
    sf.write(str(path), np.zeros((48_000 * 20, 2), np.float32), 48_000, subtype="PCM_16")
    assert read_audio(path)[0].shape == (2, 48_000 * 20)


def _silence(path, seconds, rate=8_000):
    import soundfile as sf

    sf.write(str(path), np.zeros((int(seconds * rate), 1), np.float32), rate, subtype="PCM_16")
    return path


def _refuse_work(monkeypatch):
    """Make reading any samples, loading a preset or rendering fail the test: a refusal by
    --max-seconds comes from the headers alone, before all of it."""
    from gramophone.engine import audio_io, pipeline, preset_format

    def forbidden(*args, **kwargs):
        raise AssertionError("work started for a clip over --max-seconds")

    for module, name in [(audio_io, "read_audio"), (preset_format, "load"), (pipeline, "render_file")]:
        monkeypatch.setattr(module, name, forbidden)


def test_render_refuses_a_clip_over_max_seconds_from_its_header(tmp_path, monkeypatch, capsys):
    from gramophone.bridge.cli import main

    long, short, out = _silence(tmp_path / "long.wav", 3), _silence(tmp_path / "short.wav", 1), tmp_path / "o.wav"
    _refuse_work(monkeypatch)
    assert main(["render", str(long), "--preset", "rain", "-o", str(out), "--max-seconds", "2"]) == 2
    err = capsys.readouterr().err
    assert "[too_long:" in err and "content clip" in err and "--max-seconds" in err and not out.exists()
    assert main(["render", str(short), "--style", str(long), "-o", str(out), "--max-seconds", "2"]) == 2
    err = capsys.readouterr().err
    assert "[too_long:" in err and "style clip" in err and not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["render", str(short), "--preset", "rain", "-o", str(out), "--max-seconds", "-1"])
    assert exc.value.code == 2 and "positive number of seconds" in capsys.readouterr().err


def test_batch_refuses_the_items_over_max_seconds_and_keeps_the_rest(tmp_path):
    from gramophone.bridge import batch
    from gramophone.bridge.batch import StyleChoice
    from gramophone.engine import RenderSettings
    from gramophone.engine.preset_store import PresetStore, default_shipped_dir

    long, short = _silence(tmp_path / "long.wav", 3), _silence(tmp_path / "short.wav", 1)
    store = PresetStore(tmp_path / "user", default_shipped_dir())
    planned = batch.plan([str(long), str(short)], tmp_path / "out", [StyleChoice(preset="rain"),
                         StyleChoice(style=(str(long),))], [1.0], RenderSettings(iterations=2), store)
    batch.check_lengths(planned, 2.0)
    outcome = sorted((i.content.name, i.label, i.status, i.code) for i in planned.items)
    assert outcome == [("long.wav", "long", "error", "too_long"), ("long.wav", "rain", "error", "too_long"),
                       ("short.wav", "long", "error", "too_long"), ("short.wav", "rain", "pending", "")], outcome
    batch.check_lengths(planned, None)  # no limit: nothing more refused
    assert sum(i.status == "pending" for i in planned.items) == 1


# ---- OSC ----

OSC_IMPORTS = '''
from gramophone.bridge import addresses as A
from gramophone.bridge.dispatch import Dispatcher, Route

codes = []
dispatcher = Dispatcher({path: Route(lambda sender, args: None) for path in A.BY_PATH},
                        lambda sender, error_id, code, message: codes.append((code, len(str(error_id)), message)))

def deliver(data):
    codes.clear()
    dispatcher.packet(data, ("127.0.0.1", 9))
    if codes:
        raise GramophoneError(codes[0][2], codes[0][0])
'''


def osc_message(address: str, *args) -> bytes:
    from pythonosc.osc_message_builder import OscMessageBuilder

    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


def many_arguments():
    return osc_message("/gramophone/render", *range(12_000)), "bad_args"


def long_string():
    return osc_message("/gramophone/preset/show", "x" * 60_000), "bad_args"


def long_address():
    return osc_message("/gramophone/" + "x" * 60_000), "bad_args"


def many_messages():
    """A bundle of 2000 status requests: each would cause a reply."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    bundle = OscBundleBuilder(IMMEDIATELY)
    for _ in range(2000):
        bundle.add_content(OscMessageBuilder("/gramophone/status").build())
    return bundle.build().dgram, "malformed"


@pytest.mark.parametrize("build", [many_arguments, long_string, long_address, many_messages])
@pytest.mark.slow
def test_an_oversized_osc_packet_is_refused_with_a_short_reply(tmp_path, build):
    packet, code = build()
    assert len(packet) <= 65_507  # what one UDP datagram can carry
    path = tmp_path / "packet.osc"
    path.write_bytes(packet)
    result = measure(f"deliver(open({str(path)!r}, 'rb').read())", OSC_IMPORTS,
                     "deliver(" + repr(osc_message("/gramophone/status")) + ")")
    assert_refused(result, code)


# ---- checking a shared preset before installing it ----

def test_preset_show_checks_a_file_without_installing_it(tmp_path, capsys):
    from gramophone.bridge.cli import main
    from gramophone.engine.preset_store import default_shipped_dir

    user = tmp_path / "user"
    shared = tmp_path / "shared-rain.gpreset"
    shared.write_bytes((default_shipped_dir() / "rain.gpreset").read_bytes())
    assert main(["--preset-dir", str(user), "preset", "show", str(shared)]) == 0
    shown = capsys.readouterr().out
    assert "file, not installed" in shown and "check:       ok" in shown
    assert not user.exists()  # nothing installed
    assert main(["--preset-dir", str(user), "preset", "show", str(zip_bomb(tmp_path / "bomb.gpreset"))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gramophone: error: ") and "bad_preset" in err and err.count("\n") == 1
