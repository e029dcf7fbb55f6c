"""Minimisers for the style loss: a scale-aware L-BFGS and Adam, over one flat tensor.

Why not ``torch.optim.LBFGS``? Style losses on audio are flat and locally concave near the
content (gradients of 1e-6 per sample, negative curvature along the gradient). torch's
L-BFGS uses absolute thresholds (curvature pairs need ``sᵀy > 1e-10``), so on such losses it
never builds a memory and creeps along in steps of 1e-6 (measured: loss 0.942 → 0.942 in 30
iterations). This one uses relative thresholds, takes its first step at a size set by the
signal (``first_step`` x RMS of the parameters), backtracks on Armijo failures and extrapolates
while the slope stays steep, so the budget of iterations is spent on real progress. When even
steepest descent finds no decrease it stops: the iterations left would each repeat that one.

``objective(x)`` returns ``(loss, gradient)``, where ``gradient()`` computes the gradient: the
line search calls it only for a step it keeps or extends, so a refused step costs no backward
pass (measured: 4 of the speed clip's 40 evaluations, a third of a texture evaluation each).
``callback(iteration, loss, x)`` runs after every iteration, may raise (cancellation) and returns
True to stop early (convergence).
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch

Gradient = Callable[[], torch.Tensor]
Objective = Callable[[torch.Tensor], tuple[float, Gradient]]
Callback = Callable[[int, float, torch.Tensor], Optional[bool]]
#: Curvature pairs L-BFGS keeps (each pair: two copies of the optimised tensor). Five, not ten:
#: the two-loop over them is memory traffic, and on the pitched corpus (116 renders) five moved
#: every mean by at most 0.002 while a 10 s mono render took 0.95x the time (bench/RESULTS.md, "Speed").
HISTORY = 5


def lbfgs(objective: Objective, x0: torch.Tensor, iterations: int, callback: Optional[Callback] = None,
          history: int = HISTORY, first_step: float = 0.05, max_evaluations_per_iteration: int = 6) -> torch.Tensor:
    """Minimise ``objective`` from ``x0`` for ``iterations`` L-BFGS iterations; returns the best x."""
    x = x0.detach().clone()
    f, gradient = objective(x)
    g = gradient()
    scale = float(x.square().mean().sqrt()) or 1.0
    memory: list[tuple[torch.Tensor, torch.Tensor, float]] = []
    # Without curvature pairs (near the content the loss is often concave, so none are kept), a
    # step starts where the last accepted one reached: not at ``first_step`` again, which cost
    # five doublings per iteration (measured: half a render's evaluations in its first 7 iterations).
    last_reach = 0.0
    for it in range(iterations):
        d = _two_loop(g, memory)
        gtd = float(g.flatten() @ d.flatten())
        if not gtd < 0:  # not a descent direction: forget the curvature and go downhill
            memory.clear()
            d, gtd = -g, -float(g.flatten() @ g.flatten())
        if gtd == 0:
            break
        low, high = torch.aminmax(d)  # max |d| in one pass (abs().max() takes two)
        reach = max(-float(low), float(high)) + 1e-30
        t = 1.0 if memory else (last_reach or first_step * scale) / reach
        t, f_new, g_new = _line_search(objective, x, f, g, d, gtd, t, max_evaluations_per_iteration)
        if t > 0:
            last_reach = t * reach
            s, y = t * d, g_new - g
            sy = float(s.flatten() @ y.flatten())
            if sy > 1e-10 * float(s.norm() * y.norm()):
                memory.append((s, y, 1.0 / sy))
                del memory[:-history]
            x, f, g = x.add_(s), f_new, g_new  # (x is this function's own copy)
        elif not memory:
            # Steepest descent found no decrease. Nothing would change before the next iteration
            # (x, g, the step's start), so each would repeat this one exactly: stop. (Measured: a
            # 12 s stereo render of speech as fire spent 78 of its 108 evaluations so.)
            break
        else:
            memory.clear()
        if callback is not None and callback(it, f, x):
            break
    return x


def _two_loop(g: torch.Tensor, memory: list[tuple[torch.Tensor, torch.Tensor, float]]) -> torch.Tensor:
    """``−H·g`` by the L-BFGS two-loop recursion (``H`` scaled by the newest ``sᵀy/yᵀy``), in
    place on one copy of ``g`` (the memory is HISTORY pairs of the whole spectrogram: a temporary per
    step cost a quarter of the recursion's time)."""
    q = g.clone(memory_format=torch.contiguous_format)
    flat = q.view(-1)
    alphas = []
    for s, y, rho in reversed(memory):
        a = rho * float(torch.dot(s.reshape(-1), flat))
        q.add_(y, alpha=-a)
        alphas.append(a)
    if memory:
        s, y, rho = memory[-1]
        q.mul_(1.0 / (rho * float(torch.dot(y.reshape(-1), y.reshape(-1)))))
    for (s, y, rho), a in zip(memory, reversed(alphas)):
        b = rho * float(torch.dot(y.reshape(-1), flat))
        q.add_(s, alpha=a - b)
    return q.neg_()


def _line_search(objective: Objective, x: torch.Tensor, f: float, g: torch.Tensor, d: torch.Tensor, gtd: float,
                 t: float, budget: int, c1: float = 1e-4, c2: float = 0.9) -> tuple[float, float, torch.Tensor]:
    """Armijo backtracking, plus doubling while the slope stays steep; returns ``(t, f, g)`` (t=0: failed)."""
    best = (0.0, f, g)
    rejected = math.inf  # the shortest step the Armijo test refused
    for _ in range(budget):
        f_new, gradient = objective(torch.add(x, d, alpha=t))
        if f_new == f_new and f_new <= f + c1 * t * gtd:  # (f_new == f_new rules out NaN)
            if f_new >= best[1] and best[0] > 0:
                break  # extrapolating made it worse: keep the previous step
            g_new = gradient()
            if f_new < best[1]:
                best = (t, f_new, g_new)
            if abs(float(g_new.flatten() @ d.flatten())) <= c2 * abs(gtd):
                break  # curvature condition met
            if 2.0 * t >= rejected:
                break  # doubling would retry a refused step (it took one evaluation more to refuse it again)
            t *= 2.0
        elif best[0] > 0:
            break
        else:
            rejected = t
            t *= 0.5
        del gradient  # (an unused one holds its evaluation's autograd graph: not beside the next)
    return best


def adam(objective: Objective, x0: torch.Tensor, iterations: int, learning_rate: float,
         callback: Optional[Callback] = None) -> torch.Tensor:
    """Plain Adam (β = 0.9, 0.999) for ``iterations`` steps of ``learning_rate`` x RMS(x0)."""
    x = x0.detach().clone()
    m, v = torch.zeros_like(x), torch.zeros_like(x)
    lr = learning_rate * (float(x.square().mean().sqrt()) or 1.0)
    for it in range(iterations):
        f, gradient = objective(x)
        g = gradient()
        m.mul_(0.9).add_(g, alpha=0.1)
        v.mul_(0.999).addcmul_(g, g, value=0.001)
        m_hat, v_hat = m / (1 - 0.9 ** (it + 1)), v / (1 - 0.999 ** (it + 1))
        x -= lr * m_hat / (v_hat.sqrt() + 1e-12)
        if callback is not None and callback(it, f, x):
            break
    return x
