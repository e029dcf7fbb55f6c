"""The spectral front end: the overlap-add inverse STFT against torch's."""
import pytest
import torch

from gramophone.engine.spectral import StftConfig, inverse_stft, istft, stft


@pytest.mark.parametrize("n_fft, hop, dtype", [(2048, 1024, torch.float32), (2048, 512, torch.float64),
                                               (1024, 300, torch.float32)])
@pytest.mark.parametrize("cut", [0, 700])
def test_inverse_stft_matches_torch_istft(n_fft: int, hop: int, dtype: torch.dtype, cut: int) -> None:
    """Same samples as ``torch.istft`` (to rounding) for consistent and random spectra, stacked
    channels and a length short of the frames' reach (hop 300 takes torch's own path)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 20_000, generator=gen, dtype=dtype)
    window = torch.hann_window(n_fft, dtype=dtype)
    spec = torch.stft(x.reshape(6, -1), n_fft, hop, window=window, return_complex=True).reshape(2, 3, n_fft // 2 + 1, -1)
    noise = torch.randn(spec.shape, generator=gen, dtype=spec.dtype)
    for s in (spec, noise):
        want = torch.istft(s.reshape(6, *s.shape[-2:]), n_fft, hop, window=window, length=20_000 - cut)
        got = inverse_stft(s, n_fft, hop, window, 20_000 - cut)
        assert got.shape == (2, 3, 20_000 - cut)
        tol = 1e-5 if dtype == torch.float32 else 1e-12
        assert float((got.reshape(6, -1) - want).abs().max()) <= tol * float(want.abs().max())


def test_istft_inverts_stft_and_pads_past_the_last_frame() -> None:
    cfg = StftConfig(44_100, 2048, 1024)
    x = torch.randn(1, 9_000, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(istft(stft(x, cfg), cfg, 9_000), x, atol=1e-5)
    longer = istft(stft(x, cfg), cfg, 12_000)
    assert longer.shape == (1, 12_000) and torch.allclose(longer[:, :9_000], x, atol=1e-5)
