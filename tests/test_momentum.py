"""Heavy ball and Nesterov: the optimizers against optax and the companion recursion, the linear
theory (radii, tunings, stability limits) against brute-force eigenvalues."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import data, models, momentum, optim, problem, train


def _regression(m=64, n=6, d=3):
    X = data.sphere(jax.random.key(0), n, d)
    y = data.gaussian_targets(jax.random.key(1), n)
    net = models.init(jax.random.key(2), m, d)
    return models.regression(net, X, y), net


def _optax_run(tx, prob, W, steps):
    state = tx.init(W)
    loss = jax.grad(lambda W: 0.5 * jnp.sum(prob.r(W) ** 2))
    for _ in range(steps):
        updates, state = tx.update(loss(W), state)
        W = jax.tree_util.tree_map(lambda a, b: a + b, W, updates)
    return W


def test_heavy_ball_is_optax_sgd_with_momentum_step_for_step():
    """HB with W_{-1} = W_0 is optax.sgd(s, momentum=beta) exactly (no change of variables)."""
    import optax  # pinned in requirements.txt; a missing install must fail, not skip

    prob, net = _regression()
    s, beta = 0.3, 0.8
    for steps in (1, 2, 17):
        trace = train.run(optim.heavy_ball(s, beta), prob, net.W, steps)
        W = _optax_run(optax.sgd(s, momentum=beta), prob, net.W, steps)
        np.testing.assert_allclose(trace.theta, W, atol=1e-12)


def _prev_record(theta, prob):
    return theta


def test_nesterov_is_optax_nesterov_after_the_change_of_variables():
    """optax's nesterov=True iterates the gradient points Y_k = W_k + beta (W_k - W_{k-1})."""
    import optax

    prob, net = _regression()
    s, beta = 0.3, 0.7
    steps = 15
    trace = train.run(optim.nesterov(s, beta), prob, net.W, steps, record=_prev_record)
    Wk, Wkm1 = trace.records[-1], trace.records[-2]
    Y = Wk + beta * (Wk - Wkm1)
    Yx = _optax_run(optax.sgd(s, momentum=beta, nesterov=True), prob, net.W, steps)
    np.testing.assert_allclose(Y, Yx, atol=1e-12)
    # without the change of variables they differ: the test can tell the two sequences apart
    assert np.max(np.abs(Wk - Yx)) > 1e-6


def test_momentum_with_zero_beta_is_gd():
    prob, net = _regression()
    gd = train.run(optim.gd(0.4), prob, net.W, 9)
    for opt in (optim.heavy_ball(0.4, 0.0), optim.nesterov(0.4, 0.0)):
        np.testing.assert_allclose(train.run(opt, prob, net.W, 9).theta, gd.theta, atol=1e-13)


def _linear_problem(n=5, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n + 3))
    b = rng.normal(size=n)
    return problem.linear(jnp.asarray(A), jnp.asarray(b)), A, b


def _eig_record(theta, prob):
    return prob.r(theta)


@pytest.mark.parametrize("which", ["HB", "NAG", "NAG-C"])
def test_each_eigen_direction_follows_the_companion_recursion_on_a_linear_model(which):
    prob, A, b = _linear_problem()
    H = A @ A.T
    lam, V = np.linalg.eigh(H)
    s, beta, r, steps = 0.9 / lam[-1], 0.75, 3.0, 40
    opt = {"HB": optim.heavy_ball(s, beta), "NAG": optim.nesterov(s, beta),
           "NAG-C": optim.nesterov_c(s, r)}[which]
    theta0 = jnp.zeros(A.shape[1])
    trace = train.run(opt, prob, theta0, steps, record=_eig_record)
    proj = trace.records @ V  # (steps+1, n): coordinates of the residual on the eigenvectors
    if which == "HB":
        x = momentum.mode_sequence("HB", s, lam, steps, beta=beta)
    elif which == "NAG":
        x = momentum.mode_sequence("NAG", s, lam, steps, beta=beta)
    else:
        x = momentum.mode_sequence("NAG", s, lam, steps, r=r)
    np.testing.assert_allclose(proj, x * proj[0], rtol=1e-9, atol=1e-12)


def test_nesterov_c_is_the_su_boyd_candes_recursion():
    """x_k = y_{k-1} - s grad f(y_{k-1}), y_k = x_k + (k-1)/(k+r-1) (x_k - x_{k-1}), x_0 = y_0."""
    prob, net = _regression()
    s, r, steps = 0.3, 4.0, 12
    trace = train.run(optim.nesterov_c(s, r), prob, net.W, steps)
    x_prev = x = y = net.W
    for k in range(1, steps + 1):
        x_prev, x = x, y - s * prob.grad(y)
        y = x + (k - 1) / (k + r - 1) * (x - x_prev)
    np.testing.assert_allclose(trace.theta, x, atol=1e-12)


