"""Play a rendered file on the server's audio output (optional; needs PortAudio and a device)."""
from __future__ import annotations

from pathlib import Path

from ..engine.errors import GramophoneError


def play(path: Path) -> None:
    """Start playing ``path`` and return at once; a clear error if there is no audio output."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise GramophoneError(f"audition needs PortAudio (Debian: apt-get install libportaudio2): {exc}",
                              "no_audio_device") from exc
    from ..engine.audio_io import read_audio

    data, sample_rate = read_audio(path)
    try:
        sounddevice.check_output_settings(channels=data.shape[0], samplerate=sample_rate)
        sounddevice.play(data.T, sample_rate)
    except Exception as exc:  # PortAudioError and ValueError when there is no usable device
        raise GramophoneError(f"no audio output device to audition on: {exc}", "no_audio_device") from exc
