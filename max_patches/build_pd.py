"""Write the Pure Data (vanilla) client: pd/gramophone.pd, the abstraction, and
pd/gramophone-help.pd, its help patch, from readable descriptions.

    .venv/bin/python -m gramophone.clients.build_pd --out max_patches

Pd files number objects by their order; describing a patch by names here and numbering it on
output keeps the connections right (build_max.py describes the Max patches the same way). ``--out``
names the folder the files are written to, under its ``pd/`` (see generated.py);
tests/test_puredata_client.py checks the committed files are current.

The abstraction, ``[gramophone in-array out-array /absolute/work/folder]``:

* ``render PRESET [key value ...]`` writes in-array to ``<folder>/gramophone-<$0>-in.wav`` (float
  WAV, with ``soundfiler``), renders it, and reads the result into out-array (resized);
* ``render-file IN-PATH PRESET OUT-PATH [key value ...]`` renders a file into a file;
* ``cancel`` stops the last job; ``presets`` lists the server's presets;
  ``connect HOST PORT`` talks to a server elsewhere than ``localhost 7770``.

Its outlet gives ``queued N``, ``progress F``, ``take N COUNT PATH`` (with the option ``variations N``:
each take as it is written, ``OUT-v1.wav`` ...), ``done PATH`` (for ``render``: after out-array holds
the result, the first take's with variations), ``error CODE MESSAGE``, ``cancelled``, ``preset NAME`` (one per preset), then
``presets-end N``. The server's error text comes out as words (Pd would print one symbol with
escaped spaces). A request that gets no reply within 5 s gives ``error timeout ...``: the server
is not running, or not at that address. Replies come back to ``[netsend]``'s own socket (Pd 0.51+),
so no reply port is needed and several objects never mix up their replies.
"""
from __future__ import annotations

from .generated import main as write_main

TIMEOUT_MS = 5000

