"""Soak benchmark (issue #24 item 3): many renders of short clips through one running
`gramophone serve`, from several clients at once, with cancels and bad requests mixed in.

Each client sends one request at a time and waits for its answer: about 1 in 10 is a bad request
(a missing file, a relative path, an unknown preset, a bad value, an unknown address), about 1 in
10 a render cancelled shortly after it was sent, the rest plain renders. Meanwhile a sampler
reads the server's and its workers' resident memory, open file descriptors and threads from
/proc, and a pinger (a process of its own) measures the ping round trip throughout, both as
the pinger reads the pong and to the pong's arrival in its socket (the kernel's timestamp: the
server's part, without the pinger's own wait for a core). Phases: ``idle`` (pings only: what the
machine's own load costs a ping), ``alone``, and ``competing`` (CPU-bound processes, one per
core by default, at the server's priority, each in a session of its own as a program started
elsewhere is). At the end of each: every request
answered, no partial output or staging folder left, every ``done`` output whole.

``--variant`` runs the server with one of its latency measures undone (bench/serve_variant.py),
which also times each ping inside the server and its garbage collections.

    .venv/bin/python -m bench.soak                   # idle pings, then 500 requests alone and competing
    .venv/bin/python -m bench.soak --renders 200 --phases alone
    .venv/bin/python -m bench.soak --renders 30 --window 10 --phases idle alone --variant before
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench.common import save_json
from bench.serve_variant import VARIANTS
from gramophone.bridge.osc_client import Client, encode, free_port
from gramophone.engine import synth
from gramophone.engine.audio_io import probe_audio, write_audio

ROOT = Path(__file__).resolve().parents[1]
#: Linux's SO_TIMESTAMPNS (Python's socket module names it from 3.13 on); a 64-bit timespec follows
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
FINAL = ("/gramophone/done", "/gramophone/error", "/gramophone/cancelled")


@dataclass
class Sample:
    completed: int
    server_rss_mb: float
    worker_rss_mb: float
    fds: int
    threads: int
    worker_fds: int
    worker_threads: int


@dataclass
class Phase:
    name: str
    outcomes: dict[str, int] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    pings: list[float] = field(default_factory=list)
    lost_pings: int = 0
    arrivals: list[float] = field(default_factory=list)
    seconds: float = 0.0


# ---- /proc ------------------------------------------------------------------------------
def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":", 1) for line in f if ":" in line)


def workers_of(pid: int) -> list[int]:
    """The server's render workers: its children started by multiprocessing's spawn."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"spawn_main" in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def sample(pid: int, completed: int) -> Optional[Sample]:
    try:
        s = _status(pid)
        worker_rss = worker_fds = worker_threads = 0.0
        for w in workers_of(pid):
            try:
                ws = _status(w)
                worker_rss += int(ws["VmRSS"].split()[0]) / 1024
                worker_threads += int(ws["Threads"])
                worker_fds += len(os.listdir(f"/proc/{w}/fd"))
            except (OSError, KeyError):
                continue  # it was just replaced
        return Sample(completed, int(s["VmRSS"].split()[0]) / 1024, worker_rss, len(os.listdir(f"/proc/{pid}/fd")),
                      int(s["Threads"]), int(worker_fds), int(worker_threads))
    except (OSError, KeyError):
        return None


