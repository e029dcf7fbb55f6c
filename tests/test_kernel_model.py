"""The K→∞ closed form against the finite random net, and its gradients."""
import numpy as np
import pytest
import torch

from gramophone.engine import analyse_style, synth
from gramophone.engine.device import PRECISION_VARIABLE, bfloat16_products, describe_precision
from gramophone.engine.errors import GramophoneError
from gramophone.engine.models import get_model
from gramophone.engine.models import kernel as kernel_module
from gramophone.engine.models.kernel import (SPLIT_FRAMES, _self_gram, arccos_j, kernel_texture, mean_squared_kernel,
                                            patch_inner_products, patch_norms)
from gramophone.engine.spectral import StftConfig, log_magnitude

SMALL = dict(n_fft=256, hop=128)


def frames(clip, cfg):
    return log_magnitude(torch.from_numpy(clip * 4).double(), StftConfig(22_050, **SMALL))[0]


def test_patch_inner_products_match_explicit_patches():
    x, y = torch.randn(5, 9, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    width = 3
    px = torch.stack([x[:, t:t + width].flatten() for t in range(9 - width + 1)])
    py = torch.stack([y[:, s:s + width].flatten() for s in range(7 - width + 1)])
    assert torch.allclose(patch_inner_products(x, y, width), px @ py.T)
    assert torch.allclose(patch_norms(x, width), px.norm(dim=1), atol=1e-5)


def test_patch_inner_products_gradient_passes_finite_difference_check():
    """The hand-written gradient, for two tensors and for a tensor against itself."""
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(6, 11, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.rand(6, 9, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: patch_inner_products(a, b, 3), (x, y))
    assert torch.autograd.gradcheck(lambda a: patch_inner_products(a, a, 3), (x,))


def test_arccos_kernel_matches_relu_expectation():
    """E[relu(w·a) relu(w·b)] over w ~ N(0, I) equals ‖a‖‖b‖ J(θ) / 2π (Cho & Saul 2009)."""
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(8, generator=gen, dtype=torch.float64), torch.randn(8, generator=gen, dtype=torch.float64)
    w = torch.randn(400_000, 8, generator=gen, dtype=torch.float64)
    mc = (torch.relu(w @ a) * torch.relu(w @ b)).mean()
    c = a @ b / (a.norm() * b.norm())
    exact = a.norm() * b.norm() * arccos_j(c) / (2 * np.pi)
    assert abs(float(mc - exact)) < 0.01 * float(exact)


@pytest.mark.slow
def test_closed_form_matches_finite_net_as_filters_grow():
    content, style = synth.plucked_melody(22_050, 1.0), synth.rain(22_050, 1.0)
    cfg = StftConfig(22_050, **SMALL)
    x, y = frames(content, cfg), frames(style, cfg)
    kernel = get_model("kernel", marginal=0.0, **SMALL)  # the net's limit is the kernel term alone
    exact = float(kernel.loss(x, kernel.statistics([y])))
    errors = {}
    for k in (16, 256, 4096):
        diffs = []
        for seed in range(3):
            net = get_model("random", filters=k, seed=seed, **SMALL)
            net.weight = net.weight.double()
            diffs.append(abs(float(net.loss(x, net.statistics([y]))) - exact) / exact)
        errors[k] = float(np.mean(diffs))
    assert errors[4096] < errors[256] < errors[16]
    assert errors[4096] < 0.05, errors


@pytest.mark.slow
def test_kernel_loss_gradient_passes_finite_difference_check():
    model = get_model("kernel", n_fft=64, hop=16, width=3)
    gen = torch.Generator().manual_seed(0)
    target = model.statistics([torch.rand(33, 20, generator=gen, dtype=torch.float64)])
    x = torch.rand(33, 12, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: model.loss(v, target), (x,), eps=1e-6, atol=1e-7, rtol=1e-4)


@pytest.mark.slow
def test_waveform_path_gradient_passes_finite_difference_check():
    """The gradient from the loss back through log1p|STFT| to the samples."""
    model = get_model("kernel", n_fft=64, hop=16, width=3)
    gen = torch.Generator().manual_seed(0)
    target = model.statistics([log_magnitude(torch.randn(400, generator=gen, dtype=torch.float64), model.stft)])
    x = torch.randn(200, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: model.loss(log_magnitude(v, model.stft), target), (x,),
                                    eps=1e-6, atol=1e-7, rtol=1e-4)


def test_random_net_is_seeded():
    a, b, c = (get_model("random", filters=8, seed=s, **SMALL) for s in (3, 3, 4))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)


def test_blend_of_identical_stats_is_the_same_distribution():
    model = get_model("kernel", **SMALL)
    y = torch.rand(129, 40, dtype=torch.float64)
    s = model.statistics([y])
    mixed = model.blend([(0.3, s), (0.7, s)])
    assert float(model.loss(y, mixed)) == pytest.approx(float(model.loss(y, s)), abs=1e-9)


def test_random_net_factor_reproduces_the_gram_matrix():
    net = get_model("random", filters=64, rank=1000, **SMALL)
    y = torch.rand(129, 30, dtype=torch.float64)
    net.weight = net.weight.double()
    factor = net.statistics([y])["factor"]
    assert torch.allclose(factor @ factor.T, net.gram(y), rtol=1e-10, atol=1e-8)
    truncated = get_model("random", filters=64, rank=8, **SMALL)
    truncated.weight = net.weight
    low = truncated.statistics([y])["factor"]
    assert low.shape == (64, 8)
    # the best rank-8 approximation: the error is the sum of the discarded eigenvalues squared
    eig = torch.linalg.eigvalsh(net.gram(y))
    assert float((low @ low.T - net.gram(y)).norm() ** 2) == pytest.approx(float((eig[:-8] ** 2).sum()), rel=1e-6)


def test_style_spectrum_leaves_out_the_stfts_fold_at_each_segment_start():
    """A bowed drone has nothing above ~6.5 kHz. The STFT centres a segment's first frame on its
    first sample and folds the clip there, a broadband click; counted in the style's long-term
    spectrum, that one frame raised 12-16 kHz by 15-23 dB (measured: -51.7 / -55.3 dB against
    -66.9 / -78.0 dB without it), and the spectrum step then put that hiss into every render."""
    model = get_model("kernel")
    stats = analyse_style([(synth.bowed_drone(44_100, 3.0), 44_100)], model)
    power = model.style_power(stats)
    freqs = torch.linspace(0, 22_050, power.shape[0])
    relative_db = 10 * torch.log10(power / power.mean())
    assert float(relative_db[(freqs > 11_500) & (freqs < 12_500)].max()) < -60
    assert float(relative_db[(freqs > 900) & (freqs < 1_100)].max()) > 0  # the drone itself is there
    ceiling = model.style_ceiling(stats)
    assert ceiling.shape == power.shape and bool((ceiling >= 0).all())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_texture_matches_the_two_kernels_by_autograd(dtype):
    """``kernel_texture`` (one hand-written backward) against ``mean_squared_kernel`` twice by
    autograd: value and gradient, with a silent frame and uneven style weights."""
    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand(40, 30, generator=gen, dtype=dtype), torch.rand(40, 25, generator=gen, dtype=dtype)
    x[:, 5] = 0
    width, wx = 3, torch.full((28,), 1 / 28, dtype=dtype)
    wy = torch.rand(23, generator=gen, dtype=dtype)
    wy /= wy.sum()
    a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    want = mean_squared_kernel(a, wx, a, wx, width) - 2 * mean_squared_kernel(a, wx, y, wy, width)
    (3 * want).backward()
    got = kernel_texture(b, wx, y, wy, patch_norms(y, width), width)
    (3 * got).backward()
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert abs(float(got.detach()) - float(want.detach())) <= tol * abs(float(want.detach()))
    assert float((a.grad - b.grad).abs().max()) <= tol * float(a.grad.abs().max())


def test_fused_texture_gradient_passes_finite_difference_check():
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(6, 11, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.rand(6, 9, generator=gen, dtype=torch.float64)
    wx, wy = torch.full((9,), 1 / 9, dtype=torch.float64), torch.full((7,), 1 / 7, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda v: kernel_texture(v, wx, y, wy, patch_norms(y, 3), 3), (x,))


def test_marginal_distance_and_overshoot_match_their_formulas_by_autograd():
    """The hand-written backwards of ``marginal_distance`` and ``overshoot`` against autograd on
    the plain formulas (bin moments of weighted frames; mean squared excess over a ceiling)."""
    from gramophone.engine.models.kernel import bin_moments, marginal_distance
    from gramophone.engine.domains import overshoot

    gen = torch.Generator().manual_seed(5)
    f = torch.rand(30, 20, generator=gen, dtype=torch.float64)
    w = torch.cat([torch.full((15,), 1 / 15, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)])
    my, sy = bin_moments(torch.rand(30, 25, generator=gen, dtype=torch.float64), torch.full((25,), 0.04, dtype=torch.float64))
    ceiling = 0.8 * torch.rand(30, 20, generator=gen, dtype=torch.float64)

    def by_autograd(x):
        mx, sx = bin_moments(x, w)
        marginal = ((mx - my).square().sum() + (sx - sy).square().sum()) / (my.square().sum() + sy.square().sum())
        return marginal + 3 * torch.relu(x - ceiling).square().mean()

    a, b = f.clone().requires_grad_(True), f.clone().requires_grad_(True)
    want, got = by_autograd(a), marginal_distance(b, w, (my, sy)) + 3 * overshoot(b, ceiling)
    (2 * want).backward()
    (2 * got).backward()
    assert float(got.detach()) == pytest.approx(float(want.detach()), rel=1e-12)
    assert torch.allclose(a.grad, b.grad, rtol=1e-10, atol=1e-14)
    assert torch.autograd.gradcheck(lambda v: marginal_distance(v, w, (my, sy)), (f.clone().requires_grad_(True),))


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 8, 11, 12])
def test_diagonal_sums_by_doubling_match_the_shifted_sum_and_the_scatter_is_their_adjoint(width):
    """Patch inner products from a frame Gram, summed over 2, 4, 8 ... shifts at once: equal to the
    plain sum of ``width`` shifted diagonals for every width (each binary digit's path), and the
    scatter back is their adjoint (``<scatter(d), g> = <d, sums(g)>``)."""
    from gramophone.engine.models.kernel import _diagonal_scatter, _diagonal_sums

    gen = torch.Generator().manual_seed(width)
    g = torch.randn(20, 17, generator=gen, dtype=torch.float64)
    tx, ty = 20 - width + 1, 17 - width + 1
    plain = sum(g[j:j + tx, j:j + ty] for j in range(width))
    assert torch.allclose(_diagonal_sums(g, width), plain, rtol=0, atol=1e-12)
    d = torch.randn(tx, ty, generator=gen, dtype=torch.float64)
    scattered = _diagonal_scatter(d, width)
    assert scattered.shape == g.shape
    assert float((scattered * g).sum()) == pytest.approx(float((d * plain).sum()), rel=1e-12)