# name: (kind, text) -- kind is "obj", "msg" or "text" (a comment)
ABSTRACTION = [
    ("c1", "text", "gramophone: render array $1 through the Gramophone server into array $2 (work folder $3)"),
    ("c2", "text", "inlet: render PRESET [key value ...] / render-file IN-PATH PRESET OUT-PATH [key value ...] / "
                   "cancel / presets / connect HOST PORT"),
    ("c3", "text", "outlet: queued N / progress F / take N COUNT PATH / done PATH / error CODE MESSAGE / cancelled / "
                   "preset NAME / presets-end N"),
    ("in", "obj", "inlet"),
    ("route", "obj", "route render render-file cancel presets connect"),
    # render PRESET [opts]: keep the preset and options, write the input array to a file and, if
    # that wrote samples, send /gramophone/render id in preset out [opts]. Ids are $0*10000 + 1, 2, 3 ...: unique among the
    # objects of a Pd session, so that one object's cancel never stops another's job
    ("load_base", "obj", "f $0"),
    ("times_base", "obj", "* 10000"),
    ("t_render", "obj", "t b a b"),
    ("write_args", "obj", "list append $3/gramophone-$0-in.wav $1"),
    ("write_msg", "obj", "list prepend write -wave -bytes 4"),
    ("write_trim", "obj", "list trim"),
    ("sf_write", "obj", "soundfiler"),
    ("written", "obj", "sel 0"),
    ("write_failed", "msg", "error write_failed the input array is empty or could not be written to the work folder "
                            "(see the Pd window)"),
    ("split_preset", "obj", "list split 1"),
    ("preset", "obj", "symbol"),
    ("t_preset", "obj", "t b b"),
    ("counter", "obj", "f 1"),
    ("plus", "obj", "+ 1"),
    ("base", "obj", "+"),
    ("job_id", "obj", "f"),
    ("id_in", "obj", "list append $3/gramophone-$0-in.wav"),
    ("prepend_id", "obj", "list prepend"),
    ("append_out", "obj", "list append $3/gramophone-$0-out.wav"),
    ("append_opts", "obj", "list append"),
    # render-file IN PRESET OUT [opts]: ids -($0*10000 + 1, 2, 3 ...): negative, nothing to read back
    ("t_file", "obj", "t a b"),
    ("split_file", "obj", "list split 3"),
    ("t_file_args", "obj", "t a b"),
    ("file_counter", "obj", "f 1"),
    ("file_plus", "obj", "+ 1"),
    ("file_base", "obj", "+"),
    ("negate", "obj", "* -1"),
    ("file_prepend_id", "obj", "list prepend"),
    ("file_opts", "obj", "list append"),
    ("file_usage", "msg", "error bad_args render-file needs IN-PATH PRESET OUT-PATH"),
    ("fmt_render", "obj", "oscformat gramophone render"),
    # cancel, presets
    ("fmt_cancel", "obj", "oscformat gramophone cancel"),
    ("fmt_presets", "obj", "oscformat gramophone presets"),
    # connect HOST PORT, and at load: connect localhost 7770
    ("connect_msg", "obj", "list prepend connect"),
    ("connect_trim", "obj", "list trim"),
    ("t_connect", "obj", "t a b"),
    ("disconnect", "msg", "disconnect"),
    ("load", "obj", "loadbang"),
    ("default_connect", "msg", "connect localhost 7770"),
    # every request goes out here and starts the reply timer
    ("send_prepend", "obj", "list prepend send"),
    ("t_send", "obj", "t a b"),
    ("send_trim", "obj", "list trim"),
    ("netsend", "obj", "netsend -u -b"),
    ("timer", "obj", f"delay {TIMEOUT_MS}"),
    ("timeout_msg", "msg", f"error timeout no reply from the Gramophone server within {TIMEOUT_MS // 1000} s: "
                           "is gramophone serve running?"),
    # replies arrive on netsend's own socket (its right outlet); any reply stops the timer
    ("oscparse", "obj", "oscparse"),
    ("t_reply", "obj", "t a b"),
    ("stop", "msg", "stop"),
    ("parse_trim", "obj", "list trim"),
    ("route_ns", "obj", "route gramophone"),
    ("route_reply", "obj", "route queued progress done error cancelled preset presets take"),
    ("split_queued", "obj", "list split 1"),
    ("pre_queued", "obj", "list prepend queued"),
    ("split_progress", "obj", "list split 1"),
    ("pre_progress", "obj", "list prepend progress"),
    # done ID PATH SECONDS: an array job (id > 0) reads PATH into $2 before saying done
    ("split_done", "obj", "list split 1"),
    ("split_path", "obj", "list split 1"),
    ("path", "obj", "symbol"),
    ("is_array", "obj", "> 0"),
    ("t_kind", "obj", "t b f"),
    ("t_done", "obj", "t a a"),
    ("gate_read", "obj", "spigot"),
    ("read_msg", "obj", "list prepend read -resize"),
    ("read_arr", "obj", "list append $2"),
    ("read_trim", "obj", "list trim"),
    ("sf_read", "obj", "soundfiler"),
    ("pre_done", "obj", "list prepend done"),
    # error ID CODE MESSAGE: MESSAGE is one symbol; made words again (Pd would print it with
    # escaped spaces), by parsing its characters as Pd text (punctuation , and ; is dropped)
    ("split_error", "obj", "list split 1"),
    ("split_code", "obj", "list split 1"),
    ("t_words", "obj", "t b a b"),
    ("fromsymbol", "obj", "list fromsymbol"),
    ("fudiparse", "obj", "fudiparse"),
    ("pre_append", "obj", "list prepend append"),
    ("append_trim", "obj", "list trim"),
    ("words", "obj", "list store"),
    ("code_words", "obj", "list append"),
    ("pre_error", "obj", "list prepend error"),
    ("cancelled_msg", "msg", "cancelled"),
    ("split_preset_reply", "obj", "list split 1"),
    ("pre_preset", "obj", "list prepend preset"),
    ("route_end", "obj", "route end"),
    ("pre_end", "obj", "list prepend presets-end"),
    # take ID N COUNT PATH (variations N > 1): each take as it is written, before done
    ("split_take", "obj", "list split 1"),
    ("pre_take", "obj", "list prepend take"),
    ("out_trim", "obj", "list trim"),
    ("out", "obj", "outlet"),
]