# ---- the load ---------------------------------------------------------------------------
class Soak:
    def __init__(self, server: tuple[str, int], pid: int, folder: Path, clip: Path, renders: int, clients: int,
                 iterations: int, seed: int, window: int = 100) -> None:
        self.server, self.pid, self.folder, self.clip = server, pid, folder, clip
        self.renders, self.clients, self.iterations = renders, clients, iterations
        self.window = window  # renders compared at the start and the end
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.issued = self.completed = 0
        self.done_outputs: list[Path] = []
        self.stop = threading.Event()
        self.pinger_realtime = False

    def run(self, phase: Phase) -> Phase:
        started = time.monotonic()
        threads = [threading.Thread(target=self._client, args=(i, phase), daemon=True) for i in range(self.clients)]
        threads.append(threading.Thread(target=self._sampler, args=(phase,), daemon=True))
        # The pinger is a process of its own: in this one it would wait for the GIL behind the
        # clients and the sampler, and measure this process rather than the server.
        ctx = mp.get_context("spawn")
        results, sender = ctx.Pipe(duplex=False)
        stop = ctx.Event()
        pinger = ctx.Process(target=ping_loop, args=(self.server, stop, sender, 0.02, self.pinger_realtime),
                             daemon=True)
        pinger.start()
        for t in threads:
            t.start()
        for t in threads[:self.clients]:
            while t.is_alive():  # in steps, so that Ctrl-C reaches this thread
                t.join(0.5)
        self.stop.set()
        stop.set()
        phase.pings, phase.lost_pings, phase.arrivals = results.recv()
        pinger.join(10)
        for t in threads[self.clients:]:
            t.join()
        phase.seconds = time.monotonic() - started
        return phase

    def _next(self) -> Optional[tuple[int, str]]:
        with self.lock:
            if self.issued >= self.renders:
                return None
            self.issued += 1
            roll = self.rng.random()
            return self.issued, "bad" if roll < 0.1 else "cancel" if roll < 0.2 else "render"

    def _client(self, index: int, phase: Phase) -> None:
        client = Client(self.server)
        try:
            while (job := self._next()) is not None:
                number, kind = job
                job_id = f"{phase.name}-{number}"
                outcome = self._request(client, job_id, kind)
                with self.lock:
                    self.completed += 1
                    key = f"{kind}:{outcome}"
                    phase.outcomes[key] = phase.outcomes.get(key, 0) + 1
                    if outcome == "unanswered":
                        phase.unanswered.append(job_id)
        finally:
            client.close()

    def _request(self, client: Client, job_id: str, kind: str) -> str:
        client.received.clear()
        out = self.folder / f"{job_id}.wav"
        if kind == "bad":
            return self._bad(client, job_id)
        client.send("/gramophone/render", job_id, str(self.clip), "rain", str(out), "iterations", self.iterations)
        if kind == "cancel":
            time.sleep(self.rng.uniform(0.0, 0.3))
            client.send("/gramophone/cancel", job_id)
        final = self._final(client, job_id)
        if final is None:
            return "unanswered"
        if kind == "cancel" and final[0] != "/gramophone/cancelled":  # it ended first: the cancel is refused
            try:
                client.wait(lambda rs: any(a == "/gramophone/error" and p[:2] == [job_id, "unknown_job"]
                                           for a, p in rs), timeout=30)
            except TimeoutError:
                return "unanswered"
        if final[0] == "/gramophone/done":
            with self.lock:
                self.done_outputs.append(out)
        return final[0].rsplit("/", 1)[1] + (f" {final[1][1]}" if final[0] == "/gramophone/error" else "")

    def _final(self, client: Client, job_id: str, timeout: float = 900.0) -> Optional[tuple[str, list]]:
        """The job's final reply; a generous wait, as renders behind CPU-bound competitors take
        20-40 s each here (at 120 s, clients gave up on queued jobs and filled the queue)."""
        try:
            rs = client.wait(lambda rs: any(a in FINAL and p[:1] == [job_id] for a, p in rs), timeout=timeout)
        except TimeoutError:
            return None
        return next((a, p) for a, p in rs if a in FINAL and p[:1] == [job_id])

    def _bad(self, client: Client, job_id: str) -> str:
        clip, out = str(self.clip), str(self.folder / f"{job_id}.wav")
        choice = self.rng.randrange(5)
        if choice == 4:  # no job id to answer with: the error names the address
            client.send("/gramophone/nowhere", job_id)
            job_id = "/gramophone/nowhere"
        else:
            args = [(str(self.folder / "missing.wav"), "rain", out), ("relative.wav", "rain", out),
                    (clip, "no-such-preset", out), (clip, "rain", out, "strength", 7.0)][choice]
            client.send("/gramophone/render", job_id, *args)
        final = self._final(client, job_id, timeout=30)
        return "unanswered" if final is None else f"error {final[1][1]}"

    def _sampler(self, phase: Phase) -> None:
        while not self.stop.is_set():
            s = sample(self.pid, self.completed)
            if s is not None:
                phase.samples.append(s)
            self.stop.wait(0.5)



