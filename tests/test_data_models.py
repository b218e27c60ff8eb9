"""The random draws the theorems assume: the N(0, I) / unif{+-1} initialisation and the teacher's scale.

Every chapter's constants (lambda_0, the Gram's concentration, the bound's scale) rest on these
distributions; the chapters only see them through their consequences, so they are pinned here.
Tolerances are 6 standard deviations of the Monte Carlo average (stated per test): a false alarm is
out of the question, while the plausible mistakes (a 1/sqrt(d) or 1/sqrt(m) scale, uniform instead
of Gaussian weights, Gaussian instead of sign output weights, a missing 1/sqrt(width)) miss by
many times the tolerance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import data, models

M, D = 50_000, 4  # 200 000 weights


@pytest.mark.parametrize("symmetric", [False, True])
def test_init_draws_w_from_standard_normal_and_a_from_signs(symmetric):
    net = models.init(jax.random.key(0), M, D, symmetric=symmetric)
    W, a = np.asarray(net.W), np.asarray(net.a)
    assert W.shape == (M, D) and a.shape == (M,)
    # Independent draws: the symmetric init repeats each of its M/2 neurons once.
    N = W.size // 2 if symmetric else W.size
    # E w^2 = 1 with Var(w^2) = 2: sd of the mean sqrt(2/N) (<= 0.0045); tolerance 6 sd.
    assert np.mean(W**2) == pytest.approx(1.0, abs=6 * np.sqrt(2 / N))
    # E w = 0 with sd 1/sqrt(N) of the mean.
    assert abs(np.mean(W)) < 6 / np.sqrt(N)
    # Gaussian shape, not just variance 1: E w^4 = 3 (a uniform law of variance 1 has 1.8);
    # Var(w^4) = 105 - 9 = 96.
    assert np.mean(W**4) == pytest.approx(3.0, abs=6 * np.sqrt(96 / N))
    # Isotropic: every coordinate has variance 1 (a scale 1/sqrt(d) would give 1/4 here).
    np.testing.assert_allclose(np.mean(W**2, axis=0), 1.0, atol=6 * np.sqrt(2 * D / N))
    # a_r in {+1, -1}, balanced, and independent of W.
    assert set(np.unique(a).tolist()) == {-1.0, 1.0}
    assert abs(np.mean(a)) < 6 / np.sqrt(N)
    assert abs(np.mean(a[:, None] * W)) < 6 / np.sqrt(N)


def test_init_is_a_function_of_its_key():
    a, b = models.init(jax.random.key(1), 64, 3), models.init(jax.random.key(1), 64, 3)
    c = models.init(jax.random.key(2), 64, 3)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.a, b.a)
    assert not np.allclose(a.W, c.W)


def _teacher_draws(X, width, n_keys=40_000):
    keys = jax.random.split(jax.random.key(7), n_keys)
    return np.asarray(jax.vmap(lambda k: data.teacher_targets(k, X, width))(keys))  # (n_keys, n)


def _arccos1(cos_theta):
    """E_{v ~ N(0, I)}[relu(v.x) relu(v.x')] for unit x, x' at angle theta (Cho & Saul, degree 1)."""
    th = np.arccos(cos_theta)
    return (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)


@pytest.mark.parametrize("width", [1, 8, 64])
def test_teacher_targets_have_the_docstring_scale(width):
    """y = width^-1/2 sum_r b_r relu(v_r.x), v_r ~ N(0, I), b_r ~ N(0, 1): for unit inputs
    E[y(x)^2] = E relu(z)^2 = 1/2 at every width, and E[y(x) y(x')] is the degree-1 arc-cosine
    kernel of the angle between x and x'."""
    X = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.5, np.sqrt(3) / 2, 0.0]])  # angles pi/2, 2pi/3
    Y = _teacher_draws(X, width)
    N = Y.shape[0]
    # With t_r = b_r relu(v_r.x): E t^2 = 1/2, E t^4 = E b^4 E relu(z)^4 = 3 * 3/2, so
    # E y^4 = 4.5 / width + 0.75 (width - 1) / width <= 4.5 bounds Var(y^2) and Var(y y'):
    # the sd of a mean over N draws is at most sqrt(4.5 / N); tolerance 6 sd (0.064 for N = 40 000).
    tol = 6 * np.sqrt(4.5 / N)
    np.testing.assert_allclose(np.mean(Y**2, axis=0), 0.5, atol=tol)
    C = Y.T @ Y / N
    G = np.clip(np.asarray(X @ X.T), -1, 1)
    np.testing.assert_allclose(C, _arccos1(G), atol=tol)
    if width == 1:
        # y = b relu(v.x): E|y| = E|b| E relu(z) = sqrt(2/pi) / sqrt(2 pi) = 1/pi for b ~ N(0, 1)
        # (signs b = +-1 would give 1/sqrt(2 pi) = 0.40). Var|y| < 1/2: tolerance 6 sqrt(0.5/N).
        np.testing.assert_allclose(np.mean(np.abs(Y), axis=0), 1 / np.pi, atol=6 * np.sqrt(0.5 / N))


def test_teacher_targets_are_positively_homogeneous_with_a_linear_odd_part():
    """relu(cz) = c relu(z) for c > 0 and relu(z) - relu(-z) = z: y(cx) = c y(x), and
    y(x) - y(-x) = x . (V^T b) / sqrt(width) is linear in x (an exact identity, any key)."""
    key = jax.random.key(3)
    X = data.sphere(jax.random.key(4), 6, 5)
    y = data.teacher_targets(key, X, width=16)
    np.testing.assert_allclose(data.teacher_targets(key, 2.5 * X, width=16), 2.5 * y, rtol=1e-12)
    odd = data.teacher_targets(key, X, width=16) - data.teacher_targets(key, -X, width=16)
    E = jnp.concatenate([jnp.eye(5), -jnp.eye(5)])
    ye = data.teacher_targets(key, E, width=16)
    direction = ye[:5] - ye[5:]  # (V^T b) / sqrt(width)
    np.testing.assert_allclose(odd, X @ direction, atol=1e-12)
