"""The scan runner against a Python loop; exact rates on a linear model; divergence reporting."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import data, models, optim, problem, rates, train


def _regression(n=10, d=4, m=200):
    X = data.sphere(jax.random.key(0), n, d)
    y = data.gaussian_targets(jax.random.key(1), n)
    net = models.init(jax.random.key(2), m, d)
    return models.regression(net, X, y), net


def test_scan_runner_equals_python_loop():
    prob, net = _regression()
    eta, steps = 0.7, 40
    trace = train.run(optim.gd(eta), prob, net.W, steps)
    W, losses = net.W, []
    for _ in range(steps):
        r = models.predict(W, net.a, prob.data["X"]) - prob.data["y"]
        losses.append(0.5 * float(r @ r))
        W = W - eta * models.vjp(W, net.a, prob.data["X"], r)
    r = models.predict(W, net.a, prob.data["X"]) - prob.data["y"]
    losses.append(0.5 * float(r @ r))
    np.testing.assert_allclose(trace.loss, losses, rtol=1e-12)
    np.testing.assert_allclose(trace.theta, W, atol=1e-12)
    assert not trace.diverged and trace.steps == steps


def test_monitors_start_at_zero_and_gram_eigs_are_recorded():
    prob, net = _regression()
    trace = train.run(optim.gd(0.5), prob, net.W, 20, gram_every=5)
    assert trace.max_move[0] == 0 and trace.flip_fraction[0] == 0
    assert trace.max_move[-1] > 0
    np.testing.assert_array_equal(trace.gram_steps, [0, 5, 10, 15, 20])
    ev = np.linalg.eigvalsh(np.asarray(prob.H(net.W)))
    assert trace.lambda_min[0] == pytest.approx(ev[0], rel=1e-10)
    assert trace.lambda_max[0] == pytest.approx(ev[-1], rel=1e-10)
    ev_end = np.linalg.eigvalsh(np.asarray(prob.H(trace.theta)))
    assert trace.lambda_min[-1] == pytest.approx(ev_end[0], rel=1e-10)


def _linear(n=6, p=9, seed=0):
    A = jax.random.normal(jax.random.key(seed), (n, p)) / np.sqrt(p)
    b = jax.random.normal(jax.random.key(seed + 1), (n,))
    return problem.linear(A, b), A, b


def test_gd_on_a_linear_model_contracts_exactly_per_eigendirection():
    prob, A, b = _linear()
    lam, V = np.linalg.eigh(np.asarray(A @ A.T))
    eta, steps = 1.0 / lam[-1], 60
    theta0 = jnp.zeros(A.shape[1])
    W = theta0
    coeff0 = V.T @ np.asarray(prob.r(theta0))
    for k in range(1, steps + 1):
        W = W - eta * prob.grad(W)
        coeff = V.T @ np.asarray(prob.r(W))
        np.testing.assert_allclose(coeff, (1 - eta * lam) ** k * coeff0, rtol=1e-9, atol=1e-14)
    trace = train.run(optim.gd(eta), prob, theta0, steps)
    np.testing.assert_allclose(trace.theta, W, atol=1e-12)
    # The loss's late slope is 2 log(1 - eta lambda_min): the linearised prediction, exactly.
    fit = rates.fit_linear_rate(trace.loss, (30, 60))
    assert fit.slope == pytest.approx(rates.linearized_loss_slope(eta, lam[0]), rel=1e-3)


def test_autodiff_problem_matches_closed_form_linear_problem():
    prob, A, b = _linear()
    ad = problem.from_residual(lambda th, d: d["A"] @ th - d["b"], {"A": A, "b": b})
    th = jax.random.normal(jax.random.key(9), (A.shape[1],))
    np.testing.assert_allclose(ad.J(th), prob.J(th), atol=1e-14)
    np.testing.assert_allclose(ad.grad(th), prob.grad(th), atol=1e-12)
    np.testing.assert_allclose(ad.H(th), prob.H(th), atol=1e-12)


def test_divergence_is_reported_with_its_step_not_drawn_as_nan():
    prob, A, b = _linear()
    lam_max = np.linalg.eigvalsh(np.asarray(A @ A.T))[-1]
    trace = train.run(optim.gd(1e3 / lam_max), prob, jnp.zeros(A.shape[1]), 400)
    assert trace.diverged
    k = trace.first_nonfinite
    assert 0 < k <= 400
    assert np.all(np.isfinite(trace.loss[:k])) and np.all(np.isnan(trace.loss[k:]))
    assert np.all(np.isfinite(np.asarray(trace.theta)))  # last finite parameters are kept
    assert np.isfinite(float(prob.loss(trace.theta)))  # ... with a finite loss: theta_{k-1}
    theta = jnp.zeros(A.shape[1])
    for _ in range(k - 1):
        theta = theta - 1e3 / lam_max * prob.grad(theta)
    np.testing.assert_allclose(trace.theta, theta, rtol=1e-12)
    assert f"diverged at step {k}" in trace.summary()
    with pytest.raises(FloatingPointError, match=f"step {k}"):
        trace.require_finite()


def test_rate_fits_recover_known_rates():
    k = np.arange(100)
    fit = rates.fit_linear_rate(3.0 * 0.9**k, (10, 90))
    assert fit.factor == pytest.approx(0.9, rel=1e-12)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert rates.fit_power_law(x, 5 * x**-0.5).slope == pytest.approx(-0.5, rel=1e-12)
    assert rates.steps_to(0.5**k, 1e-3) == 10
    assert rates.first_violation(0.5**k, 0.6**k) == -1
    assert rates.first_violation(0.6**k, 0.5**k) == 1


def test_linearized_loss_is_exact_for_a_linear_model():
    prob, A, b = _linear()
    H = np.asarray(A @ A.T)
    eta = 0.9 / np.linalg.eigvalsh(H)[-1]
    theta0 = jnp.zeros(A.shape[1])
    trace = train.run(optim.gd(eta), prob, theta0, 50)
    lin = rates.linearized_loss(H, np.asarray(prob.r(theta0)), eta, 50)
    np.testing.assert_allclose(trace.loss, lin, rtol=1e-9)
    k = rates.linearized_steps_to(H, np.asarray(prob.r(theta0)), eta, 1e-6)
    full = rates.linearized_loss(H, np.asarray(prob.r(theta0)), eta, k)
    assert full[k] <= 1e-6 * full[0] < full[k - 1]
    assert rates.linearized_steps_to(H, np.asarray(prob.r(theta0)), 2.5 / np.linalg.eigvalsh(H)[-1]) == -1


def test_gd_matches_optax_sgd_step_for_step():
    """The runner's GD is plain SGD on L = 1/2 ||r||^2 with the full batch: optax agrees."""
    import optax  # pinned in requirements.txt; a missing install must fail, not skip
    prob, net = _regression()
    eta, steps = 0.3, 25
    trace = train.run(optim.gd(eta), prob, net.W, steps)
    tx = optax.sgd(eta)
    W, state = net.W, tx.init(net.W)
    loss = jax.grad(lambda W: 0.5 * jnp.sum(prob.r(W) ** 2))
    for _ in range(steps):
        updates, state = tx.update(loss(W), state)
        W = optax.apply_updates(W, updates)
    np.testing.assert_allclose(trace.theta, W, atol=1e-12)


