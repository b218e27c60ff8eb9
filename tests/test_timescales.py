"""The two-timescale module: closed forms against brute force (quadrature, least squares, autodiff,
the finite-eta flow), the runner against a hand-written loop, and input validation."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from twolayer import timescales as ts
from twolayer import train

T = ts.paper_target()
# Two neurons in every interval between jumps, flankers well apart from one another.
U_SPREAD = jnp.array([0.05, 0.17, 0.23, 0.31, 0.39, 0.46, 0.53, 0.6, 0.68, 0.77, 0.84, 0.95])


def _sigma_paper(s):
    """The paper's piecewise definition, written out literally."""
    s = np.asarray(s, dtype=float)
    return np.select([s <= -0.5, s <= 0, s <= 0.5], [0.0, 4 * (s + 0.5) ** 3, 1 - 4 * (0.5 - s) ** 3], 1.0)


# ---------------------------------------------------------------------------------------------
# The activation
# ---------------------------------------------------------------------------------------------


def test_sigma_matches_the_piecewise_definition():
    s = np.linspace(-1, 1, 4001)
    np.testing.assert_allclose(ts.sigma(jnp.asarray(s)), _sigma_paper(s), atol=1e-14)
    assert float(ts.sigma(0.0)) == 0.5
    assert float(ts.sigma(-0.5)) == 0.0 and float(ts.sigma(0.5)) == 1.0
    assert float(ts.sigma_eta(0.002, 0.004)) == 1.0  # s / eta = 1/2


def test_dsigma_is_the_derivative_and_sigma_is_c1_not_c2():
    s = jnp.linspace(-0.7, 0.7, 1401)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(ts.sigma)))(s), ts.dsigma(s), atol=1e-12)
    assert float(ts.dsigma(0.0)) == 3.0
    # sigma' is continuous, vanishing at the ends of the window (C^1) ...
    for edge in (-0.5, 0.5):
        assert abs(float(ts.dsigma(edge - 1e-9))) < 1e-7 and abs(float(ts.dsigma(edge + 1e-9))) < 1e-7
    assert abs(float(ts.dsigma(1e-9) - ts.dsigma(-1e-9))) < 1e-7
    # ... but sigma'' jumps from +12 to -12 at 0 (not C^2).
    d2 = jax.grad(ts.dsigma)
    assert float(d2(-1e-6)) == pytest.approx(12.0, rel=1e-4)
    assert float(d2(1e-6)) == pytest.approx(-12.0, rel=1e-4)


