"""The closed-form residual ODE solutions against a fine Runge-Kutta discretisation, and the discrete
methods against their ODE limits."""

import numpy as np
import pytest

from twolayer import flows, momentum


def _rk4(f, y0, t_end, h):
    """Classical RK4 for y' = f(t, y) from t = 0; returns y(t_end)."""
    y, t = np.array(y0, dtype=float), 0.0
    for _ in range(int(round(t_end / h))):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        y, t = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t + h
    return y


@pytest.mark.parametrize("b,c", [(0.4, 2.0), (2.0, 0.5), (2.0, 1.0), (0.3, 0.0225)])
def test_damped_mode_matches_rk4(b, c):
    """Oscillating, over-damped and double-root modes (c = b^2/4 in the last two)."""
    x0, v0, T = 1.0, -0.3, 7.0
    ref = _rk4(lambda t, y: np.array([y[1], -b * y[1] - c * y[0]]), [x0, v0], T, 1e-3)
    x, dx = flows.damped_mode(b, c, T, x0, v0)
    np.testing.assert_allclose([x, dx], ref, rtol=1e-9, atol=1e-11)


def test_high_resolution_modes_match_rk4_and_differ_by_the_gradient_correction():
    lam, mu, s, T = 1.3, 0.05, 0.04, 9.0
    a = (1 + np.sqrt(mu * s)) * lam
    for method, b in (("HB", 2 * np.sqrt(mu)), ("NAG", 2 * np.sqrt(mu) + np.sqrt(s) * lam)):
        ref = _rk4(lambda t, y: np.array([y[1], -b * y[1] - a * y[0]]), [1.0, 0.0], T, 1e-3)
        np.testing.assert_allclose(flows.high_resolution(method, lam, mu, s, T), ref, rtol=1e-9,
                                   atol=1e-11)
    lo = flows.low_resolution(lam, mu, T)
    np.testing.assert_allclose(flows.high_resolution("HB", lam, mu, 0.0, T), lo, atol=1e-14)
    np.testing.assert_allclose(flows.high_resolution("NAG", lam, mu, 0.0, T), lo, atol=1e-14)


@pytest.mark.parametrize("r", [2.0, 3.0, 6.0])
def test_nag_c_bessel_solution_matches_rk4(r):
    """Start RK4 at t0 = 0.05 from the series x = 1 - lam t^2 / (2 (r + 1)) (the regular solution)."""
    lam, t0, T = 2.0, 0.05, 12.0
    x0 = 1 - lam * t0**2 / (2 * (r + 1)) + lam**2 * t0**4 / (8 * (r + 1) * (r + 3))
    v0 = -lam * t0 / (r + 1) + lam**2 * t0**3 / (2 * (r + 1) * (r + 3))
    f = lambda t, y: np.array([y[1], -(r / (t + t0)) * y[1] - lam * y[0]])  # noqa: E731
    ref = _rk4(f, [x0, v0], T - t0, 1e-3)
    np.testing.assert_allclose(flows.nag_c(lam, r, T), ref, atol=1e-9)
    assert flows.nag_c(lam, 2.0, T)[0] == pytest.approx(np.sin(np.sqrt(lam) * T) / (np.sqrt(lam) * T))
    assert flows.nag_c(lam, r, 0.0)[0] == 1.0


def test_discrete_nag_c_tends_to_the_bessel_solution():
    lam, r, s = 1.0, 3.0, 1e-6
    t = np.arange(1, 21, dtype=float)
    steps = int(t[-1] / np.sqrt(s))
    x = momentum.mode_sequence("NAG", s, lam, steps, r=r)
    k = np.round(t / np.sqrt(s)).astype(int)
    assert np.max(np.abs(x[k] - flows.nag_c(lam, r, t)[0])) < 3e-3


def test_discrete_hb_and_nag_tend_to_the_low_resolution_ode():
    lam, mu, s = 0.8, 0.1, 1e-6
    beta = momentum.shi_beta(s, mu)
    t = np.array([1.0, 4.0, 9.0])
    k = np.round(t / np.sqrt(s)).astype(int)
    for method in ("HB", "NAG"):
        x = momentum.mode_sequence(method, s, lam, int(k[-1]), beta=beta)
        np.testing.assert_allclose(x[k], flows.low_resolution(lam, mu, t)[0], atol=5e-3)


def test_exponents_low_and_high_resolution():
    mu, s = 0.05, 0.1
    lam = np.array([0.05, 0.2, 1.0])
    np.testing.assert_allclose(flows.exponent("HB", lam, mu, s), np.sqrt(mu))  # all Re r = -sqrt(mu)
    nag = flows.exponent("NAG", lam, mu, s)
    assert nag[0] == pytest.approx(np.sqrt(mu), rel=1e-12)  # the double-root mode at lam = mu ...
    assert np.all(nag[1:] > np.sqrt(mu))  # ... and more damping elsewhere


def test_evolve_and_the_hb_energy_decay():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    lam = np.array([0.1, 0.4, 1.0, 2.0])
    H = (Q * lam) @ Q.T
    xi0 = rng.normal(size=4)
    t = np.linspace(0, 30, 3001)
    mu = lam[0]
    xi = flows.evolve(H, xi0, lambda l: flows.low_resolution(l, mu, t[:, None])[0], t)
    np.testing.assert_allclose(xi[0], xi0, atol=1e-12)
    x, v = flows.low_resolution(lam, mu, t[:, None])
    c = Q.T @ xi0
    E = np.sum(flows.hb_energy(x * c, v * c, lam, mu), axis=1)
    mon = E * np.exp((2 - np.sqrt(2)) * np.sqrt(mu) * t)
    assert np.all(np.diff(mon) <= 1e-12 * mon[:-1])
    mon2 = E * np.exp(2 * np.sqrt(mu) * t)  # the true decay rate is not a monotone envelope
    assert np.any(np.diff(mon2) > 0)


def test_flows_validate_inputs():
    for bad in (lambda: flows.nag_c(1.0, 0.0, 1.0), lambda: flows.low_resolution(-1.0, 0.1, 1.0),
                lambda: flows.gradient_flow(1.0, -1.0), lambda: flows.high_resolution("GD", 1, 1, 1, 1),
                lambda: flows.hb_fixed_beta(1.0, 1.0, 1.0)):
        with pytest.raises(ValueError):
            bad()
