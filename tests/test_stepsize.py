"""The step-size helpers of ``rates`` against brute force: the norm of ``I - eta H``, the edge
``2/lambda_max``, the gain ``n^2/(lambda_0 ||H_inf||)``, growth factors and monotonicity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import data, kernels, optim, problem, rates, train


def _psd(n=7, seed=0):
    A = np.asarray(jax.random.normal(jax.random.key(seed), (n, 2 * n))) / np.sqrt(2 * n)
    return A @ A.T, A


@pytest.mark.parametrize("scale", [0.1, 0.5, 0.99, 1.0, 1.5, 1.99, 2.5])
def test_contraction_factor_is_the_spectral_norm(scale):
    H, _ = _psd()
    eta = scale / np.linalg.eigvalsh(H)[-1]
    brute = np.linalg.norm(np.eye(len(H)) - eta * H, 2)
    assert rates.contraction_factor(H, eta) == pytest.approx(brute, rel=1e-12)


def test_contraction_factor_is_one_minus_eta_lambda_min_up_to_the_balanced_step():
    H, _ = _psd(seed=3)
    mu = np.linalg.eigvalsh(H)
    for eta in np.linspace(0.05, 1.0, 8) / mu[-1]:  # eta <= 1/lambda_max: Xu et al.'s condition
        assert rates.contraction_factor(H, eta) == pytest.approx(1 - eta * mu[0], rel=1e-12)
    balanced = 2 / (mu[0] + mu[-1])  # the exact end of the "1 - eta lambda_min" regime
    assert rates.contraction_factor(H, 0.999 * balanced) == pytest.approx(1 - 0.999 * balanced * mu[0])
    assert rates.contraction_factor(H, 1.001 * balanced) > 1 - 1.001 * balanced * mu[0]


def test_edge_of_stability_separates_contraction_from_growth():
    H, A = _psd(seed=1)
    edge = rates.edge_of_stability(H)
    assert edge == pytest.approx(2 / np.linalg.eigvalsh(H)[-1], rel=1e-12)
    assert rates.contraction_factor(H, 0.999 * edge) < 1 < rates.contraction_factor(H, 1.001 * edge)
    # On a linear model GD is exactly the linearised map: below the edge the loss never increases,
    # above it the loss eventually grows like (eta lambda_max - 1)^(2k).
    prob = problem.linear(jnp.asarray(A), jnp.asarray(np.ones(len(H))))
    theta0 = jnp.zeros(A.shape[1])
    below = train.run(optim.gd(0.98 * edge), prob, theta0, 300)
    above = train.run(optim.gd(1.05 * edge), prob, theta0, 300)
    assert rates.first_increase(below.loss) == -1
    assert rates.first_increase(above.loss) >= 0
    assert rates.growth_factor(above.residual_norm) > 10
    late = rates.fit_linear_rate(above.loss, (200, 301))
    assert late.slope == pytest.approx(rates.linearized_loss_slope(1.05 * edge, np.linalg.eigvalsh(H)[-1]),
                                       rel=1e-3)


@pytest.mark.parametrize("n", [5, 20, 60])
def test_step_gain_is_at_least_two_n_over_lambda0(n):
    X = data.sphere(jax.random.key(n), n, 4)
    ev = kernels.eigh(kernels.h_inf(X))
    gain = rates.step_gain(ev[0], ev[-1], n)
    assert gain == pytest.approx(rates.xu_step(ev[-1]) / rates.du_step(ev[0], n), rel=1e-12)
    assert gain == pytest.approx(n**2 / (ev[0] * ev[-1]), rel=1e-12)
    assert gain >= 2 * n / ev[0] >= 4 * n


def test_growth_factor_and_first_increase_on_hand_made_sequences():
    v = np.array([4.0, 3.0, 6.0, 12.0, 1.0, 0.5])
    assert rates.growth_factor(v) == 3.0
    assert rates.growth_factor(v, steps=2) == 1.5
    assert rates.growth_factor(v, steps=1) == 1.0
    assert rates.growth_factor([1.0, 2.0, np.nan]) == float("inf")
    assert rates.first_increase(v) == 1
    assert rates.first_increase([3.0, 2.0, 2.0, 1.0]) == -1  # flat steps are not growth
    # round-off below the floor is ignored; growth above it is not
    assert rates.first_increase([1.0, 1e-10, 1e-25, 3e-25, 1e-26]) == -1
    assert rates.first_increase([1.0, 1e-10, 2e-10], floor=1e-20) == 1
    assert rates.first_increase([1.0, 0.5, np.nan]) == 1
    assert rates.first_increase([1.0, 0.5, np.inf]) == 1


def test_step_size_helpers_reject_bad_input():
    H, _ = _psd()
    with pytest.raises(ValueError, match="square"):
        rates.contraction_factor(np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="symmetric"):
        rates.edge_of_stability(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        rates.edge_of_stability(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="positive"):
        rates.edge_of_stability(-np.eye(3))
    with pytest.raises(ValueError, match="step size"):
        rates.contraction_factor(H, -1.0)
    with pytest.raises(ValueError, match="at least 2 entries"):
        rates.growth_factor([1.0])
    with pytest.raises(ValueError, match="finite positive"):
        rates.growth_factor([0.0, 1.0])
    with pytest.raises(ValueError, match="exceeds"):
        rates.growth_factor([1.0, 2.0], steps=5)
    with pytest.raises(ValueError, match="finite positive"):
        rates.first_increase([np.nan, 1.0])
    with pytest.raises(ValueError, match="lambda_0"):
        rates.step_gain(0.0, 1.0, 5)


# --- What the chapters read off `rates` without another check: pinned to hand-computed values ----


def test_gd_bound_factor_is_one_minus_eta_lambda0_over_two():
    """The theorems' factor per step is (1 - eta lambda_0 / 2), not (1 - eta lambda_0) or its square."""
    b = rates.gd_bound(3.0, 0.5, 0.4, 4)
    np.testing.assert_allclose(b, 3.0 * 0.9 ** np.arange(5), rtol=1e-15)
    assert len(rates.gd_bound(1.0, 0.1, 0.2, 0)) == 1
    with pytest.raises(ValueError, match="outside the theorem"):
        rates.gd_bound(1.0, 10.0, 0.5, 3)  # eta lambda_0 / 2 = 2.5