ABSTRACTION_EDGES = [
    ("in", 0, "route", 0),
    # render
    ("route", 0, "t_render", 0),
    ("t_render", 2, "append_opts", 1),  # a bang clears the options left from the last render
    ("t_render", 1, "split_preset", 0),
    ("split_preset", 1, "append_opts", 1), ("split_preset", 0, "preset", 1),
    ("t_render", 0, "write_args", 0), ("write_args", 0, "write_msg", 0), ("write_msg", 0, "write_trim", 0),
    ("write_trim", 0, "sf_write", 0), ("sf_write", 0, "written", 0),
    ("written", 0, "write_failed", 0), ("write_failed", 0, "out_trim", 0),
    ("written", 1, "t_preset", 0),
    ("load", 0, "load_base", 0), ("load_base", 0, "times_base", 0),
    ("times_base", 0, "base", 1), ("times_base", 0, "file_base", 1),
    ("t_preset", 1, "counter", 0), ("counter", 0, "plus", 0), ("plus", 0, "counter", 1),
    ("counter", 0, "base", 0), ("base", 0, "job_id", 1), ("base", 0, "id_in", 0), ("id_in", 0, "prepend_id", 1),
    ("t_preset", 0, "preset", 0), ("preset", 0, "prepend_id", 0), ("prepend_id", 0, "append_out", 0), ("append_out", 0, "append_opts", 0),
    ("append_opts", 0, "fmt_render", 0),
    # render-file
    ("route", 1, "t_file", 0),
    ("t_file", 1, "file_opts", 1),
    ("t_file", 0, "split_file", 0),
    ("split_file", 1, "file_opts", 1),
    ("split_file", 2, "file_usage", 0), ("file_usage", 0, "out_trim", 0),
    ("split_file", 0, "t_file_args", 0),
    ("t_file_args", 1, "file_counter", 0), ("file_counter", 0, "file_plus", 0),
    ("file_plus", 0, "file_counter", 1), ("file_counter", 0, "file_base", 0), ("file_base", 0, "negate", 0),
    ("negate", 0, "job_id", 1), ("negate", 0, "file_prepend_id", 1),
    ("t_file_args", 0, "file_prepend_id", 0), ("file_prepend_id", 0, "file_opts", 0),
    ("file_opts", 0, "fmt_render", 0),
    ("fmt_render", 0, "send_prepend", 0),
    # cancel, presets
    ("route", 2, "job_id", 0), ("job_id", 0, "fmt_cancel", 0), ("fmt_cancel", 0, "send_prepend", 0),
    ("route", 3, "fmt_presets", 0), ("fmt_presets", 0, "send_prepend", 0),
    # connect
    ("route", 4, "connect_msg", 0), ("connect_msg", 0, "connect_trim", 0), ("connect_trim", 0, "t_connect", 0),
    ("t_connect", 1, "disconnect", 0), ("disconnect", 0, "netsend", 0), ("t_connect", 0, "netsend", 0),
    ("load", 0, "default_connect", 0), ("default_connect", 0, "netsend", 0),
    # sending, with the reply timer
    ("send_prepend", 0, "t_send", 0), ("t_send", 1, "timer", 0), ("t_send", 0, "send_trim", 0),
    ("send_trim", 0, "netsend", 0),
    ("timer", 0, "timeout_msg", 0), ("timeout_msg", 0, "out_trim", 0),
    # replies
    ("netsend", 1, "oscparse", 0), ("oscparse", 0, "t_reply", 0),
    ("t_reply", 1, "stop", 0), ("stop", 0, "timer", 0),
    ("t_reply", 0, "parse_trim", 0), ("parse_trim", 0, "route_ns", 0), ("route_ns", 0, "route_reply", 0),
    ("route_reply", 0, "split_queued", 0), ("split_queued", 1, "pre_queued", 0), ("pre_queued", 0, "out_trim", 0),
    ("route_reply", 1, "split_progress", 0), ("split_progress", 1, "pre_progress", 0),
    ("pre_progress", 0, "out_trim", 0),
    ("route_reply", 2, "split_done", 0),
    ("split_done", 1, "split_path", 0), ("split_path", 0, "path", 1),  # the path first (right to left)
    ("split_done", 0, "is_array", 0), ("is_array", 0, "t_kind", 0),
    ("t_kind", 1, "gate_read", 1), ("t_kind", 0, "path", 0), ("path", 0, "t_done", 0),
    ("t_done", 1, "gate_read", 0), ("gate_read", 0, "read_msg", 0), ("read_msg", 0, "read_arr", 0),
    ("read_arr", 0, "read_trim", 0), ("read_trim", 0, "sf_read", 0),
    ("t_done", 0, "pre_done", 0), ("pre_done", 0, "out_trim", 0),
    ("route_reply", 3, "split_error", 0), ("split_error", 1, "split_code", 0),
    ("split_code", 1, "t_words", 0),  # the message first (right to left), then the code
    ("t_words", 2, "words", 1), ("t_words", 1, "fromsymbol", 0), ("fromsymbol", 0, "fudiparse", 0),
    ("fudiparse", 0, "pre_append", 0), ("pre_append", 0, "append_trim", 0), ("append_trim", 0, "words", 0),
    ("t_words", 0, "words", 0), ("words", 0, "code_words", 1),
    ("split_code", 0, "code_words", 0), ("code_words", 0, "pre_error", 0), ("pre_error", 0, "out_trim", 0),
    ("route_reply", 4, "cancelled_msg", 0), ("cancelled_msg", 0, "out_trim", 0),
    ("route_reply", 5, "split_preset_reply", 0), ("split_preset_reply", 0, "pre_preset", 0),
    ("pre_preset", 0, "out_trim", 0),
    ("route_reply", 6, "route_end", 0), ("route_end", 0, "pre_end", 0), ("pre_end", 0, "out_trim", 0),
    ("route_reply", 7, "split_take", 0), ("split_take", 1, "pre_take", 0), ("pre_take", 0, "out_trim", 0),
    ("out_trim", 0, "out", 0),
]

