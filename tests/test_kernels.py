"""Closed forms against brute force: H_inf against a wide Monte Carlo Gram, derivatives against autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import data, kernels, models


@pytest.fixture
def X():
    return data.sphere(jax.random.key(0), 8, 4)


def test_h_inf_matches_wide_monte_carlo_gram(X):
    m = 400_000
    net = models.init(jax.random.key(1), m, X.shape[1])
    H = models.gram(net.W, net.a, X)
    Hinf = kernels.h_inf(X)
    # Each entry is x_i.x_j times a mean of m i.i.d. indicators: standard deviation <= 1/(2 sqrt m).
    # 8 standard deviations over 64 entries leaves no room for a false alarm, yet a wrong kernel
    # (e.g. arccos without the pi - ., or a missing x_i.x_j factor) is off by O(1).
    assert np.max(np.abs(H - Hinf)) < 8 * 0.5 / np.sqrt(m)


def test_h_inf_diagonal_trace_and_positivity(X):
    Hinf = kernels.h_inf(X)
    np.testing.assert_allclose(np.diag(Hinf), 0.5, atol=1e-14)
    assert float(jnp.trace(Hinf)) == pytest.approx(X.shape[0] / 2, abs=1e-12)
    assert kernels.lambda_0(X) > 1e-3  # no two inputs parallel


def test_parallel_inputs_make_h_inf_singular(X):
    Xdup = jnp.concatenate([X, X[:1]])
    # Exactly singular in exact arithmetic; arccos near 1 turns round-off of 1e-16 in x.x into
    # an angle of ~1e-8, so lambda_0 is ~1e-9 in floating point (non-parallel data here: ~1e-1).
    assert abs(kernels.lambda_0(Xdup)) < 1e-7


def test_arccos0_is_the_pattern_overlap_probability(X):
    m = 400_000
    W = jax.random.normal(jax.random.key(2), (m, X.shape[1]))
    P = models.patterns(W, X).astype(float)
    assert np.max(np.abs(P @ P.T / m - kernels.arccos0(X))) < 8 * 0.5 / np.sqrt(m)


def test_closed_form_jacobian_vjp_and_gram_match_autodiff(X):
    net = models.init(jax.random.key(3), 50, X.shape[1])
    J = models.jacobian(net.W, net.a, X)
    J_ad = jax.jacrev(lambda W: models.predict(W, net.a, X))(net.W).reshape(X.shape[0], -1)
    np.testing.assert_allclose(J, J_ad, atol=1e-12)
    v = jax.random.normal(jax.random.key(4), (X.shape[0],))
    np.testing.assert_allclose(models.vjp(net.W, net.a, X, v).reshape(-1), J.T @ v, atol=1e-12)
    np.testing.assert_allclose(models.gram(net.W, net.a, X), J @ J.T, atol=1e-12)


def test_symmetric_init_outputs_zero(X):
    net = models.init(jax.random.key(5), 64, X.shape[1], symmetric=True)
    np.testing.assert_allclose(models.predict(net.W, net.a, X), 0.0, atol=1e-12)


def test_regression_problem_agrees_with_model_functions(X):
    y = data.gaussian_targets(jax.random.key(6), X.shape[0])
    net = models.init(jax.random.key(7), 30, X.shape[1])
    prob = models.regression(net, X, y)
    r = models.predict(net.W, net.a, X) - y
    np.testing.assert_allclose(prob.r(net.W), r, atol=1e-14)
    np.testing.assert_allclose(prob.loss(net.W), 0.5 * r @ r, atol=1e-12)
    g_ad = jax.grad(lambda W: 0.5 * jnp.sum((models.predict(W, net.a, X) - y) ** 2))(net.W)
    np.testing.assert_allclose(prob.grad(net.W), g_ad, atol=1e-12)


def _rotated(key, eigenvalues):
    """A symmetric matrix with the given eigenvalues in a random orthonormal basis."""
    k = len(eigenvalues)
    Q, _ = np.linalg.qr(np.asarray(jax.random.normal(key, (k, k))))
    return Q @ np.diag(eigenvalues) @ Q.T


def test_spectral_gap_is_the_spectral_norm_when_the_largest_eigenvalue_in_magnitude_is_negative():
    """||A - B||_2 = max |eigenvalue|, not the largest signed eigenvalue (which would say 2 here).

    The chapters print ||H(0) - H_inf|| and ||H(end) - H(0)||; a signed version would understate
    them whenever the difference leans negative.
    """
    B = _rotated(jax.random.key(11), [0.1, 0.4, 0.7, 1.3])
    D = _rotated(jax.random.key(12), [-5.0, -1.0, 0.5, 2.0])
    A = B + D
    assert kernels.spectral_gap(A, B) == pytest.approx(5.0, rel=1e-12)
    assert kernels.spectral_gap(A, B) == pytest.approx(np.linalg.norm(A - B, 2), rel=1e-12)
    # Symmetric in its arguments: ||A - B|| = ||B - A|| (the top eigenvalue of B - A is +5).
    assert kernels.spectral_gap(B, A) == pytest.approx(kernels.spectral_gap(A, B), rel=1e-12)
    assert kernels.spectral_gap(A, A) == 0.0


def test_spectral_gap_matches_numpy_on_random_symmetric_pairs_and_on_grams(X):
    for s in range(5):
        A = _rotated(jax.random.key(20 + s), np.asarray(jax.random.normal(jax.random.key(40 + s), (6,))))
        B = _rotated(jax.random.key(60 + s), np.asarray(jax.random.normal(jax.random.key(80 + s), (6,))))
        assert kernels.spectral_gap(A, B) == pytest.approx(np.linalg.norm(A - B, 2), rel=1e-12)
        assert kernels.spectral_gap(B, A) == pytest.approx(kernels.spectral_gap(A, B), rel=1e-12)
    # The chapters' use: an empirical Gram of a narrow net against H_inf.
    net = models.init(jax.random.key(9), 20, X.shape[1])
    H, Hinf = np.asarray(models.gram(net.W, net.a, X)), np.asarray(kernels.h_inf(X))
    assert kernels.spectral_gap(H, Hinf) == pytest.approx(np.linalg.norm(H - Hinf, 2), rel=1e-12)
    assert kernels.spectral_gap(Hinf, H) == pytest.approx(np.linalg.norm(H - Hinf, 2), rel=1e-12)
