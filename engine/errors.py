"""The engine's error types, and the one table of error codes the command line and OSC share.

Every problem a user can fix is a :class:`GramophoneError` with a ``code`` from :data:`ERRORS`:
the command line prints its message, the OSC server sends ``/gramophone/error id code message``.
Each entry says when the code happens and what the user does next; the error table in docs/errors.md
is generated from it (``gramophone errors`` prints it), and a test checks that every code
the source raises or sends is in it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    #: when it happens
    when: str
    #: what the user does next
    next: str


ERRORS: tuple[ErrorCode, ...] = (
    # ---- the request itself (OSC) ----
    ErrorCode("malformed", "an OSC packet could not be parsed, or holds more messages than the server takes",
              "send valid OSC 1.0 (check the client's encoder)"),
    ErrorCode("unknown_address", "an OSC address the server does not have",
              "use an address from the address table (`python -m gramophone.bridge.addresses`)"),
    ErrorCode("bad_args", "an OSC message's arguments do not fit its address (count, types, options, length)",
              "send the arguments the address table lists, in that order"),
    ErrorCode("bad_path", "a path is empty, invalid, or not absolute (OSC)",
              "send an absolute path; the server does not know the host's current folder"),
    ErrorCode("forbidden_path", "a path is outside the allowed folders, or the output is a symbolic link (OSC)",
              "move the file into an allowed folder or start the server with `--allow-dir DIR`"),
    # ---- the job queue (OSC) ----
    ErrorCode("busy", "the render queue is full, or another preset is being created",
              "wait for a `done` reply and send again, or start the server with a larger `--queue`"),
    ErrorCode("duplicate_id", "a render's id is already queued or running", "give every job its own id"),
    ErrorCode("unknown_job", "cancel names an id that is neither queued nor running",
              "nothing to do: the job has finished (or never existed)"),
    ErrorCode("shutting_down", "a render arrives while the server stops", "start the server again, then resend"),
    ErrorCode("too_long", "a content or style clip is longer than `--max-seconds` allows (`serve`: 900 s unless set; "
              "`render`, `batch`: no limit unless set)", "cut the clip, or give a larger `--max-seconds`"),
    # ---- audio files ----
    ErrorCode("not_found", "an input file (clip, style, preset file) does not exist", "check the path"),
    ErrorCode("not_audio", "a file is a folder, empty, or not decodable audio",
              "give a wav, flac, aiff, ogg or mp3 file"),
    ErrorCode("empty", "an audio file has no samples", "give a clip with sound in it"),
    ErrorCode("bad_rate", "a clip's sample rate is outside 8-192 kHz", "resample the clip to 8-192 kHz"),
    ErrorCode("bad_channels", "a clip has more than 8 channels", "give a clip of 1-8 channels"),
    ErrorCode("bad_samples", "a clip holds NaN or infinite samples", "re-export the clip from its source"),
    ErrorCode("bad_output", "the output path has no audio extension, is a folder, is in a folder that does not "
              "exist, or would overwrite the content",
              "name a new .wav/.flac/.aiff/.ogg/.mp3 file in an existing folder"),
    ErrorCode("write_failed", "writing the output failed (then nothing was written), or its `.json` sidecar "
              "(then the output is there): disk full, no permission, a folder in the way",
              "free space, or choose a folder you can write to"),
    # ---- settings and models ----
    ErrorCode("bad_input", "any other input a user can fix (the message says what)", "follow the message"),
    ErrorCode("bad_parameter", "a setting is out of range or unknown (strength, iterations, domain, optimiser, "
              "peaks, loudness, blend weight, model parameters)", "use a value the help (`--help`) lists"),
    ErrorCode("bad_model", "an unknown model name, or a preset made with a model this version lacks",
              "use kernel, random, auditory, vgg19 or soundnet"),
    ErrorCode("model_mismatch", "`--model` differs from the preset's model, or two blended presets (or a render's "
              "two styles, `blend_to`) differ in model",
              "drop `--model`, or use presets made with the same model"),
    ErrorCode("no_device", "`--device cuda` without a CUDA GPU", "use `--device auto` or `cpu`"),
    ErrorCode("no_weights", "vgg19/soundnet without a weights file, or the file is missing",
              "give `--weights PATH`, or `--random-weights`"),
    ErrorCode("bad_weights", "a weights file is not a safe state dict of that model's tensors",
              "give the model's PyTorch state dict (.pt/.pth) or an .npz"),
    ErrorCode("weights_mismatch", "a preset's statistics were made with another weights file than the one given",
              "pass the weights file the preset was made with (its sha256 is in `gramophone preset show`)"),
    ErrorCode("no_style", "a render or preset without any style file, or a `blend` without a second style "
              "(`blend_to`)", "name at least one style file or a preset (and `--blend-to` for a blend)"),
    ErrorCode("silent_style", "a style clip is silent", "give a style clip with sound in it"),
    ErrorCode("style_too_short", "a style clip is shorter than the model's analysis window",
              "give a longer style clip (the message says how long)"),
    ErrorCode("no_audio_device", "audition without PortAudio or without an audio output device",
              "install PortAudio (Debian: libportaudio2) and connect an output, or render without audition"),
    # ---- presets ----
    ErrorCode("no_preset", "no preset of that name (shipped or user)", "see `gramophone preset list`"),
    ErrorCode("bad_name", "an invalid preset name", "use 1-64 letters, digits, spaces or _ . + -"),
    ErrorCode("exists", "a user preset of that name exists already", "pick another name, or `--force` to replace it"),
    ErrorCode("read_only", "deleting a shipped preset", "only user presets can be deleted"),
    ErrorCode("bad_preset", "a preset file is corrupt, truncated or not a preset",
              "re-create it from its style files (`gramophone preset create`)"),
    ErrorCode("preset_version", "a preset file of another format version",
              "re-create it from its style files with this version"),
    ErrorCode("bad_sidecar", "`render --like` names a file that is not a render's JSON sidecar",
              "name the `.json` file written next to an earlier render"),
    ErrorCode("style_changed", "`render --like`: the preset or style files differ from those the sidecar records",
              "render with the preset or style files as they are now (drop `--like`), or restore them"),
    # ---- workers, batches and clusters ----
    ErrorCode("worker_died", "the render's worker process was killed, crashed or ran out of memory "
              "(a new worker takes the next job)",
              "send the job again or re-run the batch; with fewer `--jobs` or shorter clips if it recurs"),
    ErrorCode("out_of_memory", "a render ran out of memory", "use a shorter clip or fewer `--jobs`"),
    ErrorCode("over_budget", "a render's estimated peak memory is over the budget (`--max-memory`; by default "
              "the memory the machine has available): refused before it starts",
              "free memory or run fewer `--jobs` at once, or give a larger `--max-memory` if the machine has it "
              "(the message gives the estimate)"),
    ErrorCode("disk_full", "the output folder's disk filled while writing (nothing partial is left)",
              "free space, then re-run (a batch resumes where it stopped)"),
    ErrorCode("duplicate_output", "two batch items would write the same output (refused before any work)",
              "give each item its own output, or a `--name` template that tells them apart"),
    ErrorCode("bad_manifest", "a batch manifest cannot be read, or a row has an unknown field or a bad value",
              "fix the row the message names"),
    ErrorCode("no_input", "the batch's inputs hold no audio files", "check the paths and extensions"),
    ErrorCode("no_ray", "`--ray` without Ray installed", "`pip install 'gramophone[ray]'`"),
    ErrorCode("no_cluster", "the Ray cluster cannot be reached", "run `ray start --head`, or give its address"),
    # ---- bugs ----
    ErrorCode("internal", "a bug in Gramophone (the server keeps serving)",
              "report it with the server's log; the message names the exception"),
)

BY_CODE: dict[str, ErrorCode] = {e.code: e for e in ERRORS}


class GramophoneError(Exception):
    """A problem with the user's input or settings, with a message fit to show the user.

    ``code`` is one of :data:`ERRORS` (shown by the command line's tests, sent in OSC error replies).
    """

    def __init__(self, message: str, code: str = "bad_input") -> None:
        super().__init__(message)
        self.code = code


class RenderCancelled(Exception):
    """Raised inside a render when its cancellation token is set."""


def markdown() -> str:
    """The error table as Markdown, for docs/errors.md (a test keeps it in step)."""
    lines = ["| code | when | what to do |", "|---|---|---|"]
    lines += [f"| `{e.code}` | {e.when} | {e.next} |" for e in ERRORS]
    return "\n".join(lines)