def idle_pings(server: tuple[str, int], seconds: float, pinger_realtime: bool = False) -> dict[str, Any]:
    """Round trips to the server doing nothing else: what the machine's own load costs a ping."""
    ctx = mp.get_context("spawn")
    results, sender = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    pinger = ctx.Process(target=ping_loop, args=(server, stop, sender, 0.02, pinger_realtime), daemon=True)
    pinger.start()
    time.sleep(seconds)
    stop.set()
    pings, lost, arrivals = results.recv()
    pinger.join(10)
    return {"phase": "idle", "seconds": seconds, "ping_ms": ping_figures(pings, lost),
            "arrival_ms": ping_figures(arrivals, 0),
            "load": [round(x, 2) for x in os.getloadavg()]}


def ping_figures(pings: list[float], lost: int) -> dict[str, float]:
    ms = sorted(p * 1000 for p in pings)
    pct = (lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]) if ms else (lambda q: float("nan"))
    return {"n": len(ms), "lost": lost, "p50": pct(0.5), "p99": pct(0.99), "max": ms[-1] if ms else float("nan")}


def ping_loop(server: tuple[str, int], stop: Any, results: Any, every: float = 0.02, realtime: bool = False) -> None:
    """Ping ``server`` every ``every`` seconds until ``stop`` is set; send back ``(round trips,
    lost, arrivals)``. A round trip runs from just before the ping is sent to when this process
    reads the pong; an *arrival* stops the clock when the kernel put the pong in this process's
    socket (``SO_TIMESTAMPNS``), so it leaves out the pinger's own wait for a core: what the
    server and the network took. Like a host's scheduler thread, the pinger asks for a short time
    slice (:func:`bridge.responsiveness.request_short_slice`), as the server's socket thread does;
    ``realtime``: it runs at the server's real-time priority, as a host's audio-group scheduler
    does (``pd -rt``; JACK clients), so that a round trip as read leaves out its wait for a core."""
    from gramophone.bridge.responsiveness import request_realtime, request_short_slice

    request_short_slice()
    if realtime and not request_realtime():
        raise SystemExit("--pinger-realtime: this user may not use real-time priority")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stamped = SO_TIMESTAMPNS is not None
    if stamped:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    ping = encode("/gramophone/ping")
    pings: list[float] = []
    arrivals: list[float] = []
    lost = 0
    try:
        while not stop.is_set():
            sent_wall, t = time.time_ns(), time.perf_counter()
            sock.sendto(ping, server)
            deadline = t + 1.0
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    lost += 1
                    break
                sock.settimeout(left)
                try:
                    data, ancillary, _, _ = sock.recvmsg(65_536, socket.CMSG_SPACE(16))
                except socket.timeout:
                    continue
                if b"/gramophone/pong" not in data[:20]:
                    continue
                pings.append(time.perf_counter() - t)
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", value[:16])
                        arrivals.append((sec * 1_000_000_000 + nsec - sent_wall) / 1e9)
                break
            stop.wait(every)
    finally:
        sock.close()
        results.send((pings, lost, arrivals))