# The help patch: (name, kind, x, y, text), laid out for reading; its numbered comments are the
# README's five steps.
HELP = [
    ("title", "text", 20, 15, "[gramophone] - render a Pd array in the style of a Gramophone preset"),
    ("step1", "text", 20, 45, "1 start the server in a terminal: .venv/bin/gramophone serve"),
    ("step2", "text", 20, 75, "2 load a sound into array src (click the bang and pick a file)"),
    ("open", "obj", 20, 100, "bng 19 250 50 0 empty empty empty 0 -10 0 12 -262144 -1 -1"),
    ("openpanel", "obj", 20, 125, "openpanel"),
    ("read", "msg", 20, 150, "read -resize $1 src"),
    ("sf", "obj", 20, 175, "soundfiler"),
    ("src", "obj", 250, 100, "table src"),
    ("dst", "obj", 250, 125, "table dst"),
    ("step3", "text", 20, 210, "3 send it a render message (options: strength iterations seed domain optimiser peaks "
                               "variations vary blend_to blend)"),
    ("render", "msg", 20, 235, "render rain"),
    ("render_opts", "msg", 120, 235, "render fire strength 0.7 iterations 20"),
    ("cancel", "msg", 420, 235, "cancel"),
    ("presets", "msg", 20, 265, "presets"),
    ("render_file", "msg", 100, 265, "render-file /tmp/in.wav rain /tmp/in-rain.wav"),
    ("connect", "msg", 420, 265, "connect localhost 7770"),
    ("render_swell", "msg", 100, 450, "render-file /tmp/in.wav rain /tmp/in-swell.wav strength 0:0/2:1 variations 2"),
    ("swell_doc", "text", 100, 470, "strength over time: seconds:value points joined by / (a comma would end the "
                                    "message); variations 2: two takes /tmp/in-swell-v1.wav and -v2.wav, each "
                                    "announced as take N COUNT PATH, then done names the first"),
    ("step4", "text", 20, 300, "4 the object: array in, array out, work folder (absolute: the server needs full paths)"),
    ("gramophone", "obj", 20, 325, "gramophone src dst /tmp"),
    ("print", "obj", 20, 360, "print gramophone"),
    ("step5", "text", 20, 395, "5 on done, dst holds the result: play it (audio on first)"),
    ("route_done", "obj", 460, 360, "route done"),
    ("t_play", "obj", 460, 385, "t b"),
    ("play", "obj", 460, 410, "tabplay~ dst"),
    ("dac", "obj", 460, 440, "dac~"),
    ("dsp_on", "msg", 20, 420, "; pd dsp 1"),
    ("outlet_doc", "text", 20, 520, "outlet: queued N / progress F / take N COUNT PATH / done PATH / error CODE "
                                    "MESSAGE / cancelled / preset NAME / presets-end N"),
    ("errors_doc", "text", 20, 550, "errors arrive as messages: error no_preset ... / error forbidden_path ... / "
                                    "error timeout ... (no server answered within 5 s)"),
    ("limits_doc", "text", 20, 580, "one array render at a time per object (the next one overwrites its input "
                                    "file). The work folder must not contain spaces"),
]