def test_xu_theorem_step_and_the_step_scales():
    assert rates.xu_theorem_step(2.0, 0.4) == pytest.approx(1 / 2.1, rel=1e-15)
    assert 4 / 5 / 2.0 <= rates.xu_theorem_step(2.0, 2.0) < rates.xu_step(2.0)
    assert rates.xu_step(4.0, c=0.5) == pytest.approx(0.125, rel=1e-15)
    assert rates.du_step(0.2, 10, c=3.0) == pytest.approx(0.006, rel=1e-15)
    with pytest.raises(ValueError, match="exceeds"):
        rates.xu_theorem_step(1.0, 2.0)
    with pytest.raises(ValueError, match="lambda_0"):
        rates.xu_theorem_step(1.0, 0.0)


def test_linearized_loss_slope_is_twice_the_log_of_the_factor():
    """log L shrinks by 2 log|1 - eta lam| per step: the loss is a square (a factor 2 error fails)."""
    assert rates.linearized_loss_slope(0.5, 0.4) == pytest.approx(2 * np.log(0.8), rel=1e-15)
    assert rates.linearized_loss_slope(1.0, 3.0) == pytest.approx(2 * np.log(2.0), rel=1e-15)
    H = np.diag([0.3, 1.0, 2.0])
    lin = rates.linearized_loss(H, np.array([1.0, 1.0, 1.0]), 0.5, 40)
    late = rates.fit_linear_rate(lin, (20, 41))
    assert late.slope == pytest.approx(rates.linearized_loss_slope(0.5, 0.3), rel=1e-6)
    np.testing.assert_allclose(lin, 0.5 * (0.85 ** (2 * np.arange(41)) + 0.5 ** (2 * np.arange(41))
                                           + 0.0 ** (2 * np.arange(41))), rtol=1e-13)


def test_fits_use_natural_logs_and_absolute_step_indices():
    """exp(intercept) * x^slope must redraw the data: the figures draw fit lines that way."""
    x = np.array([10.0, 20.0, 40.0, 80.0])
    fit = rates.fit_power_law(x, 5.0 * x**1.7)
    assert fit.slope == pytest.approx(1.7, rel=1e-12)
    assert fit.intercept == pytest.approx(np.log(5.0), rel=1e-12)
    np.testing.assert_allclose(np.exp(fit.intercept) * x**fit.slope, 5.0 * x**1.7, rtol=1e-12)
    k = np.arange(50)
    v = 3.0 * 0.9**k
    lin = rates.fit_linear_rate(v, (10, 40))
    assert lin.intercept == pytest.approx(np.log(3.0), rel=1e-12)  # k counts from the trace start
    assert lin.n_points == 30 and lin.factor == pytest.approx(0.9, rel=1e-12)
    v[30:] = 1e-30  # round-off below the floor is left out of the fit
    assert rates.fit_linear_rate(v, (10, 50)).n_points == 20
    assert rates.fit_linear_rate(v, (10, 50)).slope == pytest.approx(np.log(0.9), rel=1e-12)


def test_steps_to_and_first_violation_on_hand_made_sequences():
    v = np.array([1.0, 0.5, 0.2, 0.1, 0.01])
    assert rates.steps_to(v, 0.1) == 3
    assert rates.steps_to(v, 0.001) == -1
    b = np.array([1.0, 0.6, 0.2, 0.09, 0.02])
    assert rates.first_violation(v, b) == 3
    assert rates.first_violation(v, b, rtol=0.2) == -1  # 0.1 <= 0.09 * 1.2
    assert rates.first_violation([1.0, np.nan], [1.0, 1.0]) == 1


def test_linearized_steps_to_each_matches_one_call_per_step_size():
    """One eigendecomposition for many step sizes (the chapter's curve at n = 1000) changes no count."""
    H, _ = _psd(n=9, seed=5)
    r0 = np.asarray(jax.random.normal(jax.random.key(7), (9,)))
    edge = rates.edge_of_stability(H)
    etas = np.array([1e-4, 0.01, 0.3, 0.9, 0.999, 1.01, 2.0]) * edge
    each = rates.linearized_steps_to_each(H, r0, etas)
    assert each.dtype.kind == "i" and each.shape == etas.shape
    assert list(each) == [rates.linearized_steps_to(H, r0, e) for e in etas]
    assert np.all(each[etas < edge] > 0) and np.all(each[etas > edge] == -1)
    # brute force on the frozen-Gram recursion: the count is the first k below 1e-6 L(0)
    for eta, k in zip(etas[1:4], each[1:4]):
        lin = rates.linearized_loss(H, r0, eta, int(k))
        assert lin[-1] <= 1e-6 * lin[0] < lin[-2]
    assert rates.linearized_steps_to_each(H, r0, 0.3 * edge, rel=1e-3)[0] < each[2]
    with pytest.raises(ValueError, match="eta"):
        rates.linearized_steps_to_each(H, r0, [0.1, -1.0])
    with pytest.raises(ValueError, match="match"):
        rates.linearized_steps_to_each(H, r0[:-1], [0.1])