# ---- the run ----------------------------------------------------------------------------
def start_server(folder: Path, extra: list[str], variant: str = "") -> tuple[subprocess.Popen, tuple[str, int]]:
    """``gramophone serve`` on a free port (through :mod:`bench.serve_variant` when ``variant`` is given)."""
    port = free_port()
    log = open(folder / "server.log", "w")
    command = ["-m", "bench.serve_variant", variant] if variant else ["-m", "gramophone"]
    proc = subprocess.Popen([sys.executable, *command, "--preset-dir", str(folder / "user"), "serve",
                             "--port", str(port), "--reply-port", "0", "--allow-dir", str(folder), *extra],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    client = Client(("127.0.0.1", port))
    try:
        for _ in range(600):
            try:
                client.request("/gramophone/ping", reply="/gramophone/pong", timeout=0.5)
                return proc, ("127.0.0.1", port)
            except TimeoutError:
                if proc.poll() is not None:
                    break
        raise SystemExit(f"the server did not start; see {folder / 'server.log'}")
    finally:
        client.close()


def warm_up(server: tuple[str, int], clip: Path, folder: Path, iterations: int) -> None:
    """Two renders before counting, so the worker has loaded torch and the preset."""
    client = Client(server)
    try:
        for i in range(2):
            client.send("/gramophone/render", f"warm{i}", str(clip), "rain", str(folder / f"warm{i}.wav"),
                        "iterations", iterations)
            client.wait_for("/gramophone/done", timeout=300, first=f"warm{i}")
    finally:
        client.close()


def competitors(count: int, own_session: bool = True) -> list[subprocess.Popen]:
    """CPU-bound processes at the server's own priority (a DAW, a build, another render): in a
    session of their own, as a program started elsewhere is (Linux schedules sessions as groups),
    or in the server's."""
    spin = f"import os\nwhile os.getppid() == {os.getpid()}: pass"  # CPU-bound; ends with the bench, even killed
    return [subprocess.Popen([sys.executable, "-c", spin], start_new_session=own_session) for _ in range(count)]


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".gramophone-tmp") or ".part" in p.name]


