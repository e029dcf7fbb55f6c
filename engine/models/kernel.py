"""The ``kernel`` model: the wide-shallow-random net in the limit of infinitely many filters.

For ReLU filters with i.i.d. N(0, 1) weights over 11-frame patches ``a``, ``b``, the filter
inner product ``k(a, b) = Σ_i relu(w_i·a) relu(w_i·b)`` divided by K tends to the degree-1
arc-cosine kernel (Cho & Saul 2009) ``‖a‖‖b‖ (sin θ + (π − θ) cos θ) / 2π``. The squared Gram
distance of the random net then becomes a sum of squared kernel values over pairs of patches
(see the design notes, DESIGN.md), which needs only patch inner products: sums of 11 shifted
diagonals of the frame Gram ``XᵀY``. Exact, deterministic, and ~40x cheaper than 4096 filters.

The loss adds, with weight ``marginal``, the distance between each bin's level distribution
(mean and spread over time) and the style's (:func:`marginal_distance`): the patch kernel
leaves it loose, and renders kept the content's swings between loud and quiet frames.

Statistics are a weighted set of patches: the frames of the style (segments joined end to end)
and a weight per patch position (zero for patches that straddle a join). A blend of sounds is
the union of their patch sets with scaled weights, so mixtures are exact.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

import torch

from ..device import bfloat16_products
from ..limits import MAX_BLENDED_STYLES, MAX_STATISTIC_BYTES
from .base import Stats, TextureModel, stft_bins

_EPS = 1e-6
_T = TypeVar("_T")
#: :meth:`KernelModel.style_floor`'s quantile: quieter than the style is 95 % of the time in a bin
#: is the loss's blind spot there, not the style.
FLOOR_QUANTILE = 0.05


class _ArcCosJ(torch.autograd.Function):
    """``J(c) = sin θ + (π − θ) cos θ`` with ``θ = arccos c``; ``dJ/dc = π − θ`` stays finite at c = ±1."""

    @staticmethod
    def forward(ctx, c: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        c = c.clamp(-1.0, 1.0)
        theta = torch.arccos(c)
        ctx.save_for_backward(theta)
        return torch.sqrt((1 - c * c).clamp_min(0)) + (math.pi - theta) * c

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (theta,) = ctx.saved_tensors
        return grad * (math.pi - theta)


def arccos_j(c: torch.Tensor) -> torch.Tensor:
    return _ArcCosJ.apply(c)


class _PatchInnerProducts(torch.autograd.Function):
    """Patch inner products with a hand-written gradient: the shifted diagonals' gradients go
    into one buffer (autograd made a zero-filled frame Gram per shift), and for ``x is y`` (the
    output's own term) ``dx`` is one product, ``x·(dG + dGᵀ)``, not two. Measured on one core,
    a 10 s clip against 10 s of rain: 85 ms per loss and gradient, against 112 ms by autograd."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, y: torch.Tensor, width: int) -> torch.Tensor:  # type: ignore[override]
        ctx.same = x is y
        ctx.width = width
        ctx.save_for_backward(x, y)
        return _diagonal_sums(x.transpose(0, 1) @ y, width)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        x, y = ctx.saved_tensors
        dg = _diagonal_scatter(grad, ctx.width)
        if ctx.same:
            return x @ (dg + dg.transpose(0, 1)), None, None
        dx = y @ dg.transpose(0, 1) if ctx.needs_input_grad[0] else None
        dy = x @ dg if ctx.needs_input_grad[1] else None
        return dx, dy, None


def patch_inner_products(x: torch.Tensor, y: torch.Tensor, width: int) -> torch.Tensor:
    """``P[t, s] = <x[:, t:t+width], y[:, s:s+width]>`` for all patch pairs, from ``xᵀy``."""
    return _PatchInnerProducts.apply(x, y, width)


def patch_norms(x: torch.Tensor, width: int) -> torch.Tensor:
    """Euclidean norm of every ``width``-frame patch of ``x`` (regularised away from zero)."""
    energy = x.square().sum(0)
    csum = torch.cat([energy.new_zeros(1), energy.cumsum(0)])
    return torch.sqrt(csum[width:] - csum[:-width] + _EPS)


def mean_squared_kernel(x: torch.Tensor, wx: torch.Tensor, y: torch.Tensor, wy: torch.Tensor,
                        width: int) -> torch.Tensor:
    """``Σ_ts wx[t] wy[s] k(x_t, y_s)²`` with ``k`` the degree-1 arc-cosine kernel on patches."""
    nx, ny = patch_norms(x, width), patch_norms(y, width)
    outer = nx[:, None] * ny[None, :]
    k = outer * arccos_j(patch_inner_products(x, y, width) / outer) / (2 * math.pi)
    return wx @ k.square() @ wy


def _diagonal_sums(g: torch.Tensor, width: int) -> torch.Tensor:
    """``P[t, s] = Σ_j g[t + j, s + j]`` for ``j < width``: patch inner products from a frame Gram.
    By doubling: sums over 2, 4, 8 ... shifts, added as ``width``'s binary digits say (for the
    default 11 frames, six passes over the matrix instead of eleven)."""
    tx, ty = g.shape[0] - width + 1, g.shape[1] - width + 1
    out: Optional[torch.Tensor] = None
    block, span, offset, left = g, 1, 0, width  # block[t, s]: the sum over ``span`` shifts from (t, s)
    while left:
        if left & 1:
            part = block[offset:offset + tx, offset:offset + ty]
            out = part.clone() if out is None else out.add_(part)
            offset += span
        left >>= 1
        if left:
            block = block[:-span, :-span] + block[span:, span:]
            span *= 2
    assert out is not None
    return out


def _diagonal_scatter(grad: torch.Tensor, width: int, diagonal: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The adjoint of :func:`_diagonal_sums`: ``grad [tx, ty]`` (plus ``diagonal`` on its
    diagonal) back onto a frame Gram of ``[tx + width − 1, ty + width − 1]``. It is a diagonal sum
    itself, of ``grad`` with ``width − 1`` zeros around it (that padded copy takes ``diagonal``,
    so ``grad``, a tensor saved for backward, is left as it is)."""
    padded = torch.nn.functional.pad(grad, (width - 1,) * 4)
    if diagonal is not None:
        inner = padded[width - 1:width - 1 + grad.shape[0], width - 1:width - 1 + grad.shape[1]]
        inner.diagonal().add_(diagonal)
    return _diagonal_sums(padded, width)


def _squared_kernel_term(p: torch.Tensor, na: torch.Tensor, nb: torch.Tensor, wa: torch.Tensor,
                         wb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``Σ wa[t] wb[s] k[t, s]²`` from patch inner products ``p`` (overwritten) and patch norms,
    with its gradients with respect to ``p`` and to the outer product ``na ⊗ nb``: the formulas
    autograd derives through :func:`mean_squared_kernel`, in place on one matrix at a time.
    ``k`` is taken without its 1/2π, so the value comes out 4π² times too large and the
    gradients 2π² times (:data:`_VALUE_SCALE`, :data:`_GRADIENT_SCALE`): the caller's scalars
    correct them, not two more passes over each matrix."""
    outer = torch.outer(na, nb)
    c = p.div_(outer).clamp_(-1.0, 1.0)
    pt = torch.arccos(c.neg())  # π − θ = arccos(−c): dJ/dc
    j = torch.sin(pt).addcmul_(pt, c)  # J(c) = sin θ + (π − θ) cos θ
    k = outer.mul_(j)  # outer no longer needed
    kw = k * torch.outer(wa, wb)
    value = torch.dot(kw.view(-1), k.view(-1))
    d_outer = j.addcmul_(c, pt, value=-1.0).mul_(kw)  # 2 k w (J − c J') / 2π
    d_p = pt.mul_(kw)  # 2 k w J' / 2π
    return value, d_p, d_outer


#: What :func:`_squared_kernel_term`'s value and gradients are multiplied by to be the true ones.
_VALUE_SCALE, _GRADIENT_SCALE = 1 / (4 * math.pi ** 2), 1 / (2 * math.pi ** 2)


class _KernelTexture(torch.autograd.Function):
    """``Σ wx wx k(x, x)² − 2 Σ wx wy k(x, y)²`` (:func:`mean_squared_kernel` twice) with one
    hand-written backward. The style's side (``y``, ``wy``, its patch norms) is constant. Why:
    by autograd the elementwise steps of the two kernels cost more than their four matrix
    products (measured on one core, a 10 s clip against 10 s of rain: 37 ms per loss and
    gradient, of which the products 13 ms). The render's patch norms are the diagonal of its own
    patch inner products, so their gradient joins that matrix's, and ``P_xx`` is symmetric, so
    its gradient reaches ``x`` in one product (``x·2dG``, not ``x·(dG + dGᵀ)``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, wx: torch.Tensor, y: torch.Tensor, wy: torch.Tensor,  # type: ignore[override]
                ny: torch.Tensor, width: int, y_bfloat16: Optional[torch.Tensor]) -> torch.Tensor:
        p_xx = _diagonal_sums(_self_gram(x), width)
        nx = p_xx.diagonal().add(_EPS).sqrt_()  # each patch's norm: as patch_norms, from P_xx's diagonal
        xx, dp_xx, do_xx = _squared_kernel_term(p_xx, nx, nx, wx, wx)
        xy, dp_xy, do_xy = _squared_kernel_term(_diagonal_sums(x.transpose(0, 1) @ y, width), nx, ny, wx, wy)
        ctx.width, ctx.y_bfloat16 = width, y_bfloat16
        ctx.save_for_backward(x, y, nx, ny, dp_xx, do_xx, dp_xy, do_xy)
        return (xx - 2 * xy) * _VALUE_SCALE

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        x, y, nx, ny, dp_xx, do_xx, dp_xy, do_xy = ctx.saved_tensors
        width, scale = ctx.width, float(grad) * _GRADIENT_SCALE
        # patch norms: nx appears on both sides of the x-x outer product, and nx² is P_xx's diagonal
        d_nx = 2 * (do_xx @ nx - do_xy @ ny)  # (do_xx is symmetric too)
        d_energy = d_nx / (2 * nx)  # d sqrt(e + ε) / de, onto P_xx's diagonal
        g_xx, g_xy = _diagonal_scatter(dp_xx, width, d_energy), _diagonal_scatter(dp_xy, width)
        if ctx.y_bfloat16 is not None:
            return _bfloat16_gradient(x, ctx.y_bfloat16, g_xx, g_xy, 2.0 * scale), None, None, None, None, None, None
        dx = torch.addmm(x, x, g_xx, beta=0.0, alpha=2.0 * scale)
        dx.addmm_(y, g_xy.transpose(0, 1), alpha=-2.0 * scale)
        return dx, None, None, None, None, None, None


#: :func:`_self_gram` splits a frame Gram while it has at least this many frames (measured on one
#: core: 453 frames, a 10 s chunk, 4.6 -> 3.3 ms at two splits; 1300 frames 42 -> 29 ms; under 200
#: frames splitting no longer pays).
SPLIT_FRAMES = 200


def _self_gram(x: torch.Tensor) -> torch.Tensor:
    """``xᵀx`` from its upper blocks: the lower off-diagonal block is the upper one transposed, so
    each split saves a quarter of the products (torch has no symmetric product, BLAS's syrk)."""
    frames = x.shape[1]
    if frames < SPLIT_FRAMES:
        return x.transpose(0, 1) @ x
    half = frames // 2
    a, b = x[:, :half], x[:, half:]
    out = x.new_empty(frames, frames)
    out[:half, :half] = _self_gram(a)
    torch.mm(a.transpose(0, 1), b, out=out[:half, half:])
    out[half:, :half] = out[:half, half:].transpose(0, 1)
    out[half:, half:] = _self_gram(b)
    return out


def _bfloat16_gradient(x: torch.Tensor, y_bfloat16: torch.Tensor, g_xx: torch.Tensor, g_xy: torch.Tensor,
                       scale: float) -> torch.Tensor:
    """``scale·(x·g_xx − y·g_xyᵀ)``, the texture term's gradient, as one bfloat16 product
    ``[x y]·[g_xx; −g_xyᵀ]``: half the time of the two float32 products on a CPU that multiplies
    bfloat16 natively. One product, so that the two terms, which nearly cancel near the optimum,
    are summed in its float32 accumulator and only their difference is rounded (two products,
    each rounded, took a render twice as far from the float32 one: -19.5 dB against -25.7 dB,
    where a change of thread count is -27 dB). The loss's value stays float32 throughout: the
    line search compares values that differ in their fourth digit."""
    tx = x.shape[1]
    left = torch.cat([x.to(torch.bfloat16), y_bfloat16], 1)
    right = torch.empty(tx + y_bfloat16.shape[1], tx, dtype=torch.bfloat16, device=x.device)
    torch.mul(g_xx, scale, out=right[:tx])
    torch.mul(g_xy.transpose(0, 1), -scale, out=right[tx:])
    return (left @ right).to(x.dtype)


def kernel_texture(x: torch.Tensor, wx: torch.Tensor, y: torch.Tensor, wy: torch.Tensor, ny: torch.Tensor,
                   width: int, y_bfloat16: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``mean_squared_kernel(x, wx, x, wx) − 2·mean_squared_kernel(x, wx, y, wy)`` (``ny``: the
    patch norms of ``y``), differentiable in ``x`` only. With ``y_bfloat16`` (``y`` in bfloat16)
    the gradient is one bfloat16 product (:func:`_bfloat16_gradient`); the value is float32 either way."""
    return _KernelTexture.apply(x, wx, y, wy, ny, width, y_bfloat16)


class KernelModel(TextureModel):
    name = "kernel"
    #: Full band (44.1 kHz analysis; 48 kHz clips lose only 22-24 kHz), 46 ms windows every 23 ms,
    #: and ``gain`` 10 so that quiet high bands weigh in the statistics (see bench/RESULTS.md).
    defaults = {"sample_rate": 44_100, "n_fft": 2048, "hop": 1024, "width": 11, "max_frames": 3072, "gain": 10.0,
                "marginal": 1.0}
    legacy_params = {"gain": 1.0}
    #: ``marginal``: weight of :func:`marginal_distance` (each bin's level distribution) in the loss.
    loss_params = frozenset({"marginal"})
    default_domain = "spectrogram"
    default_iterations = 30

    @classmethod
    def max_statistic_elements(cls, params: Mapping[str, Any]) -> int:
        """``frames``: every bin of at most ``max_frames`` frames per style, for a blend of up to
        :data:`~engine.limits.MAX_BLENDED_STYLES` styles (a blend keeps all its parts' frames),
        capped at :data:`~engine.limits.MAX_STATISTIC_BYTES`: building the model allocates nothing
        from its parameters, so a large ``max_frames`` (a preset of long styles) is no reason to
        refuse a file whose arrays are within the bound."""
        return min(stft_bins(params) * int(params["max_frames"]) * MAX_BLENDED_STYLES, MAX_STATISTIC_BYTES // 4)

    @property
    def width(self) -> int:
        return int(self.params["width"])

    @property
    def min_frames(self) -> int:
        return self.width

    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        segments = _cap_frames([s for s in segments if s.shape[1] >= self.width], int(self.params["max_frames"]))
        weights = []
        for s in segments:
            w = s.new_zeros(s.shape[1])
            w[: s.shape[1] - self.width + 1] = 1.0
            weights.append(w)
        frames, w = torch.cat(segments, 1), torch.cat(weights)
        return self._finish(frames, w / w.sum())

    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        frames = torch.cat([s["frames"] for _, s in parts], 1)
        w = torch.cat([weight * s["weights"] for weight, s in parts])
        return self._finish(frames, w / w.sum())

    def _finish(self, frames: torch.Tensor, weights: torch.Tensor) -> Stats:
        valid = weights[: frames.shape[1] - self.width + 1]
        self_term = mean_squared_kernel(frames, valid, frames, valid, self.width)
        return {"frames": frames, "weights": weights, "self_term": self_term.reshape(1)}

    def style_power(self, target: Stats) -> torch.Tensor:
        """Mean power per bin of the style's frames, each weighted as its patch (so a blend's
        sounds count by their blend weights), without each segment's first frame (below)."""
        frames, weights = target["frames"], _without_segment_starts(target["weights"])
        return (self.magnitude_from_features(frames).square() * weights).sum(-1) / weights.sum()

    def style_ceiling(self, target: Stats) -> torch.Tensor:
        frames, weights = target["frames"], _without_segment_starts(target["weights"])
        return frames[:, weights > 0].amax(-1)

    def style_floor(self, target: Stats) -> torch.Tensor:
        """Each bin's :data:`FLOOR_QUANTILE` over the style's frames (once per target: for a long
        style the selection takes tens of ms, and every chunk's render asks for it)."""
        def floor() -> torch.Tensor:
            frames = target["frames"][:, _without_segment_starts(target["weights"]) > 0]
            return frames.kthvalue(1 + int(FLOOR_QUANTILE * (frames.shape[1] - 1)), dim=1).values
        return self._per_target("floor", target, floor)

    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        y, wy = target["frames"], target["weights"]
        wy = wy[: y.shape[1] - self.width + 1]
        tx = frames.shape[1] - self.width + 1
        wx = frames.new_full((tx,), 1.0 / tx)
        yy = target["self_term"][0]
        low = self._style_bfloat16(target) if frames.dtype == torch.float32 and bfloat16_products(frames.device) else None
        texture = (kernel_texture(frames, wx, y, wy, self._style_norms(target), self.width, low) + yy) / yy
        weight = float(self.params["marginal"])
        if not weight:
            return texture
        patch_starts = torch.cat([wx, wx.new_zeros(self.width - 1)])  # frames weighted as the style's are
        return texture + weight * marginal_distance(frames, patch_starts, self._style_moments(target))

    def _style_norms(self, target: Stats) -> torch.Tensor:
        """The style's :func:`patch_norms` (once per target)."""
        return self._per_target("norms", target, lambda: patch_norms(target["frames"], self.width))

    def _style_bfloat16(self, target: Stats) -> torch.Tensor:
        """The style's frames in bfloat16 (:func:`_bfloat16_gradient`), converted once per target."""
        return self._per_target("bfloat16", target, lambda: target["frames"].to(torch.bfloat16))

    def _style_moments(self, target: Stats) -> tuple[torch.Tensor, torch.Tensor]:
        """The style's :func:`bin_moments`, once per target (not at every evaluation: for a long
        style that was hundreds of MB of temporaries each time)."""
        return self._per_target("moments", target, lambda: bin_moments(target["frames"], target["weights"]))

    def _per_target(self, name: str, target: Stats, compute: Callable[[], _T]) -> _T:
        """``compute()`` (without autograd), kept under ``name`` while ``target``'s frames and
        weights are the same tensors (not equal ones): what the loss needs of the style at every
        evaluation, computed once per render's target."""
        key = (target["frames"], target["weights"])
        cache = self.__dict__.setdefault("_target_cache", {})
        cached = cache.get(name)
        if cached is None or cached[0][0] is not key[0] or cached[0][1] is not key[1]:
            with torch.no_grad():
                cached = (key, compute())
            cache[name] = cached
        return cached[1]


def bin_moments(frames: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per bin, the weighted mean and standard deviation of ``frames [bins, frames]`` over time."""
    w = weights / weights.sum()
    mean = frames @ w
    var = (frames - mean[:, None]).square() @ w
    return mean, (var + 1e-8).sqrt()


def marginal_distance(frames: torch.Tensor, weights: torch.Tensor,
                      style_moments: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """How far each bin's level distribution (mean and spread of its features over time) is from
    the style's (its :func:`bin_moments`), relative to the style's own: what the patch kernel leaves loose (a render of
    steady steam kept speech's 30 dB swings between frames). Differentiable in ``frames``."""
    return _MarginalDistance.apply(frames, weights, *style_moments)


class _MarginalDistance(torch.autograd.Function):
    """:func:`marginal_distance` with a hand-written backward: four passes over the frames
    forward and two back, where autograd made eight (the whole spectrogram each)."""

    @staticmethod
    def forward(ctx, frames: torch.Tensor, weights: torch.Tensor, my: torch.Tensor,  # type: ignore[override]
                sy: torch.Tensor) -> torch.Tensor:
        w = weights / weights.sum()
        mx = frames @ w
        sx = ((frames - mx[:, None]).square_() @ w + 1e-8).sqrt()
        scale = 1.0 / (my.square().sum() + sy.square().sum())
        ctx.save_for_backward(frames, w, mx, mx - my, sx, sx - sy, scale)
        return ((mx - my).square().sum() + (sx - sy).square().sum()) * scale

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        frames, w, mx, d_mean, sx, d_spread, scale = ctx.saved_tensors
        g = 2 * grad * scale
        # d/d frames of mean: w; of var: 2 w (f − mean) (its path through the mean sums to zero);
        # so w (a f + b) with a = g d_spread / sx per bin and b = g d_mean − a mean
        a = g * d_spread / sx
        dframes = torch.addcmul((g * d_mean - a * mx)[:, None], frames, a[:, None])
        return dframes.mul_(w[None, :]), None, None, None


def _cap_frames(segments: list[torch.Tensor], max_frames: int) -> list[torch.Tensor]:
    """Keep at most ``max_frames`` frames, as evenly spaced blocks, so long styles stay cheap."""
    total = sum(s.shape[1] for s in segments)
    if total <= max_frames:
        return segments
    block = 256
    out = []
    for s in segments:
        keep = max(block, int(s.shape[1] * max_frames / total))
        if s.shape[1] <= keep:
            out.append(s)
            continue
        n_blocks = max(1, keep // block)
        starts = torch.linspace(0, s.shape[1] - block, n_blocks).round().long().tolist()
        out.extend(s[:, a:a + block] for a in starts)
    return out


def _without_segment_starts(weights: torch.Tensor) -> torch.Tensor:
    """Patch weights with each segment's first frame set to zero. A segment's first frame is
    centred on its first sample, so the STFT folds the clip there: a broadband click that the
    sound does not have. Measured on a style with nothing above 6.5 kHz: that one frame in 130
    put its 7-20 kHz band 15-26 dB over the sound's own, and the render's with it. (A segment's
    last frame already weighs nothing: no patch starts there.)"""
    starts = weights > 0
    starts[1:] &= weights[:-1] <= 0
    if bool(starts.all()):  # one frame per segment: nothing else to go by
        return weights
    return torch.where(starts, torch.zeros_like(weights), weights)