HELP_EDGES = [
    ("open", 0, "openpanel", 0), ("openpanel", 0, "read", 0), ("read", 0, "sf", 0),
    ("render", 0, "gramophone", 0), ("render_opts", 0, "gramophone", 0), ("cancel", 0, "gramophone", 0),
    ("presets", 0, "gramophone", 0), ("render_file", 0, "gramophone", 0), ("connect", 0, "gramophone", 0),
    ("render_swell", 0, "gramophone", 0),
    ("gramophone", 0, "print", 0), ("gramophone", 0, "route_done", 0),
    ("route_done", 0, "t_play", 0), ("t_play", 0, "play", 0), ("play", 0, "dac", 0), ("play", 0, "dac", 1),
]


def escape(text: str) -> str:
    """Pd file syntax: $, commas and semicolons are escaped."""
    return text.replace("$", "\\$").replace(",", " \\,").replace(";", "\\;")


def _patch(header: str, nodes: list[tuple[str, str, int, int, str]], edges: list[tuple[str, int, str, int]]) -> str:
    index = {node[0]: i for i, node in enumerate(nodes)}
    lines = [header]
    lines += [f"#X {kind} {x} {y} {escape(text)};" for _, kind, x, y, text in nodes]
    lines += [f"#X connect {index[a]} {outlet} {index[b]} {inlet};" for a, outlet, b, inlet in edges]
    return "\n".join(lines) + "\n"


def abstraction() -> str:
    placed = [(name, kind, 20 + 300 * (i % 3), 20 + 36 * (i // 3) + (i % 3) * 6, text)
              for i, (name, kind, text) in enumerate(ABSTRACTION)]
    return _patch("#N canvas 40 40 900 1100 12;", placed, ABSTRACTION_EDGES)


def help_patch() -> str:
    return _patch("#N canvas 40 40 720 640 12;", HELP, HELP_EDGES)


FILES = {"gramophone.pd": abstraction, "gramophone-help.pd": help_patch}


def files() -> dict[str, bytes]:
    """Every file this generator owns, by path relative to the clients folder (max_patches/)."""
    return {f"pd/{name}": build().encode() for name, build in FILES.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m gramophone.clients.build_pd --out DIR``: write files() under DIR."""
    return write_main(files, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
