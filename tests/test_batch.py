"""`gramophone batch`: inputs, names, resume, failures recorded, refusals before any work, a full
disk, a killed worker, and Ctrl-C then resume giving bit-identical outputs."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gramophone.bridge import batch
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.cli import main
from gramophone.bridge.workers import LocalWorkers
from gramophone.engine import RenderSettings, synth
from gramophone.engine.audio_io import read_audio
from gramophone.engine.errors import GramophoneError
from gramophone.engine.preset_store import PresetStore, default_shipped_dir

from helpers import SR, write_wav

ROOT = Path(__file__).resolve().parents[1]
FAST = RenderSettings(iterations=2, device="cpu")


def store(tmp_path):
    return PresetStore(tmp_path / "user", default_shipped_dir())


def local(jobs=1, threads=None):
    return lambda emit: LocalWorkers(emit, jobs=jobs, threads=threads)


def leftovers(folder: Path) -> list[str]:
    """Partial files or staging folders anywhere below ``folder``."""
    return [str(p) for p in folder.rglob("*") if ".part" in p.name or p.name.endswith(".gramophone-tmp")]


@pytest.fixture
def library(tmp_path):
    """in/a.wav, in/sub/b.wav (audio), in/notes.txt (ignored when scanning)."""
    lib = tmp_path / "in"
    (lib / "sub").mkdir(parents=True)
    write_wav(lib / "a.wav", synth.plucked_melody(SR, 1.5))
    write_wav(lib / "sub" / "b.wav", synth.plucked_melody(SR, 1.0))
    (lib / "notes.txt").write_text("not audio")
    return lib


def records(out: Path) -> list[dict]:
    return json.loads((out / "batch.json").read_text())["items"]


@pytest.mark.slow
def test_folder_batch_names_mirrors_records_and_resumes(tmp_path, library):
    out = tmp_path / "out"
    plan = batch.plan([str(library)], out, [StyleChoice(preset="rain"), StyleChoice(preset="fire")], [0.5, 1.0],
                      FAST, store(tmp_path))
    assert [str(i.output.relative_to(out)) for i in plan.items] == [
        "a.rain.s0.5.wav", "a.rain.s1.wav", "a.fire.s0.5.wav", "a.fire.s1.wav",
        "sub/b.rain.s0.5.wav", "sub/b.rain.s1.wav", "sub/b.fire.s0.5.wav", "sub/b.fire.s1.wav"]
    summary = batch.run(plan, local(2), progress_bar=False)
    assert [i.status for i in plan.items] == ["done"] * 8
    for item in plan.items:
        data, sr = read_audio(item.output)
        assert sr == SR and data.shape == read_audio(item.content)[0].shape
    saved = records(out)
    assert [r["status"] for r in saved] == ["done"] * 8 and all(r["seconds"] > 0 for r in saved)
    assert "8 done" in batch.table(summary)
    assert leftovers(out) == []

    # a re-run skips them all; a changed setting or a changed output redoes just those
    again = batch.plan([str(library)], out, [StyleChoice(preset="rain"), StyleChoice(preset="fire")], [0.5, 1.0],
                       FAST, store(tmp_path))
    assert batch.mark_finished(again) == 8
    (out / "a.rain.s1.wav").write_bytes(b"changed by hand")
    third = batch.plan([str(library)], out, [StyleChoice(preset="rain")], [0.5, 1.0],
                       RenderSettings(iterations=3, device="cpu"), store(tmp_path))
    assert batch.mark_finished(third) == 0
    fourth = batch.plan([str(library)], out, [StyleChoice(preset="rain")], [0.5, 1.0], FAST, store(tmp_path))
    assert batch.mark_finished(fourth) == 3  # all but the file changed by hand


def test_name_template_and_style_files(tmp_path, library, rain):
    style = write_wav(tmp_path / "drizzle.wav", rain)
    plan = batch.plan([str(library / "a.wav")], tmp_path / "out", [StyleChoice(style=(str(style),))], [0.25],
                      FAST, store(tmp_path), name="{preset}/{stem}-{strength}-seed{seed}.flac")
    assert [str(i.output.relative_to(tmp_path / "out")) for i in plan.items] == ["drizzle/a-0.25-seed0.flac"]
    with pytest.raises(GramophoneError) as err:
        batch.plan([str(library)], tmp_path / "out", [StyleChoice(preset="rain")], [1.0], FAST, store(tmp_path),
                   name="{stem}.{colour}.wav")
    assert err.value.code == "bad_args"


@pytest.mark.slow
def test_manifest_rows_with_bad_files_or_presets_are_recorded_and_the_rest_go_on(tmp_path, library):
    (tmp_path / "text.wav").write_text("not audio at all " * 20)
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("content,preset,strength,output\n"
                        "in/a.wav,rain,0.5,good.wav\n"
                        "in/missing.wav,rain,1,missing.wav\n"
                        "text.wav,rain,1,text.wav\n"
                        "in/sub/b.wav,no such preset,1,unknown.wav\n"
                        "in/sub/b.wav,fire,2,strong.wav\n")
    out = tmp_path / "out"
    plan = batch.plan([str(manifest)], out, [], [1.0], FAST, store(tmp_path))
    batch.run(plan, local(), progress_bar=False)
    got = {r["output"]: (r["status"], (r["error"] or {}).get("code")) for r in records(out)}
    assert got == {"good.wav": ("done", None), "missing.wav": ("error", "not_found"),
                   "text.wav": ("error", "not_audio"), "unknown.wav": ("error", "no_preset"),
                   "strong.wav": ("error", "bad_parameter")}
    assert sorted(p.name for p in out.iterdir()) == ["batch.json", "good.wav", "good.wav.json"]


@pytest.mark.slow
def test_a_manifest_blends_between_two_presets(tmp_path, library, capsys):
    """The ``blend_to`` column names the second preset a row's ``blend`` moves to (the command
    line's ``--blend-to`` for rows without one); a row blending without one is ``no_style``, one
    of another model ``model_mismatch``, and the rest go on."""
    from gramophone.engine import get_model, preset_format

    store(tmp_path).save(preset_format.from_clips("noise-random", [(synth.rain(SR, 2.0), SR)], [{"file": "r.wav"}],
                                                  get_model("random")))
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("content,preset,blend_to,blend,output\n"
                        'in/a.wav,rain,fire,"0:0, 1:1",swell.wav\n'
                        "in/a.wav,rain,,0.5,alone.wav\n"
                        "in/a.wav,rain,noise-random,0.5,other.wav\n"
                        "in/sub/b.wav,rain,,,plain.wav\n")
    out = tmp_path / "out"
    assert main(["--preset-dir", str(tmp_path / "user"), "batch", str(manifest), "-o", str(out), "--iterations", "2",
                 "--no-progress", "--jobs", "1"]) == 1
    got = {r["output"]: (r["status"], (r["error"] or {}).get("code")) for r in records(out)}
    assert got == {"swell.wav": ("done", None), "alone.wav": ("error", "no_style"),
                   "other.wav": ("error", "model_mismatch"), "plain.wav": ("done", None)}
    recorded = json.loads((out / "swell.wav.json").read_text())
    assert recorded["blend_to"]["preset"] == "fire" and recorded["settings"]["blend"] == "0:0, 1:1"
    assert json.loads((out / "plain.wav.json").read_text())["blend_to"] is None
    plan = batch.plan([str(library / "a.wav")], out, [StyleChoice(preset="rain")], [1.0],
                      RenderSettings(iterations=2, blend=0.5), store(tmp_path), blend_to="fire")
    assert [i.output.name for i in plan.items] == ["a.rain-to-fire.s1.wav"] and plan.items[0].status == "pending"
    capsys.readouterr()


def test_json_manifest_with_styles_and_settings(tmp_path, library, rain):
    write_wav(tmp_path / "r.wav", rain)
    manifest = tmp_path / "jobs.json"
    manifest.write_text(json.dumps({"items": [
        {"content": str(library / "a.wav"), "style": ["r.wav"], "strength": 0.3, "seed": 4, "peaks": "scale"},
        {"content": "in/sub/b.wav", "preset": "rain", "iterations": 3, "contour": 0, "loudness": -18,
         "random_phase": True}]}))
    plan = batch.plan([str(manifest)], tmp_path / "out", [], [1.0], FAST, store(tmp_path))
    assert [(i.label, i.strength, i.settings.seed, i.settings.peaks, i.settings.iterations, i.settings.contour,
             i.settings.loudness, i.settings.random_phase)
            for i in plan.items] == [("r", 0.3, 4, "scale", 2, 0.4, "match", False),
                                     ("rain", 1.0, 0, "limit", 3, 0.0, -18.0, True)]
    assert [i.output.name for i in plan.items] == ["a.r.s0.3.wav", "b.rain.s1.wav"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"content": "in/a.wav", "colour": "red"}]))
    with pytest.raises(GramophoneError) as err:
        batch.plan([str(bad)], tmp_path / "out", [StyleChoice(preset="rain")], [1.0], FAST, store(tmp_path))
    assert err.value.code == "bad_manifest" and "colour" in str(err.value)


@pytest.mark.parametrize("rows,code", [
    ("in/a.wav,rain,../escape.wav\n", "forbidden_path"),
    ("in/a.wav,rain,/etc/escape.wav\n", "forbidden_path"),
    ("in/a.wav,rain,x.txt\n", "bad_output"),
    ("in/a.wav,rain,one.wav\nin/sub/b.wav,fire,one.wav\n", "duplicate_output"),
])
def test_dangerous_outputs_refuse_the_batch_before_any_work(tmp_path, library, capsys, rows, code):
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("content,preset,output\nin/sub/b.wav,rain,first.wav\n" + rows)
    assert main(["--preset-dir", str(tmp_path / "user"), "batch", str(manifest), "-o", str(tmp_path / "out"),
                 "--iterations", "2"]) == 2
    err = capsys.readouterr().err
    assert "error" in err and not (tmp_path / "out").exists()
    with pytest.raises(GramophoneError) as exc:
        batch.plan([str(manifest)], tmp_path / "out", [], [1.0], FAST, store(tmp_path))
    assert exc.value.code == code


def test_an_output_equal_to_a_content_file_is_refused(tmp_path, library):
    before = (library / "a.wav").read_bytes()
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("content,preset,output\nin/sub/b.wav,rain,a.wav\n")
    with pytest.raises(GramophoneError) as exc:  # -o is the input folder, and b's output would replace a.wav
        batch.plan([str(manifest), str(library / "a.wav")], library, [StyleChoice(preset="rain")], [1.0], FAST,
                   store(tmp_path))
    assert exc.value.code == "bad_output"
    assert (library / "a.wav").read_bytes() == before


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KB tmpfs (root only): room for one 1.5 s float WAV, not for two."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(tmp_path, library, small_disk):
    plan = batch.plan([str(library / "a.wav")], small_disk, [StyleChoice(preset="rain"), StyleChoice(preset="fire"),
                                                            StyleChoice(preset="wind")], [1.0], FAST, store(tmp_path))
    batch.run(plan, local(), progress_bar=False)
    statuses = [(i.status, i.code) for i in plan.items]
    assert ("done", "") in statuses and ("error", "disk_full") in statuses, statuses
    failed = [i for i in plan.items if i.status == "error"]
    assert all("no space left" in i.message for i in failed), [i.message for i in failed]
    for item in failed:
        assert not item.output.exists()
    assert leftovers(small_disk) == []
    for item in plan.items:
        if item.status == "done":
            assert read_audio(item.output)[0].shape[1] == int(1.5 * SR)


@pytest.mark.slow
def test_a_worker_killed_mid_render_is_recorded_and_the_rest_go_on(tmp_path, library):
    out = tmp_path / "out"
    plan = batch.plan([str(library)], out, [StyleChoice(preset="rain")], [1.0],
                      RenderSettings(iterations=400, device="cpu"), store(tmp_path))
    victim, pids, killed = plan.items[0], {}, []

    def watch(item, event, *args):  # kill the victim's worker once it is optimising
        if event == "started":
            pids[item.index] = args[0]
        elif item is victim and event == "progress" and args[0] > 0 and not killed:
            killed.append(pids[item.index])
            os.kill(pids[item.index], signal.SIGKILL)

    plan.items[1].settings = FAST  # the other one is quick
    batch.run(plan, local(), on_event=watch, progress_bar=False)
    assert (victim.status, victim.code) == ("error", "worker_died")
    assert plan.items[1].status == "done"
    assert not victim.output.exists() and leftovers(out) == []


@pytest.mark.slow
def test_ctrl_c_mid_batch_then_resume_gives_bit_identical_outputs(tmp_path, library):
    clips = tmp_path / "clips"
    clips.mkdir()
    for n in range(3):
        write_wav(clips / f"c{n}.wav", synth.plucked_melody(SR, 1.0 + 0.25 * n))
    command = [sys.executable, "-m", "gramophone", "--preset-dir", str(tmp_path / "user"), "batch", str(clips),
               "-o", str(tmp_path / "out"), "--preset", "rain", "--iterations", "15", "--seed", "7", "--jobs", "1",
               "--device", "cpu", "--no-progress",
               # one torch thread here and in the reference below: a render's last bits depend on the
               # thread count, and the default (auto) counts the cores other programs leave idle
               "--threads", "1"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # interrupt once the first output is recorded
        try:
            if any(r["status"] == "done" for r in records(tmp_path / "out")):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    first = {r["output"]: r["status"] for r in records(tmp_path / "out")}
    assert 1 <= list(first.values()).count("done") < 3, first
    assert leftovers(tmp_path / "out") == []

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    final = {r["output"]: r["status"] for r in records(tmp_path / "out")}
    assert all(final[k] == "skipped" for k, v in first.items() if v == "done")
    assert sorted(final.values()).count("done") == 3 - list(first.values()).count("done")

    reference = batch.plan([str(clips)], tmp_path / "ref", [StyleChoice(preset="rain")], [1.0],
                           RenderSettings(iterations=15, seed=7, device="cpu"), store(tmp_path))
    batch.run(reference, local(1, threads=1), progress_bar=False)
    for item in reference.items:  # the samples bit for bit (a float WAV's PEAK chunk holds a time stamp)
        resumed_audio, reference_audio = read_audio(tmp_path / "out" / item.output.name), read_audio(item.output)
        assert np.array_equal(resumed_audio[0], reference_audio[0]), item.output.name