def test_loss_zero_is_the_initial_loss_and_loss_one_is_one_hand_made_step():
    prob, net = _regression()
    eta = 0.3
    trace = train.run(optim.gd(eta), prob, net.W, 3)
    assert trace.loss[0] == pytest.approx(float(prob.loss(net.W)), rel=1e-13)
    W1 = net.W - eta * prob.grad(net.W)
    assert trace.loss[1] == pytest.approx(float(prob.loss(W1)), rel=1e-13)
    assert trace.loss[1] != pytest.approx(trace.loss[0], rel=1e-6)


def _residual_record(theta, prob):
    return prob.r(theta)


def test_record_stacks_what_the_chapter_asks_for_at_every_step():
    prob, net = _regression()
    eta, steps = 0.5, 7
    trace = train.run(optim.gd(eta), prob, net.W, steps,
                      record=lambda th, p: {"r": p.r(th), "w0": th[0, 0]})
    W, rs, w0 = net.W, [], []
    for _ in range(steps + 1):
        rs.append(np.asarray(prob.r(W)))
        w0.append(float(W[0, 0]))
        W = W - eta * prob.grad(W)
    np.testing.assert_allclose(trace.records["r"], np.stack(rs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.records["w0"], w0, rtol=1e-12)
    np.testing.assert_allclose(0.5 * np.sum(trace.records["r"] ** 2, axis=1), trace.loss, rtol=1e-12)
    assert train.run(optim.gd(eta), prob, net.W, 2).records is None


def test_records_are_nan_from_the_step_where_the_run_diverged():
    prob, A, b = _linear()
    lam_max = float(np.linalg.eigvalsh(np.asarray(A @ A.T))[-1])
    trace = train.run(optim.gd(50.0 / lam_max), prob, jnp.zeros(A.shape[1]), 400, record=_residual_record)
    assert trace.diverged
    k = trace.first_nonfinite
    assert np.all(np.isfinite(trace.records[:k])) and np.all(np.isnan(trace.records[k:]))


def test_record_must_be_a_function():
    prob, net = _regression()
    with pytest.raises(ValueError, match="record must be a function"):
        train.run(optim.gd(0.5), prob, net.W, 2, record=3)
