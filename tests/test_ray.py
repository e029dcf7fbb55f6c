"""The same batch on a real local Ray cluster (2 CPUs) as on local workers: a task that fails,
one whose worker is killed, shipped audio, and the summary equal to the local run's."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.external  # starts a local Ray cluster

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install gramophone[ray]; "
                                        "scripts/bootstrap.sh installs it)")

from gramophone.bridge import batch
from gramophone.bridge.ray_backend import RayBackend
from gramophone.bridge.workers import LocalWorkers
from gramophone.engine import RenderSettings, synth
from gramophone.engine.audio_io import read_audio
from gramophone.engine.preset_store import PresetStore, default_shipped_dir

from helpers import SR, write_wav

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster for the module: 2 CPUs, no dashboard."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def manifest(tmp_path):
    """Four renders: two fine, one whose clip holds NaN (fails inside the task), one to be killed."""
    (tmp_path / "in").mkdir()
    write_wav(tmp_path / "in" / "a.wav", synth.plucked_melody(SR, 1.0))
    write_wav(tmp_path / "in" / "b.wav", synth.plucked_melody(SR, 1.5))
    write_wav(tmp_path / "in" / "nan.wav", np.full((1, SR), np.nan, np.float32))
    path = tmp_path / "jobs.csv"
    path.write_text("content,preset,strength,iterations,output\n"
                    "in/a.wav,rain,1,2,a.wav\n"
                    "in/b.wav,fire,0.5,2,sub/b.wav\n"
                    "in/nan.wav,rain,1,2,nan.wav\n"
                    "in/b.wav,rain,1,5000,killed.wav\n")
    return path


def run(manifest, out, backend):
    plan = batch.plan([str(manifest)], out, [], [1.0], RenderSettings(device="cpu"),
                      PresetStore(out.parent / "user", default_shipped_dir()))
    pids, killed = {}, []

    def kill_the_long_one(item, event, *args):
        if event == "started":
            pids[item.index] = args[0]
        elif item.output.name == "killed.wav" and event == "progress" and args[0] > 0 and not killed:
            killed.append(pids[item.index])
            os.kill(pids[item.index], signal.SIGKILL)

    batch.run(plan, backend, on_event=kill_the_long_one, progress_bar=False)
    assert killed, "the long render was never seen running"
    return plan


def outcome(plan):
    return [(str(i.output.relative_to(plan.out_dir)), i.status, i.code) for i in plan.items]


def test_a_batch_on_ray_matches_the_local_run(cluster, manifest, tmp_path):
    local = run(manifest, tmp_path / "local", lambda emit: LocalWorkers(emit, jobs=2))
    on_ray = run(manifest, tmp_path / "ray", lambda emit: RayBackend(emit, cluster))
    assert outcome(on_ray) == outcome(local) == [
        ("a.wav", "done", ""), ("sub/b.wav", "done", ""), ("nan.wav", "error", "bad_samples"),
        ("killed.wav", "error", "worker_died")]
    for name in ("a.wav", "sub/b.wav"):
        assert np.array_equal(read_audio(tmp_path / "ray" / name)[0], read_audio(tmp_path / "local" / name)[0])
    saved = json.loads((tmp_path / "ray" / "batch.json").read_text())["items"]
    assert [(r["output"], r["status"]) for r in saved] == [(o, s) for o, s, _ in outcome(local)]
    assert not [p for p in (tmp_path / "ray").rglob("*") if ".part" in p.name or "gramophone-tmp" in p.name]


def test_shipped_audio_and_the_command_line(cluster, tmp_path):
    (tmp_path / "in").mkdir()
    write_wav(tmp_path / "in" / "a.wav", synth.plucked_melody(SR, 1.0))
    proc = subprocess.run([sys.executable, "-m", "gramophone", "--preset-dir", str(tmp_path / "user"), "batch",
                           str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--preset", "rain", "--preset", "fire",
                           "--iterations", "2", "--device", "cpu", "--ray", cluster, "--ship-audio", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "2 done" in proc.stdout
    for name in ("a.rain.s1.wav", "a.fire.s1.wav"):
        data, sr = read_audio(tmp_path / "out" / name)
        assert sr == SR and data.shape == (1, SR)


def test_a_style_blend_on_ray_matches_the_local_render(cluster, tmp_path):
    """A blend from rain into fire: on Ray the second style travels through the object store as
    the first does (no preset file read on the worker), and the render is the local one's, bit
    for bit at the same number of threads (the threads change the last bits; bridge/threads.py)."""
    (tmp_path / "in").mkdir()
    write_wav(tmp_path / "in" / "a.wav", synth.plucked_melody(SR, 2.0))
    path = tmp_path / "jobs.csv"
    path.write_text('content,preset,blend_to,blend,iterations,output\nin/a.wav,rain,fire,"0:0, 2:1",2,a.wav\n')
    outputs = {}
    for name, backend in (("local", lambda emit: LocalWorkers(emit, jobs=1, threads=1)),
                          ("ray", lambda emit: RayBackend(emit, cluster, threads=1))):
        out = tmp_path / name
        plan = batch.plan([str(path)], out, [], [1.0], RenderSettings(device="cpu"),
                          PresetStore(tmp_path / "user", default_shipped_dir()))
        batch.run(plan, backend, progress_bar=False)
        assert [i.status for i in plan.items] == ["done"], [(i.status, i.code) for i in plan.items]
        outputs[name] = read_audio(out / "a.wav")[0]
    # With auto threads the local render took one or two threads by the machine's load and the
    # Ray task one (its cpus_per_job), and they came out 1e-6 to 1.4e-5 apart.
    assert np.array_equal(outputs["ray"], outputs["local"])
    assert float(np.abs(outputs["ray"]).max()) > 0.01