def summary(phase: Phase, soak: Soak) -> dict[str, Any]:
    def window(first: bool) -> list[Sample]:
        return [s for s in phase.samples
                if (s.completed < soak.window if first else s.completed >= soak.renders - soak.window)]

    def median(rows: list[Sample], key: str) -> float:
        return statistics.median(getattr(s, key) for s in rows) if rows else float("nan")

    first, last = window(True), window(False)
    keys = ("server_rss_mb", "worker_rss_mb", "fds", "threads", "worker_fds", "worker_threads")
    broken = []
    for out in soak.done_outputs:
        try:
            probe_audio(out)
        except Exception as exc:  # noqa: BLE001 - any failure to read a finished output is a finding
            broken.append(f"{out.name}: {exc}")
    return {
        "phase": phase.name, "renders": soak.renders, "clients": soak.clients, "seconds": round(phase.seconds, 1),
        "outcomes": dict(sorted(phase.outcomes.items())), "unanswered": phase.unanswered,
        "window": soak.window, "first": {k: median(first, k) for k in keys}, "last": {k: median(last, k) for k in keys},
        "max": {k: max((getattr(s, k) for s in phase.samples), default=float("nan")) for k in keys},
        "ping_ms": ping_figures(phase.pings, phase.lost_pings), "arrival_ms": ping_figures(phase.arrivals, 0),
        "leftovers": leftovers(soak.folder), "broken_outputs": broken, "load": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict[str, Any]) -> str:
    p, k = r["ping_ms"], r["arrival_ms"]
    pings = (f"  ping: {p['n']} answered, {p['lost']} lost; p50 {p['p50']:.2f} ms, p99 {p['p99']:.2f} ms, "
             f"max {p['max']:.1f} ms (to the pong's arrival: p50 {k['p50']:.2f}, p99 {k['p99']:.2f}, "
             f"max {k['max']:.1f} ms)")
    if r["phase"] == "idle":
        return f"[idle] {r['seconds']} s of pings, no requests, load {r['load']}\n{pings}"
    a, b = r["first"], r["last"]
    ratio = lambda k: b[k] / a[k] if a[k] else float("nan")  # noqa: E731
    return "\n".join([
        f"[{r['phase']}] {r['renders']} requests from {r['clients']} clients in {r['seconds']} s, load {r['load']}",
        "  outcomes: " + ", ".join(f"{k} {v}" for k, v in r["outcomes"].items()),
        f"  unanswered: {len(r['unanswered'])}; partial files left: {len(r['leftovers'])}; "
        f"unreadable outputs: {len(r['broken_outputs'])}",
        f"  first -> last {r['window']} requests (medians of samples every 0.5 s):\n"
        f"  server RSS {a['server_rss_mb']:.1f} -> {b['server_rss_mb']:.1f} MB (x{ratio('server_rss_mb'):.3f}); "
        f"workers' RSS {a['worker_rss_mb']:.1f} -> {b['worker_rss_mb']:.1f} MB (x{ratio('worker_rss_mb'):.3f})",
        f"  server fds {a['fds']:.0f} -> {b['fds']:.0f} (max {r['max']['fds']}), threads {a['threads']:.0f} -> "
        f"{b['threads']:.0f} (max {r['max']['threads']}); workers' fds {a['worker_fds']:.0f} -> "
        f"{b['worker_fds']:.0f}, threads {a['worker_threads']:.0f} -> {b['worker_threads']:.0f}",
        pings,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=500, help="requests per phase (default %(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="clients sending at once (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of the clip (default %(default)s)")
    parser.add_argument("--iterations", type=int, default=5, help="optimiser iterations (default %(default)s)")
    parser.add_argument("--window", type=int, default=100,
                        help="renders compared at the start and the end (default %(default)s)")
    parser.add_argument("--phases", nargs="+", default=["idle", "alone", "competing"],
                        choices=["idle", "alone", "competing"])
    parser.add_argument("--idle-seconds", type=float, default=30.0,
                        help="idle phase: seconds of pings with no requests (default %(default)s)")
    parser.add_argument("--competitors", type=int, default=os.cpu_count() or 1,
                        help="CPU-bound processes in the competing phase (default: one per core)")
    parser.add_argument("--competitor-session", choices=["own", "server"], default="own",
                        help="the competitors' session: their own, like a program started elsewhere (default), "
                             "or the server's (Linux's autogroups then schedule them in one group with it)")
    parser.add_argument("--variant", default="", help="run the server with one latency suspect changed "
                        "(bench/serve_variant.py: " + ", ".join(VARIANTS) + ")")
    parser.add_argument("--pinger-realtime", action="store_true",
                        help="the pinger at real-time priority, as a host's scheduler thread in the audio group "
                             "(pd -rt): its round trips as read then leave out its own wait for a core")
    parser.add_argument("--serve", nargs=argparse.REMAINDER, default=[], help="extra `serve` options, last")
    args = parser.parse_args()
    if args.renders < 2 * args.window:
        parser.error(f"--renders must be at least twice --window ({args.window}: the first and last are compared)")

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = write_audio(folder / "clip.wav", synth.plucked_melody(22_050, args.seconds), 22_050)
        proc, server = start_server(folder, args.serve, args.variant)
        try:
            warm_up(server, clip, folder, args.iterations)
            for name in args.phases:
                if name == "idle":
                    results.append(idle_pings(server, args.idle_seconds, args.pinger_realtime))
                    print(report(results[-1]), flush=True)
                    continue
                rivals = competitors(args.competitors, args.competitor_session == "own") if name == "competing" else []
                try:
                    soak = Soak(server, proc.pid, folder, clip, args.renders, args.clients, args.iterations,
                                seed=len(results), window=args.window)
                    soak.pinger_realtime = args.pinger_realtime
                    results.append(summary(soak.run(Phase(name)), soak))
                finally:
                    for r in rivals:
                        r.kill()
                        r.wait()
                print(report(results[-1]), flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
            gc_lines = [line for line in (folder / "server.log").read_text().splitlines() if line.startswith("server [")]
            for line in gc_lines:
                print(line)
            if results:
                results[-1]["server_gc"] = gc_lines
    name = "soak-" + "-".join(args.phases) + (f"-{args.variant}" if args.variant else "") + \
        ("-rt-pinger" if args.pinger_realtime else "") + ".json"
    print(f"saved {save_json(name, {'args': vars(args), 'phases': results})}")


if __name__ == "__main__":
    main()