def _loss_and_gradient(model, frames, style, bfloat16: bool, monkeypatch) -> tuple[float, torch.Tensor]:
    monkeypatch.setattr(kernel_module, "bfloat16_products", lambda device: bfloat16)
    p = frames.clone().requires_grad_(True)
    loss = model.loss(p, style)
    loss.backward()
    assert p.grad is not None
    return float(loss.detach()), p.grad


def test_bfloat16_gradient_is_the_float32_one_to_its_rounding(monkeypatch):
    """Where the CPU multiplies bfloat16 natively the texture term's gradient is one bfloat16
    product: the loss's value is unchanged, and the gradient is the float32 one to bfloat16's
    rounding, at the content (where renders start) and near the style's own frames (where the
    texture term's two halves nearly cancel: loss 5e-6, a hundred times under a render's)."""
    model = get_model("kernel")
    sr = 44_100
    style = analyse_style([(synth.rain(sr, 2.0), sr)], model)
    content = model.analysis(torch.from_numpy(synth.plucked_melody(sr, 2.0)).float().reshape(1, -1))[0]
    near_style = style["frames"][:, :content.shape[1]] * 1.001
    for frames, tolerance, cosine in ((content, 0.002, 0.9999), (near_style, 0.3, 0.98)):
        (value, exact), (value_low, low) = (_loss_and_gradient(model, frames, style, b, monkeypatch) for b in (False, True))
        assert value_low == value
        assert not torch.equal(low, exact)  # the bfloat16 path did run
        assert float((low - exact).norm() / exact.norm()) < tolerance
        assert float(torch.nn.functional.cosine_similarity(low.flatten(), exact.flatten(), 0)) > cosine