def test_sigma_integrals():
    f = lambda s: (_sigma_paper(s) - (s > 0)) ** 2  # noqa: E731
    err = integrate.quad(f, -0.5, 0, epsabs=1e-14)[0] + integrate.quad(f, 0, 0.5, epsabs=1e-14)[0]
    assert err == pytest.approx(1 / 28, rel=1e-10)
    g = lambda s: float(ts.dsigma(s)) ** 2  # noqa: E731
    energy = integrate.quad(g, -0.5, 0, epsabs=1e-14)[0] + integrate.quad(g, 0, 0.5, epsabs=1e-14)[0]
    assert energy == pytest.approx(9 / 5, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Model, grid loss, optimizer
# ---------------------------------------------------------------------------------------------


def test_target_and_its_constants():
    x = jnp.array([0.0, 0.19, 0.2, 0.3, 0.35, 0.5, 0.7, 0.8, 0.99])
    np.testing.assert_array_equal(T(x), [1, 1, 5, 5, 1, 3, 1, 5, 5])
    assert np.sum(T.heights**2) == 56 and T.min_gap == pytest.approx(0.15)
    assert ts.floor(T, 4e-3) == pytest.approx(4e-3 * 56 / 28)


def test_grid_problem_loss_and_closed_form_gradient():
    key = jax.random.key(0)
    u = ts.uniform_init(key, 7)
    a = jax.random.normal(jax.random.key(1), (8,))
    theta = ts.Params(a, u)
    prob = ts.grid_problem(T, 0.02, 500)
    x = ts.grid(500)
    direct = jnp.mean((a[0] + ts.sigma((x[:, None] - u) / 0.02) @ a[1:] - T(x)) ** 2)
    assert float(prob.loss(theta)) == pytest.approx(float(direct), rel=1e-12)
    assert ts.population_loss(theta, T, 0.02, 500) == pytest.approx(float(direct), rel=1e-12)
    v = jax.random.normal(jax.random.key(2), (500,))
    ad = jax.jit(lambda t, v: jax.vjp(lambda t: prob.residual(t, prob.data), t)[1](v)[0])(theta, v)
    cf = jax.jit(prob.vjp)(theta, prob.data, v)
    np.testing.assert_allclose(cf.a, ad.a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cf.u, ad.u, rtol=1e-10, atol=1e-12)
    J = jax.jit(prob.jacobian)(theta, prob.data)
    assert J.shape == (500, 15)
    np.testing.assert_allclose(J.T @ v, jnp.concatenate([ad.a, ad.u]), rtol=1e-10, atol=1e-12)


def test_two_timescale_runner_equals_a_hand_loop():
    u = ts.uniform_init(jax.random.key(3), 6)
    theta = ts.zero_init(u)
    h, eps, eta, N = 0.05, 0.01, 0.02, 400
    prob = ts.grid_problem(T, eta, N)
    tr = train.run(ts.two_timescale(h, eps), prob, theta, 25)
    loss = lambda a, u: ts.population_loss(ts.Params(a, u), T, eta, N)  # noqa: E731
    grad = jax.jit(jax.grad(
        lambda a, u: jnp.mean((ts.predict(ts.Params(a, u), ts.grid(N), eta) - T(ts.grid(N))) ** 2),
        argnums=(0, 1)))
    a, uu = theta
    for _ in range(25):
        ga, gu = grad(a, uu)
        a, uu = a - h * ga, uu - h * eps * gu
    np.testing.assert_allclose(tr.theta.a, a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.theta.u, uu, rtol=1e-10, atol=1e-12)
    assert tr.loss[-1] == pytest.approx(loss(a, uu), rel=1e-10)


def test_gd_path_checkpoints_and_slow_time():
    u0 = ts.paper_init()
    P = ts.gd_path(ts.zero_init(u0), T, 4e-3, 0.05, 1e-3, 200, every=50)
    assert P.tau.shape == (5,) and P.u.shape == (5, 20) and P.a.shape == (5, 21)
    np.testing.assert_allclose(P.tau, np.arange(5) * 50 * 0.05 * 1e-3)
    assert P.loss[0] == pytest.approx(10.6, rel=1e-3)  # L(0, u0) = int f*^2
    assert not P.diverged and P.loss[-1] < P.loss[0]


def test_sgd_update_is_the_sample_gradient():
    u = ts.uniform_init(jax.random.key(4), 9)
    a = jax.random.normal(jax.random.key(5), (10,))
    x = jax.random.uniform(jax.random.key(6), (3,))
    y = T(x) + 0.3
    eta, h, eps = 0.01, 0.1, 0.05
    ell = lambda a, u: jnp.mean((ts.predict(ts.Params(a, u), x, eta) - y) ** 2)  # noqa: E731
    ga, gu = jax.jit(jax.grad(ell, argnums=(0, 1)))(a, u)
    new = jax.jit(ts.sgd_update)(ts.Params(a, u), x, y, eta, h, eps)
    np.testing.assert_allclose(new.a, a - h * ga, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(new.u, u - h * eps * gu, rtol=1e-12, atol=1e-14)


def test_sgd_without_noise_and_large_batches_follows_gd():
    # With noise 0 and a big batch, SGD's gradient is a Monte Carlo estimate of GD's: the two paths
    # stay close over a short run.
    u0 = ts.paper_init()
    S = ts.sgd(ts.zero_init(u0), T, 4e-3, 0.05, 1e-2, 400, jax.random.key(0), batch=4096, noise=0.0,
               N=2000, records=8)
    G = ts.gd_path(ts.zero_init(u0), T, 4e-3, 0.05, 1e-2, 400, every=50)
    np.testing.assert_allclose(S.tau, G.tau)
    assert np.max(np.abs(S.u - G.u)) < 5e-3


# ---------------------------------------------------------------------------------------------
# The limits
# ---------------------------------------------------------------------------------------------


def test_optimal_outer_is_the_least_squares_fit():
    u = ts.paper_init()
    eta, N = 4e-3, 3000
    a = ts.optimal_outer(u, T, eta, N, ridge=0.0)
    Phi = np.asarray(ts.features(jnp.asarray(u), ts.grid(N), eta))
    a_ls, *_ = np.linalg.lstsq(Phi, np.asarray(T(ts.grid(N))), rcond=None)
    # G(u0) is nearly singular (two neurons far closer than eta): compare fitted values, and the
    # coefficients in the well-determined directions.
    np.testing.assert_allclose(Phi @ np.asarray(a), Phi @ a_ls, atol=1e-7)
    u2 = np.asarray(U_SPREAD)
    a2 = ts.optimal_outer(u2, T, eta, N)
    Phi2 = np.asarray(ts.features(jnp.asarray(u2), ts.grid(N), eta))
    a2_ls, *_ = np.linalg.lstsq(Phi2, np.asarray(T(ts.grid(N))), rcond=None)
    np.testing.assert_allclose(a2, a2_ls, atol=1e-8)
    # The fit is a minimum: L(a*(u), u) equals the reference value 0.888 at the paper's init.
    assert ts.reduced_loss(u, T, eta, 8000) == pytest.approx(0.888, abs=2e-3)


def _fd_reduced_gradient(u, eta, N, step=1e-6):
    g = np.zeros_like(u)
    for j in range(u.size):
        e = np.zeros_like(u)
        e[j] = step
        g[j] = (ts.reduced_loss(u + e, T, eta, N) - ts.reduced_loss(u - e, T, eta, N)) / (2 * step)
    return g


@pytest.mark.parametrize("eta", [0.02, 4e-3])
def test_reduced_velocity_is_minus_the_gradient_of_the_reduced_loss(eta):
    # Envelope theorem: holding a at a*(u) gives the full gradient of L~(u) = min_a L(a, u), so
    # reduced_velocity(u) = -grad L~(u) for every neuron, checked against central differences of
    # L~ (error ~ step^2 |L~'''| / 6, tiny here) to 1e-6 of the largest velocity. The authors'
    # surrogate derivative 1{|s| <= 1/2} in place of sigma' (same integral) breaks the identity.
    N = 2000
    for u in (np.asarray(U_SPREAD), np.asarray(U_SPREAD) + 0.3 * eta):
        v = np.asarray(ts.reduced_velocity(u, T, eta, N))
        fd = _fd_reduced_gradient(u, eta, N)
        assert np.max(np.abs(v)) > 1.0  # the flankers do move: the comparison is not 0 = 0
        np.testing.assert_allclose(v, -fd, rtol=0, atol=1e-6 * np.max(np.abs(v)))


def test_ideal_velocities_are_the_small_eta_limit_of_the_reduced_flow():
    vi = np.asarray(ts.ideal_velocity(U_SPREAD, T))
    # Flankers move towards their jump with Delta^2 (q/D)^2 and -Delta^2 (p/D)^2; the rest stay.
    np.testing.assert_allclose(vi[[0, 11]], 0.0)
    assert vi[1] == pytest.approx(16 * 0.5**2) and vi[2] == pytest.approx(-16 * 0.5**2)
    errs = []
    for eta, N in ((4e-3, 40000), (1e-3, 160000)):
        vr = np.asarray(ts.reduced_velocity(U_SPREAD, T, eta, N))
        errs.append(np.max(np.abs(vr - vi)))
    assert errs[1] < 5e-3 * np.max(np.abs(vi)) and errs[1] < 0.5 * errs[0]


def test_reduced_path_keeps_a_at_its_optimum():
    u0 = ts.paper_init()
    R = ts.reduced_path(u0, T, 4e-3, 2e-5, 100, every=50)
    a_end = ts.optimal_outer(R.u[-1], T, 4e-3, 2000)
    np.testing.assert_allclose(R.a[-1], a_end, atol=1e-8)
    assert R.loss[0] == pytest.approx(ts.reduced_loss(u0, T, 4e-3, 2000), rel=1e-9)
    assert R.loss[-1] < R.loss[0]


def test_ideal_flow_conservation_law_and_hitting_times():
    u0 = np.asarray(U_SPREAD)
    left, right = ts.flankers(u0, T)
    I = ts.ideal_path(u0, T, 1e-6, 40000, records=400)
    c0 = ts.conserved(u0, T, left, right)
    cov = ts.coverage(I.u, T)
    p0, q0 = T.jumps - u0[left], u0[right] - T.jumps
    t_hit = ts.hitting_time(p0, q0, T.heights)
    lo, hi = ts.hitting_time_bounds(p0, q0, T.heights)
    assert np.all(lo <= t_hit) and np.all(t_hit <= hi)
    for i in range(5):
        before = I.tau < t_hit[i] - 1e-4
        # p^3 - q^3 is constant up to Euler's O(dtau) error while neither flanker has arrived.
        np.testing.assert_allclose(ts.conserved(I.u[before], T, left, right)[:, i], c0[i], atol=1e-7)
        hit = I.tau[np.flatnonzero(cov[:, i] == 0)[0]]
        assert hit == pytest.approx(t_hit[i], abs=2e-4)
    far = np.maximum(T.jumps - I.u[-1][left], I.u[-1][right] - T.jumps)
    np.testing.assert_allclose(far, ts.final_distance(u0, T, left, right), atol=1e-5)
    # Equal distances: both hit together, at exactly 4 q0 / Delta^2.
    assert ts.hitting_time(0.03, 0.03, 2.0) == pytest.approx(4 * 0.03 / 4)


@pytest.mark.parametrize("q0, delta", [(0.03, 2.0), (0.011, -4.0), (0.2, 0.5)])
def test_hitting_time_bracket_is_tight_at_both_ends(q0, delta):
    # The bracket [q0 / Delta^2, 4 q0 / Delta^2] is the best possible: the upper end is attained at
    # p0 = q0 (both flankers at speed Delta^2 / 4), and the lower end is approached as p0 / q0 -> oo
    # (the far flanker barely moves, the near one runs at Delta^2): tau_hit / lo - 1 ~ q0 / p0.
    lo, hi = ts.hitting_time_bounds(q0, q0, delta)
    assert ts.hitting_time(q0, q0, delta) == pytest.approx(float(hi), rel=1e-12)
    assert float(hi) == pytest.approx(4 * q0 / delta**2, rel=1e-14)
    assert float(lo) == pytest.approx(q0 / delta**2, rel=1e-14)
    ratios = np.array([1.5, 10.0, 100.0, 1000.0])
    t = ts.hitting_time(ratios * q0, q0, delta)
    lo_r, hi_r = ts.hitting_time_bounds(ratios * q0, q0, delta)
    assert np.all((lo_r < t) & (t < hi_r)) and np.all(np.diff(t) < 0)
    excess = (t / lo_r - 1) * ratios  # -> 1 as the ratio grows
    np.testing.assert_allclose(excess[1:], 1.0, atol=0.05)
    # Either argument order: the bracket is about the closer flanker.
    np.testing.assert_allclose(ts.hitting_time_bounds(q0, 10 * q0, delta), (lo_r[1], hi_r[1]))


def test_init_probability_exact_against_brute_force():
    # Two intervals, at least one point each: 1 - l^m - (1 - l)^m.
    tgt = ts.make_target([0.3], [0.0, 1.0])
    assert ts.init_probability(tgt, 5, 1) == pytest.approx(1 - 0.3**5 - 0.7**5, rel=1e-12)
    p = ts.init_probability(T, 20, 2)
    mc = ts.init_probability_mc(jax.random.key(0), T, 20, 2, samples=40000)
    assert abs(p - mc) < 4 * math.sqrt(p * (1 - p) / 40000)
    assert 1 - ts.init_failure_bound(T, 40) <= ts.init_probability(T, 40, 2)


def test_init_probability_with_one_minimum_per_interval():
    # The proposition needs two neurons per interior interval and one per end interval.
    k = ts.flanker_minimums(T)
    np.testing.assert_array_equal(k, [1, 2, 2, 2, 2, 1])
    # Two intervals, (1, 2) points: 1 - P(first empty) - P(second holds < 2).
    tgt = ts.make_target([0.3], [0.0, 1.0])
    m, l = 6, 0.3
    exact = 1 - (1 - l) ** m - (l**m + m * (1 - l) * l ** (m - 1))
    assert ts.init_probability(tgt, m, [1, 2]) == pytest.approx(exact, rel=1e-12)
    p = ts.init_probability(T, 20, k)
    mc = ts.init_probability_mc(jax.random.key(1), T, 20, k, samples=40000)
    assert abs(p - mc) < 4 * math.sqrt(p * (1 - p) / 40000)
    # Weaker than the authors' condition, stronger than one per interval.
    assert ts.init_probability(T, 20, 1) > p > ts.init_probability(T, 20, 2)
    u = np.array([0.1, 0.21, 0.3, 0.4, 0.45, 0.55, 0.6, 0.7, 0.75, 0.9])  # one in each end interval
    assert ts.satisfies_condition(u, T, k) and not ts.satisfies_condition(u, T)
    with pytest.raises(ValueError, match="one per interval"):
        ts.init_probability(T, 20, [1, 2])


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def test_validation_errors():
    with pytest.raises(ValueError, match="strictly increasing"):
        ts.make_target([0.5, 0.2], [0, 1, 2])
    with pytest.raises(ValueError, match="needs 3 values"):
        ts.make_target([0.2, 0.5], [0, 1])
    with pytest.raises(ValueError, match="non-zero height"):
        ts.make_target([0.2], [1, 1])
    with pytest.raises(ValueError, match="outer step size"):
        ts.two_timescale(0.0, 1e-3)
    with pytest.raises(ValueError, match="ratio of inner to outer"):
        ts.two_timescale(0.1, -1.0)
    with pytest.raises(ValueError, match="width of the smoothed step"):
        ts.grid_problem(T, 0.0, 100)
    with pytest.raises(ValueError, match="number of grid points"):
        ts.grid_problem(T, 0.01, 0)
    with pytest.raises(ValueError, match="must be a twolayer.timescales.Target"):
        ts.grid_problem(([0.5], [0, 1]), 0.01, 100)
    with pytest.raises(ValueError, match="m \\+ 1 = 3 entries"):
        ts.population_loss(ts.Params(jnp.zeros(2), jnp.zeros(2)), T, 0.01, 1000)
    with pytest.raises(ValueError, match="multiple of every"):
        ts.gd_path(ts.zero_init(ts.paper_init()), T, 4e-3, 0.05, 1e-3, 75, every=50)
    with pytest.raises(ValueError, match="multiple of records"):
        ts.sgd(ts.zero_init(ts.paper_init()), T, 4e-3, 1e-3, 2e-5, 75, jax.random.key(0), records=50)
    with pytest.raises(ValueError, match="BadSubdivision"):
        ts.ideal_path(jnp.array([0.1, 0.15, 0.3, 0.4, 0.9]), T, 1e-5, 10, records=1)
    with pytest.raises(ValueError, match="no neuron on one side"):
        ts.flankers(np.array([0.6, 0.7]), T)
    with pytest.raises(ValueError, match="contains NaN"):
        ts.optimal_outer(jnp.array([0.1, jnp.nan]), T, 4e-3)
    with pytest.raises(ValueError, match="must be > 0"):
        ts.hitting_time(0.0, 0.1, 1.0)
    with pytest.raises(ValueError, match="seed"):
        ts.paper_init(20, -1)
    with pytest.raises(ValueError, match="tau must lie in"):
        ts.ideal_path(U_SPREAD, T, 1e-5, 10, records=1).at(1.0)


@pytest.mark.parametrize("batch, surrogate", [(1, False), (1, True), (3, False)])
def test_sgd_replays_sgd_update(batch, surrogate):
    # sgd draws each chunk's samples from its own key; replaying them through the public
    # sgd_update must give the same path (the scan's packed step is an implementation detail).
    T, eta, h, eps, steps, records = ts.paper_target(), 4e-3, 1e-2, 0.5, 60, 3
    key = jax.random.key(7)
    path = ts.sgd(ts.zero_init(ts.paper_init()), T, eta, h, eps, steps, key, batch=batch,
                  records=records, surrogate=surrogate)
    p, seg = ts.zero_init(jnp.asarray(ts.paper_init())), steps // records
    for r, k in enumerate(jax.random.split(key, records)):
        kx, kn = jax.random.split(k)
        xs = jax.random.uniform(kx, (seg, batch))
        ys = T(xs) + jax.random.uniform(kn, (seg, batch), minval=-1.0, maxval=1.0)
        for x, y in zip(xs, ys):
            p = ts.sgd_update(p, x, y, eta, h, eps, surrogate)
        np.testing.assert_allclose(path.u[r + 1], p.u, rtol=0, atol=1e-12)
        np.testing.assert_allclose(path.a[r + 1], p.a, rtol=0, atol=1e-12)
