"""The engine's audio toolkit in one import: file I/O (:mod:`.audio_io`), resampling
(:mod:`.resampling`) and loudness (:mod:`.loudness`) live in their own modules; this module only
re-exports them, so ``from .audio import resample, rms, …`` keeps working."""
from .audio_io import (MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, READ_EXTENSIONS, WRITE_EXTENSIONS, check_clip,  # noqa: F401
                       check_length, check_output_path, make_shareable, probe_audio, read_audio, write_audio)
from .loudness import PEAK_CEILING, limit_peaks, match_loudness, normalise_lufs, rms  # noqa: F401
from .resampling import resample, round_trip_response  # noqa: F401
