"""The minimisers descend, and stop when their callback says so."""
import pytest
import torch

from gramophone.engine.optimise import Gradient, _line_search, adam, lbfgs


def objective(x: torch.Tensor) -> tuple[float, Gradient]:
    scales = torch.linspace(1.0, 10.0, x.numel())
    return float((scales * x.square()).sum()), lambda: 2 * scales * x


@pytest.mark.parametrize("minimise", [lambda x, n, cb: lbfgs(objective, x, n, cb),
                                      lambda x, n, cb: adam(objective, x, n, 0.05, cb)])
def test_minimisers_descend_and_stop_when_the_callback_says_so(minimise):
    x0 = torch.ones(50)
    seen = []
    full = minimise(x0, 40, lambda i, f, x: seen.append(i))
    assert seen == list(range(40))
    assert objective(full)[0] < 0.1 * objective(x0)[0]

    seen.clear()
    half = objective(x0)[0] / 2
    stopped = minimise(x0, 40, lambda i, f, x: seen.append(i) or objective(x)[0] < half)
    assert objective(stopped)[0] < half
    assert len(seen) < 40 and seen == list(range(len(seen)))


def test_lbfgs_stops_when_steepest_descent_finds_no_decrease():
    """Every later iteration would repeat the failed one exactly (same point, gradient and step):
    a render of speech as fire spent 78 of its 108 evaluations so before this stop."""
    calls = []

    def flat(x: torch.Tensor) -> tuple[float, Gradient]:  # a gradient, but no step lowers the loss
        calls.append(1)
        return 1.0, lambda: torch.ones_like(x)

    x0 = torch.ones(10)
    out = lbfgs(flat, x0, 30, max_evaluations_per_iteration=6)
    assert torch.equal(out, x0)
    assert len(calls) == 1 + 6  # the start, then one line search (before: 1 + 30 x 6)


def test_line_search_never_retries_a_refused_step():
    """After backtracking, doubling would land on the step just refused (the same evaluation, refused again)."""
    points = []

    def cliff(x: torch.Tensor) -> tuple[float, Gradient]:  # falls until 0.7, then jumps up; always steep
        points.append(float(x[0]))
        return (-float(x[0]) if x[0] <= 0.7 else 1.0), lambda: -torch.ones_like(x)

    x, d = torch.zeros(1), torch.ones(1)
    t, f, _ = _line_search(cliff, x, 0.0, -torch.ones(1), d, -1.0, 1.0, budget=6)
    assert (t, f) == (0.5, -0.5)
    assert points == [1.0, 0.5]  # before: [1.0, 0.5, 1.0]


def test_line_search_computes_no_gradient_for_a_refused_step():
    """A gradient costs a backward pass (a third of a texture evaluation): the line search asks
    for one only where it keeps or extends a step, not where the Armijo test refuses it."""
    asked = []

    def valley(x: torch.Tensor) -> tuple[float, Gradient]:  # minimum at 0.3 along d
        value = float((x[0] - 0.3) ** 2)
        return value, lambda: asked.append(float(x[0])) or 2 * (x - 0.3)

    x, d = torch.zeros(1), torch.ones(1)
    t, f, g = _line_search(valley, x, 0.09, torch.tensor([-0.6]), d, -0.6, 1.0, budget=6)
    assert t == 0.5 and f == pytest.approx(0.04)  # 1.0 refused (0.49 > 0.09), 0.5 kept
    assert asked == [0.5]
    assert float(g) == pytest.approx(0.4)
