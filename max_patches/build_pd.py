"""Write gramophone.pd, the Pure Data (vanilla) client abstraction, from a readable description.

    .venv/bin/python -m gramophone.clients.build_pd

Pd files number objects by their order; describing the patch by names here and numbering it
on output keeps the connections right. tests/test_host_clients.py checks the file is current.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (kind, text) -- kind is "obj", "msg" or "text" (a comment)
NODES = [
    ("c1", "text", "gramophone: render array $1 through the Gramophone server into array $2"),
    ("c2", "text", "args: in-array out-array work-folder(absolute) reply-port. inlet: render PRESET [key value ...] / cancel / connect HOST PORT"),
    ("c3", "text", "outlet: queued N / progress F / done PATH / error CODE MESSAGE / cancelled"),
    ("in", "obj", "inlet"),
    ("route", "obj", "route render cancel connect"),
    # render: write the input array to a file, then send /gramophone/render id in preset out [opts]
    ("t_render", "obj", "t a b b"),
    ("write_args", "obj", "list append $3/gramophone-$0-in.wav $1"),
    ("write_msg", "obj", "list prepend write -wave -bytes 4"),
    ("write_trim", "obj", "list trim"),
    ("sf_write", "obj", "soundfiler"),
    ("split_preset", "obj", "list split 1"),
    ("t_preset", "obj", "t a b"),
    ("counter", "obj", "f 1"),
    ("plus", "obj", "+ 1"),
    ("job_id", "obj", "f"),
    ("id_in", "obj", "list append $3/gramophone-$0-in.wav"),
    ("prepend_id", "obj", "list prepend"),
    ("append_out", "obj", "list append $3/gramophone-$0-out.wav"),
    ("append_opts", "obj", "list append"),
    ("fmt_render", "obj", "oscformat gramophone render"),
    # cancel
    ("fmt_cancel", "obj", "oscformat gramophone cancel"),
    # connect HOST PORT, and at load: connect localhost 7770, then register the reply port
    ("connect_msg", "obj", "list prepend connect"),
    ("connect_trim", "obj", "list trim"),
    ("t_connect", "obj", "t b a b"),
    ("disconnect", "msg", "disconnect"),
    ("load", "obj", "loadbang"),
    ("t_load", "obj", "t b b"),
    ("default_connect", "msg", "connect localhost 7770"),
    ("reply_port", "obj", "f $4"),
    ("fmt_reply", "obj", "oscformat gramophone reply"),
    ("send_prepend", "obj", "list prepend send"),
    ("send_trim", "obj", "list trim"),
    ("netsend", "obj", "netsend -u -b"),
    # replies
    ("netreceive", "obj", "netreceive -u -b $4"),
    ("oscparse", "obj", "oscparse"),
    ("parse_trim", "obj", "list trim"),
    ("route_ns", "obj", "route gramophone"),
    ("route_reply", "obj", "route queued progress done error cancelled"),
    ("split_queued", "obj", "list split 1"),
    ("pre_queued", "obj", "list prepend queued"),
    ("split_progress", "obj", "list split 1"),
    ("pre_progress", "obj", "list prepend progress"),
    ("split_done", "obj", "list split 1"),
    ("split_path", "obj", "list split 1"),
    ("t_done", "obj", "t a a"),
    ("read_msg", "obj", "list prepend read -resize"),
    ("read_arr", "obj", "list append $2"),
    ("read_trim", "obj", "list trim"),
    ("sf_read", "obj", "soundfiler"),
    ("pre_done", "obj", "list prepend done"),
    ("split_error", "obj", "list split 1"),
    ("pre_error", "obj", "list prepend error"),
    ("cancelled_msg", "msg", "cancelled"),
    ("out_trim", "obj", "list trim"),
    ("out", "obj", "outlet"),
]

EDGES = [
    ("in", 0, "route", 0),
    ("route", 0, "t_render", 0),
    ("t_render", 2, "write_args", 0), ("write_args", 0, "write_msg", 0), ("write_msg", 0, "write_trim", 0),
    ("write_trim", 0, "sf_write", 0),
    ("t_render", 1, "append_opts", 1),  # a bang clears the options left from the last render
    ("t_render", 0, "split_preset", 0),
    ("split_preset", 1, "append_opts", 1),
    ("split_preset", 0, "t_preset", 0),
    ("t_preset", 1, "counter", 0), ("counter", 0, "plus", 0), ("plus", 0, "counter", 1),
    ("counter", 0, "job_id", 1), ("counter", 0, "id_in", 0), ("id_in", 0, "prepend_id", 1),
    ("t_preset", 0, "prepend_id", 0), ("prepend_id", 0, "append_out", 0), ("append_out", 0, "append_opts", 0),
    ("append_opts", 0, "fmt_render", 0), ("fmt_render", 0, "send_prepend", 0),
    ("route", 1, "job_id", 0), ("job_id", 0, "fmt_cancel", 0), ("fmt_cancel", 0, "send_prepend", 0),
    ("route", 2, "connect_msg", 0), ("connect_msg", 0, "connect_trim", 0), ("connect_trim", 0, "t_connect", 0),
    ("t_connect", 2, "disconnect", 0), ("disconnect", 0, "netsend", 0), ("t_connect", 1, "netsend", 0),
    ("t_connect", 0, "reply_port", 0),
    ("load", 0, "t_load", 0), ("t_load", 1, "default_connect", 0), ("default_connect", 0, "netsend", 0),
    ("t_load", 0, "reply_port", 0), ("reply_port", 0, "fmt_reply", 0), ("fmt_reply", 0, "send_prepend", 0),
    ("send_prepend", 0, "send_trim", 0), ("send_trim", 0, "netsend", 0),
    ("netreceive", 0, "oscparse", 0), ("oscparse", 0, "parse_trim", 0), ("parse_trim", 0, "route_ns", 0),
    ("route_ns", 0, "route_reply", 0),
    ("route_reply", 0, "split_queued", 0), ("split_queued", 1, "pre_queued", 0), ("pre_queued", 0, "out_trim", 0),
    ("route_reply", 1, "split_progress", 0), ("split_progress", 1, "pre_progress", 0),
    ("pre_progress", 0, "out_trim", 0),
    ("route_reply", 2, "split_done", 0), ("split_done", 1, "split_path", 0), ("split_path", 0, "t_done", 0),
    ("t_done", 1, "read_msg", 0), ("read_msg", 0, "read_arr", 0), ("read_arr", 0, "read_trim", 0),
    ("read_trim", 0, "sf_read", 0), ("t_done", 0, "pre_done", 0), ("pre_done", 0, "out_trim", 0),
    ("route_reply", 3, "split_error", 0), ("split_error", 1, "pre_error", 0), ("pre_error", 0, "out_trim", 0),
    ("route_reply", 4, "cancelled_msg", 0), ("cancelled_msg", 0, "out_trim", 0),
    ("out_trim", 0, "out", 0),
]


def render() -> str:
    index = {name: i for i, (name, _, _) in enumerate(NODES)}
    lines = ["#N canvas 40 40 900 1100 12;"]
    for i, (name, kind, text) in enumerate(NODES):
        x, y = 20 + 300 * (i % 3), 20 + 36 * (i // 3) + (i % 3) * 6
        escaped = text.replace("$", "\\$").replace(",", " \\,").replace(";", " \\;")
        lines.append(f"#X {kind} {x} {y} {escaped};")
    for a, outlet, b, inlet in EDGES:
        lines.append(f"#X connect {index[a]} {outlet} {index[b]} {inlet};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (HERE / "gramophone.pd").write_text(render())
    print(HERE / "gramophone.pd")