def test_optimizers_validate_their_hyperparameters():
    for bad in (lambda: optim.heavy_ball(0.0, 0.5), lambda: optim.heavy_ball(0.1, 1.0),
                lambda: optim.nesterov(0.1, -0.1), lambda: optim.nesterov(float("nan"), 0.5),
                lambda: optim.nesterov_c(0.1, 0.0), lambda: optim.heavy_ball(0.1, "x")):
        with pytest.raises(ValueError):
            bad()


# --- linear theory ------------------------------------------------------------------------------


def _spd(n=7, seed=3):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.concatenate([[0.05], rng.uniform(0.05, 2.0, n - 2), [2.0]])
    return (Q * lam) @ Q.T, lam


@pytest.mark.parametrize("method", ["GD", "HB", "NAG"])
@pytest.mark.parametrize("s,beta", [(0.3, 0.5), (1.1, 0.9), (0.05, 0.2), (1.9, 0.0)])
def test_spectral_radius_is_the_brute_force_radius_of_the_2n_by_2n_matrix(method, s, beta):
    H, lam = _spd()
    brute = np.max(np.abs(np.linalg.eigvals(momentum.iteration_matrix(method, s, beta, H))))
    assert momentum.spectral_radius(method, s, beta, lam) == pytest.approx(brute, rel=1e-7)


def test_the_tunings_reach_their_closed_form_rates():
    L, mu = 2.0, 0.05
    for tune, method in ((momentum.gd_tuning, "GD"), (momentum.polyak, "HB"),
                         (momentum.nag_sc, "NAG"), (momentum.nag_lrp, "NAG")):
        t = tune(L, mu)
        spec = np.linspace(mu, L, 2001)
        assert momentum.spectral_radius(method, t.s, t.beta, spec) == pytest.approx(t.rate, abs=1e-6)
    k = L / mu
    assert momentum.polyak(L, mu).rate == pytest.approx((np.sqrt(k) - 1) / (np.sqrt(k) + 1))
    assert momentum.nag_sc(L, mu).beta == pytest.approx(momentum.shi_beta(1 / L, mu))
    rates = [f(L, mu).rate for f in (momentum.polyak, momentum.nag_lrp, momentum.nag_sc,
                                     momentum.gd_tuning)]
    assert rates == sorted(rates)


def test_matched_radii_closed_forms():
    """At matched (s, beta) in the oscillating range: HB sqrt(beta), NAG sqrt(beta (1 - s lmin))."""
    lam = np.array([0.02, 0.3, 0.9])
    s, beta = 1.0, 0.9
    assert momentum.mode_radius("HB", s, beta, lam[:1])[0] == pytest.approx(np.sqrt(beta), rel=1e-12)
    assert momentum.spectral_radius("NAG", s, beta, lam) == pytest.approx(
        np.sqrt(beta * (1 - s * lam[0])), rel=1e-12)


@pytest.mark.parametrize("method", ["GD", "HB", "NAG"])
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_stability_limit_separates_contraction_from_divergence(method, beta):
    lim = momentum.stability_limit(method, beta)
    spec = np.array([1e-3, 0.5, 1.0])  # lambda_max = 1, so s * lambda_max = s
    if method == "GD" and beta:
        return
    assert momentum.spectral_radius(method, 0.99 * lim, beta, spec) < 1
    assert momentum.spectral_radius(method, 1.01 * lim, beta, spec) > 1


def test_stability_limit_values():
    assert momentum.stability_limit("HB", 0.9) == pytest.approx(3.8)
    assert momentum.stability_limit("NAG", 0.9) == pytest.approx(3.8 / 2.8)
    assert momentum.stability_limit("GD") == 2.0


def test_young_rate_is_maximal_at_one_plus_sqrt2():
    eps = np.linspace(0.5, 5, 4001)
    c = np.array([momentum.young_rate(e) for e in eps])
    assert eps[np.argmax(c)] == pytest.approx(1 + np.sqrt(2), abs=2e-3)
    assert c.max() == pytest.approx(2 - np.sqrt(2), abs=1e-4)
    assert momentum.young_rate(1 + np.sqrt(2)) == pytest.approx(2 - np.sqrt(2), rel=1e-14)