def test_bfloat16_products_only_where_they_are_native_and_wanted(monkeypatch):
    monkeypatch.setenv(PRECISION_VARIABLE, "float32")
    assert not bfloat16_products(torch.device("cpu"))
    assert describe_precision(torch.device("cpu")) == "kernel gradient products: float32 ($GRAMOPHONE_PRECISION)"
    monkeypatch.setenv(PRECISION_VARIABLE, "auto")
    assert not bfloat16_products(torch.device("cuda"))  # CUDA's float32 products are fast already
    native = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    assert bfloat16_products(torch.device("cpu")) == bool(native.get("avx512_bf16") or native.get("amx_bf16"))
    assert describe_precision(torch.device("cuda")).endswith("float32 (no native bfloat16 products on this device)")
    monkeypatch.setenv(PRECISION_VARIABLE, "half")
    with pytest.raises(GramophoneError, match="GRAMOPHONE_PRECISION must be auto or float32"):
        bfloat16_products(torch.device("cpu"))
    assert describe_precision(torch.device("cpu")) == "GRAMOPHONE_PRECISION must be auto or float32, got 'half'"


def test_float64_frames_never_take_the_bfloat16_path(monkeypatch):
    """The finite-difference checks run in float64: they check the exact gradient."""
    model = get_model("kernel", n_fft=64, hop=16, width=3)
    gen = torch.Generator().manual_seed(0)
    target = model.statistics([torch.rand(33, 20, generator=gen, dtype=torch.float64)])
    x = torch.rand(33, 12, generator=gen, dtype=torch.float64)
    assert torch.equal(_loss_and_gradient(model, x, target, True, monkeypatch)[1],
                       _loss_and_gradient(model, x, target, False, monkeypatch)[1])


@pytest.mark.parametrize("frames", [5, SPLIT_FRAMES - 1, SPLIT_FRAMES, 453, 1301])
def test_self_gram_is_the_frame_gram(frames):
    x = torch.rand(50, frames, generator=torch.Generator().manual_seed(frames), dtype=torch.float64)
    got = _self_gram(x)
    assert torch.allclose(got, x.T @ x, rtol=1e-12, atol=0)
