"""The minimisers descend, and stop when their callback says so."""
import pytest
import torch

from gramophone.engine.optimise import _line_search, adam, lbfgs


def objective(x: torch.Tensor) -> tuple[float, torch.Tensor]:
    scales = torch.linspace(1.0, 10.0, x.numel())
    return float((scales * x.square()).sum()), 2 * scales * x


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

    def flat(x: torch.Tensor) -> tuple[float, torch.Tensor]:  # a gradient, but no step lowers the loss
        calls.append(1)
        return 1.0, torch.ones_like(x)

    x0 = torch.ones(10)
    out = lbfgs(flat, x0, 30, max_evaluations_per_iteration=6)
    assert torch.equal(out, x0)
    assert len(calls) == 1 + 6  # the start, then one line search (before: 1 + 30 x 6)


def test_line_search_never_retries_a_refused_step():
    """After backtracking, doubling would land on the step just refused (the same evaluation, refused again)."""
    points = []

    def cliff(x: torch.Tensor) -> tuple[float, torch.Tensor]:  # falls until 0.7, then jumps up; always steep
        points.append(float(x[0]))
        return (-float(x[0]) if x[0] <= 0.7 else 1.0), -torch.ones_like(x)

    x, d = torch.zeros(1), torch.ones(1)
    t, f, _ = _line_search(cliff, x, 0.0, -torch.ones(1), d, -1.0, 1.0, budget=6)
    assert (t, f) == (0.5, -0.5)
    assert points == [1.0, 0.5]  # before: [1.0, 0.5, 1.0]