def test_lyapunov_rate_is_two_minus_sqrt2_at_the_slowest_mode_and_nag_dissipates_more():
    mu = 0.1
    assert momentum.lyapunov_rate("HB", mu, mu, 0.0) == pytest.approx(2 - np.sqrt(2), rel=1e-12)
    lam = np.linspace(mu, 3.0, 50)
    hb = momentum.lyapunov_rate("HB", lam, mu, 0.0)
    assert np.all(hb >= 2 - np.sqrt(2) - 1e-12)
    # brute force: min over states of dissipation / (sqrt(mu) E)
    rng = np.random.default_rng(0)
    st = rng.normal(size=(200000, 2))
    a, D = 1.7, 2 * np.sqrt(mu)
    E = a * st[:, 0] ** 2 / 2 + st[:, 1] ** 2 / 4 + (st[:, 1] + D * st[:, 0]) ** 2 / 4
    Q = D / 2 * (st[:, 1] ** 2 + a * st[:, 0] ** 2)
    assert momentum.lyapunov_rate("HB", a, mu, 0.0) == pytest.approx(np.min(Q / E) / np.sqrt(mu), rel=1e-3)


def test_mode_sequence_matches_powers_of_the_companion_matrix():
    lam = np.array([0.1, 0.7])
    s, beta, steps = 0.8, 0.6, 25
    for method in ("HB", "NAG"):
        x = momentum.mode_sequence(method, s, lam, steps, beta=beta)
        c1, c0 = momentum.companion(method, s, beta, lam)
        for i in range(2):
            M = np.array([[c1[i], c0[i]], [1.0, 0.0]])
            v = np.linalg.matrix_power(M, steps) @ np.array([1.0, 1.0])
            assert x[-1, i] == pytest.approx(v[0], rel=1e-10)


def test_theory_validates_inputs():
    for bad in (lambda: momentum.polyak(0.1, 1.0), lambda: momentum.spectral_radius("X", 1, 0.5, [1]),
                lambda: momentum.spectral_radius("HB", 1, 1.5, [1]),
                lambda: momentum.spectral_radius("HB", 1, 0.5, []),
                lambda: momentum.shi_beta(2.0, 1.0), lambda: momentum.stability_limit("HB", 1.0),
                lambda: momentum.mode_sequence("HB", 0.1, [1.0], 5),
                lambda: momentum.mode_sequence("HB", 0.1, [1.0], 5, r=3.0)):
        with pytest.raises(ValueError):
            bad()


# --- the data and the model the chapter adds ----------------------------------------------------


@pytest.mark.parametrize("name", data.BUNDLED)
def test_bundled_datasets_are_on_the_sphere_with_a_positive_lambda0(name):
    from twolayer import kernels

    X, y = data.bundled(jax.random.key(0), name, 40, d=8)
    assert X.shape == (40, 8) and y.shape == (40,)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)
    assert kernels.lambda_0(X) > 1e-3
    assert np.max(np.abs(y)) <= 0.1 * 4  # targets scaled by 0.1 (diabetes: standardised, |z| < 4)


def test_bundled_and_digits_raw_validate_inputs():
    for bad in (lambda: data.bundled(jax.random.key(0), "mnist", 10),
                lambda: data.bundled(jax.random.key(0), "digits", 10, d=65),
                lambda: data.bundled(jax.random.key(0), "digits", 10, classes=(3, 3)),
                lambda: data.digits_raw(jax.random.key(0), 5000)):
        with pytest.raises(ValueError):
            bad()


def test_bu_model_loss_is_the_mean_squared_error_and_all_parameters_train():
    X, y = data.digits_raw(jax.random.key(0), 12)
    assert float(X.min()) >= 0 and float(X.max()) <= 1
    params = models.bu_init(jax.random.key(1), 32, X.shape[1])
    assert params["W"].shape == (32, 64) and params["b"].shape == (32,)
    assert float(jnp.std(params["W"])) == pytest.approx(1 / 32, rel=0.1)
    prob = models.bu_regression(X, y)
    mse = float(jnp.mean((models.bu_predict(params, X) - y) ** 2))
    assert float(prob.loss(params)) == pytest.approx(mse, rel=1e-12)
    g = prob.grad(params)
    assert all(float(jnp.max(jnp.abs(g[k]))) > 0 for k in ("W", "b", "a"))
    tr = train.run(optim.heavy_ball(1e-3, 0.5), prob, params, 5)
    assert tr.loss[-1] < tr.loss[0]


def test_bu_gram_closed_form_matches_the_autodiff_jacobian():
    X, y = data.digits_raw(jax.random.key(3), 20)
    params = models.bu_init(jax.random.key(4), 48, X.shape[1])
    prob = models.bu_regression(X, y)
    J = prob.J(params)  # autodiff, columns in ravel_pytree order
    np.testing.assert_allclose(models.bu_gram(params, X), J @ J.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(prob.H(params), J @ J.T, rtol=1e-10, atol=1e-12)
    # after some training the biases and outer weights have moved: still equal
    theta = train.run(optim.gd(0.5), prob, params, 20).theta
    J = prob.J(theta)
    np.testing.assert_allclose(prob.H(theta), J @ J.T, rtol=1e-10, atol=1e-12)
