"""NGD identities, Gram-Gauss-Newton on a linear model, K-FAC factors against the exact Fisher,
the digits loader, and the natural module's input validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from twolayer import data, models, natural, optim, problem, train


def _regression(n=10, d=4, m=60, seed=0):
    X = data.sphere(jax.random.key(seed), n, d)
    y = data.gaussian_targets(jax.random.key(seed + 1), n)
    net = models.init(jax.random.key(seed + 2), m, d)
    return models.regression(net, X, y), net, X


# --------------------------------------------------------------------------------------------
# NGD: the three forms of the direction, push-through, linear model
# --------------------------------------------------------------------------------------------
def test_three_forms_of_the_ngd_direction_agree():
    # J^T (J J^T)^-1 r = J^+ r = (J^T J)^+ J^T r, on the two-layer net (n=10, d=4, m=200).
    prob, net, _ = _regression()
    J = np.asarray(prob.J(net.W))
    r = np.asarray(prob.r(net.W))
    gram_form = np.asarray(natural.ngd_direction(prob, net.W)).ravel()
    pinv_form = np.linalg.pinv(J, rcond=1e-10) @ r
    fisher_form = np.linalg.pinv(J.T @ J, rcond=1e-10, hermitian=True) @ (J.T @ r)
    scale = np.linalg.norm(pinv_form)
    assert np.linalg.norm(gram_form - pinv_form) / scale < 1e-11
    assert np.linalg.norm(fisher_form - pinv_form) / scale < 1e-9
    # the package's own p-by-p reference agrees too
    ref = np.asarray(natural.fisher_direction(prob, net.W)).ravel()
    assert np.linalg.norm(ref - pinv_form) / scale < 1e-9
    # and the direction solves J delta = r with the minimum norm (it lies in the row space of J)
    np.testing.assert_allclose(J @ gram_form, r, atol=1e-10)
    coeff, *_ = np.linalg.lstsq(J.T, gram_form, rcond=None)
    np.testing.assert_allclose(J.T @ coeff, gram_form, atol=1e-10)


@pytest.mark.parametrize("lam", [1e-3, 1.0])
def test_damped_push_through_identity(lam):
    # (J^T J + lam I)^-1 J^T r = J^T (J J^T + lam I)^-1 r
    prob, net, _ = _regression(n=8, d=3, m=40, seed=3)
    J = np.asarray(prob.J(net.W))
    r = np.asarray(prob.r(net.W))
    p_side = np.linalg.solve(J.T @ J + lam * np.eye(J.shape[1]), J.T @ r)
    n_side = np.asarray(natural.ngd_direction(prob, net.W, damping=lam)).ravel()
    assert np.linalg.norm(p_side - n_side) / np.linalg.norm(p_side) < 1e-11
    ref = np.asarray(natural.fisher_direction(prob, net.W, damping=lam)).ravel()
    assert np.linalg.norm(ref - n_side) / np.linalg.norm(p_side) < 1e-9


def _linear(n=6, p=15, seed=0):
    A = jax.random.normal(jax.random.key(seed), (n, p)) / np.sqrt(p)
    b = jax.random.normal(jax.random.key(seed + 1), (n,))
    return problem.linear(A, b), np.asarray(A), np.asarray(b)


def test_ngd_with_unit_step_solves_a_linear_model_in_one_step():
    prob, A, b = _linear()
    theta0 = jax.random.normal(jax.random.key(9), (A.shape[1],))
    for opt in (natural.ngd(1.0), natural.ggn()):
        trace = train.run(opt, prob, theta0, 1)
        assert trace.residual_norm[1] < 1e-12 * trace.residual_norm[0]
        # ... landing on the interpolant nearest to theta0
        expected = np.asarray(theta0) - np.linalg.pinv(A) @ (A @ np.asarray(theta0) - b)
        np.testing.assert_allclose(trace.theta, expected, atol=1e-12)


@pytest.mark.parametrize("eta", [0.25, 0.5, 1.5])
def test_ngd_on_a_linear_model_is_a_straight_line(eta):
    # r <- (1 - eta) r exactly, whatever the spectrum of A A^T.
    prob, A, b = _linear(seed=4)
    theta0 = jnp.zeros(A.shape[1])
    R = natural.residual_path(natural.ngd(eta), prob, theta0, 6)
    for k in range(6):
        np.testing.assert_allclose(R[k + 1], (1 - eta) * R[k], atol=1e-12)


def test_damped_ngd_contracts_each_eigendirection_by_its_own_factor():
    prob, A, b = _linear(seed=5)
    lam, eta = 0.3, 0.5
    mu, V = np.linalg.eigh(A @ A.T)
    R = natural.residual_path(natural.ngd(eta, damping=lam), prob, jnp.zeros(A.shape[1]), 3)
    factor = 1 - eta * mu / (mu + lam)
    for k in range(3):
        np.testing.assert_allclose(V.T @ R[k + 1], factor * (V.T @ R[k]), atol=1e-12)


def test_residual_path_agrees_with_the_runner():
    prob, net, _ = _regression()
    R = natural.residual_path(natural.ngd(0.5), prob, net.W, 5)
    trace = train.run(natural.ngd(0.5), prob, net.W, 5)
    np.testing.assert_allclose(np.linalg.norm(R, axis=1), trace.residual_norm, rtol=1e-12)
    np.testing.assert_allclose(R[-1], prob.r(trace.theta), atol=1e-12)


def test_gd_and_ngd_agree_with_hand_written_steps():
    prob, net, X = _regression()
    W1 = train.run(natural.ngd(0.3, damping=0.1), prob, net.W, 1).theta
    r = prob.r(net.W)
    z = jnp.linalg.solve(prob.H(net.W) + 0.1 * jnp.eye(10), r)
    np.testing.assert_allclose(W1, net.W - 0.3 * models.vjp(net.W, net.a, X, z), atol=1e-12)


# --------------------------------------------------------------------------------------------
# Singular Gram: the check raises, the run reports a divergence, damping rescues it
# --------------------------------------------------------------------------------------------
def _duplicated():
    X = data.sphere(jax.random.key(0), 6, 3)
    X = X.at[5].set(X[0])                      # two identical inputs ...
    y = jnp.arange(6.0)                        # ... with different targets
    net = models.init(jax.random.key(1), 300, 3)
    return models.regression(net, X, y), net


def test_check_gram_raises_on_a_singular_gram_and_passes_otherwise():
    prob, net = _duplicated()
    with pytest.raises(ValueError, match="singular"):
        natural.check_gram(prob, net.W)
    lo, hi = natural.check_gram(prob, net.W, damping=1e-3)  # damped: allowed
    assert lo < 1e-10 * hi
    good, net2, _ = _regression()
    lo, hi = natural.check_gram(good, net2.W)
    assert 0 < lo < hi


def test_undamped_ngd_on_a_singular_gram_is_reported_as_divergence():
    prob, net = _duplicated()
    trace = train.run(natural.ngd(0.5), prob, net.W, 4)
    assert trace.diverged and trace.first_nonfinite == 1
    damped = train.run(natural.ngd(0.5, damping=1e-3), prob, net.W, 40)
    assert not damped.diverged
    # the least-squares floor: the duplicated pair keeps residuals +-(y5 - y0)/2
    assert damped.loss[-1] == pytest.approx(0.5 * 2 * (5.0 / 2) ** 2, rel=1e-3)


# --------------------------------------------------------------------------------------------
# K-FAC: the factors against the exact Fisher built by brute force
# --------------------------------------------------------------------------------------------
def _autodiff_jacobian(W, a, X):
    flat, unravel = ravel_pytree(W)
    return np.asarray(jax.jacrev(lambda f: models.predict(unravel(f), a, X))(flat))


def _tiny(n=5, d=3, m=7, seed=0):
    X = data.sphere(jax.random.key(seed), n, d)
    net = models.init(jax.random.key(seed + 1), m, d)
    return net.W, net.a, X


def test_kfac_factors_against_the_exact_fisher():
    W, a, X = _tiny()
    n, d = X.shape
    m = W.shape[0]
    J = _autodiff_jacobian(W, a, X)            # brute force, (n, m*d)
    F = J.T @ J                                # exact Gauss-Newton / Fisher (times n)
    A, S = natural.kfac_factors(W, a, X)
    assert A.shape == (d, d) and S.shape == (m, m)
    # the factors written out: A = X^T X, S = Gamma^T Gamma with Gamma from autodiff
    G = np.einsum("irk,ik->ir", J.reshape(n, m, d), np.asarray(X))   # unit rows: g_ir x_i.x_i
    np.testing.assert_allclose(A, np.asarray(X).T @ np.asarray(X), atol=1e-13)
    np.testing.assert_allclose(S, G.T @ G, atol=1e-13)
    assert np.linalg.matrix_rank(np.asarray(S), tol=1e-10) <= n
    # the exact Fisher is the sum of per-example Kronecker products S_i (x) A_i ...
    per_example = 0
    for i in range(n):
        A_i, S_i = natural.kfac_factors(W, a, X[i:i + 1])
        per_example = per_example + np.kron(S_i, A_i)
    np.testing.assert_allclose(per_example, F, atol=1e-12)
    # ... which K-FAC replaces by (1/n) S (x) A: exact for a single example,
    W1, a1, X1 = W, a, X[:1]
    J1 = _autodiff_jacobian(W1, a1, X1)
    A1, S1 = natural.kfac_factors(W1, a1, X1)
    np.testing.assert_allclose(np.kron(S1, A1), J1.T @ J1, atol=1e-13)
    # S is the partial trace of the exact Fisher over the input index (unit inputs):
    partial = np.einsum("rksk->rs", F.reshape(m, d, m, d))
    np.testing.assert_allclose(partial, S, atol=1e-12)
    # and K-FAC is not the Fisher (it is an approximation): they differ for n > 1
    assert np.linalg.norm(np.kron(S, A) / n - F) > 1e-3 * np.linalg.norm(F)


def test_kfac_direction_is_the_kronecker_pseudo_inverse_applied_to_the_gradient():
    W, a, X = _tiny(n=5, d=3, m=7, seed=2)
    r = jax.random.normal(jax.random.key(5), (5,))
    A, S = natural.kfac_factors(W, a, X)
    J = _autodiff_jacobian(W, a, X)
    for lam in (0.0, 0.1):
        P = np.kron(np.asarray(S) + lam * np.eye(7), np.asarray(A) + lam * np.eye(3))
        brute = np.linalg.pinv(P, rcond=1e-10, hermitian=True) @ (J.T @ np.asarray(r))
        D = natural.kfac_direction(W, a, X, r, damping=lam)
        np.testing.assert_allclose(np.asarray(D).ravel(), brute, atol=1e-10)


def test_ngd_and_kfac_absorb_the_same_factor_n_into_eta():
    # The Fisher is F = J^T J / n and K-FAC approximates J^T J by (1/n) S (x) A. Both book steps
    # drop the same factor n: n * direction = (approximate Fisher)^+ gradient, for both.
    prob, net, X = _regression(n=5, d=3, m=40, seed=3)
    n = X.shape[0]
    J = _autodiff_jacobian(net.W, net.a, X)
    r = np.asarray(prob.r(net.W))
    grad = J.T @ r
    pinv = lambda M: np.linalg.pinv(M, rcond=1e-10, hermitian=True)  # noqa: E731
    ngd_dir = np.asarray(natural.ngd_direction(prob, net.W)).ravel()
    np.testing.assert_allclose(n * ngd_dir, pinv(J.T @ J / n) @ grad, atol=1e-8)
    A, S = natural.kfac_factors(net.W, net.a, X)
    kfac_fisher = np.kron(np.asarray(S), np.asarray(A)) / n
    D = np.asarray(natural.kfac_direction(net.W, net.a, X, r)).ravel()
    np.testing.assert_allclose(n * D, pinv(kfac_fisher) @ grad, atol=1e-8)
    # the convention is not vacuous: without the factor n the two differ
    assert np.linalg.norm(D - pinv(kfac_fisher) @ grad) > 0.5 * np.linalg.norm(D)


def test_kfac_moves_each_output_by_its_leverage_times_its_residual():
    # First order (J fixed): J vec(Delta W) = l o r when Gamma has full row rank (m >= n).
    W, a, X = _tiny(n=8, d=3, m=60, seed=4)
    r = jax.random.normal(jax.random.key(6), (8,))
    J = _autodiff_jacobian(W, a, X)
    lev = natural.leverage_scores(X)
    np.testing.assert_allclose(lev.sum(), 3.0, atol=1e-12)   # = rank X = d
    assert np.all(lev >= 1 / np.linalg.eigvalsh(np.asarray(X.T @ X))[-1] - 1e-12)
    D = np.asarray(natural.kfac_direction(W, a, X, r)).ravel()
    np.testing.assert_allclose(J @ D, lev * np.asarray(r), atol=1e-10)
    # with d >= n every leverage is 1 and K-FAC moves the outputs like NGD: J Delta = r
    W2, a2, X2 = _tiny(n=4, d=6, m=40, seed=7)
    r2 = jax.random.normal(jax.random.key(8), (4,))
    np.testing.assert_allclose(natural.leverage_scores(X2), 1.0, atol=1e-10)
    D2 = np.asarray(natural.kfac_direction(W2, a2, X2, r2)).ravel()
    np.testing.assert_allclose(_autodiff_jacobian(W2, a2, X2) @ D2, r2, atol=1e-10)


def test_kfac_optimizer_step_matches_kfac_direction():
    prob, net, X = _regression(n=6, d=3, m=50)
    W1 = train.run(natural.kfac_two_layer(0.7, damping=0.01), prob, net.W, 1).theta
    D = natural.kfac_direction(net.W, net.a, X, prob.r(net.W), damping=0.01)
    np.testing.assert_allclose(W1, net.W - 0.7 * D, atol=1e-12)


def test_kfac_rejects_a_problem_that_is_not_a_two_layer_net():
    prob, A, b = _linear()
    with pytest.raises(ValueError, match="two-layer"):
        train.run(natural.kfac_two_layer(1.0), prob, jnp.zeros(A.shape[1]), 1)


# --------------------------------------------------------------------------------------------
# The digits loader
# --------------------------------------------------------------------------------------------
def test_digits_pair_shapes_norms_targets_and_keys():
    X, Y, lab = data.digits_pair(jax.random.key(0), 30, classes=(4, 9), noise=0.3)
    assert X.shape == (30, 64) and Y.shape == (30, 2) and lab.shape == (30,)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(X), axis=1), 1.0, atol=1e-12)
    assert set(np.asarray(lab).tolist()) <= {0, 1} and 0 < int(lab.sum()) < 30
    # noise-free targets are the centred one-hot vectors
    X0, Y0, lab0 = data.digits_pair(jax.random.key(0), 30, noise=0.0)
    np.testing.assert_allclose(X0, X)
    onehot = np.eye(2)[np.asarray(lab0)] - 0.5
    np.testing.assert_allclose(Y0, onehot)
    noise = np.asarray(Y - Y0) / 0.3
    assert 0.6 < noise.std() < 1.4
    # the key decides the draw; the same key gives the same draw
    X1, _, _ = data.digits_pair(jax.random.key(1), 30)
    assert not np.allclose(X1, X)
    np.testing.assert_array_equal(data.digits_pair(jax.random.key(0), 30)[0], X)
    # the images are the right digits, scaled to unit norm
    from sklearn.datasets import load_digits
    b = load_digits()
    imgs = b.data[(b.target == 4) | (b.target == 9)]
    imgs = imgs / np.linalg.norm(imgs, axis=1, keepdims=True)
    assert all(np.min(np.linalg.norm(imgs - np.asarray(x), axis=1)) < 1e-12 for x in X[:5])


def test_digits_pair_at_full_size_is_every_image_of_the_pair_once():
    # The chapter's paper scale asks for n = 361: every 4 and every 9 of the bundled set, each
    # exactly once, in a key-dependent order, with no two inputs parallel (undamped NGD needs it).
    from sklearn.datasets import load_digits
    b = load_digits()
    pool = b.data[(b.target == 4) | (b.target == 9)]
    assert pool.shape[0] == 361
    X, Y, lab = data.digits_pair(jax.random.key(0), 361)
    X = np.asarray(X)
    assert np.bincount(np.asarray(lab)).tolist() == [int(np.sum(b.target == 4)),
                                                      int(np.sum(b.target == 9))]
    imgs = pool / np.linalg.norm(pool, axis=1, keepdims=True)
    nearest = np.argmin(np.linalg.norm(imgs[None] - X[:, None], axis=-1), axis=1)
    assert sorted(nearest.tolist()) == list(range(361))  # a permutation of the pool
    cos = X @ X.T - 2 * np.eye(361)
    assert cos.max() < 1 - 1e-6  # no two images parallel


def test_digits_pair_validation():
    with pytest.raises(ValueError, match="two different digits"):
        data.digits_pair(jax.random.key(0), 10, classes=(4, 4))
    with pytest.raises(ValueError, match="two different digits"):
        data.digits_pair(jax.random.key(0), 10, classes=(4, 12))
    with pytest.raises(ValueError, match="classes must be two digits"):
        data.digits_pair(jax.random.key(0), 10, classes=(4,))
    with pytest.raises(ValueError, match="n must be between 2 and"):
        data.digits_pair(jax.random.key(0), 10_000)
    with pytest.raises(ValueError, match="noise"):
        data.digits_pair(jax.random.key(0), 10, noise=-1.0)


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eta", [0, -0.5, float("nan"), "fast"])
def test_step_size_must_be_positive(eta):
    with pytest.raises(ValueError, match="step size"):
        natural.ngd(eta)
    with pytest.raises(ValueError, match="step size"):
        natural.kfac_two_layer(eta)


@pytest.mark.parametrize("damping", [-1e-3, float("inf"), None])
def test_damping_must_be_non_negative(damping):
    for build in (lambda: natural.ngd(0.5, damping), lambda: natural.ggn(damping),
                  lambda: natural.kfac_two_layer(1.0, damping)):
        with pytest.raises(ValueError, match="damping"):
            build()


def test_names_say_when_a_run_is_damped():
    assert natural.ngd(0.5).name == "NGD"
    assert natural.ngd(0.5, 1e-3).name == "NGD (damping 0.001)"
    assert natural.ggn().name == "GGN" and natural.ggn().hyper["eta"] == 1.0
    assert natural.kfac_two_layer(1.0).name == "K-FAC"
    assert isinstance(natural.ngd(0.5), optim.Optimizer)


def test_other_bad_inputs():
    prob, net, X = _regression()
    with pytest.raises(ValueError, match="rcond"):
        natural.check_gram(prob, net.W, rcond=0.0)
    with pytest.raises(ValueError, match="rcond"):
        natural.kfac_two_layer(1.0, rcond=-1.0)
    with pytest.raises(ValueError, match="must be a twolayer.problem.Problem"):
        natural.ngd_direction("not a problem", net.W)
    with pytest.raises(ValueError, match="r has 3 entries"):
        natural.kfac_direction(net.W, net.a, X, jnp.ones(3))
    with pytest.raises(ValueError, match="a has 5 entries"):
        natural.kfac_factors(net.W, net.a[:5], X)
    with pytest.raises(ValueError, match="dimension 4 but X has 3"):
        natural.kfac_factors(net.W, net.a, X[:, :3])
    with pytest.raises(ValueError, match="steps"):
        natural.residual_path(natural.ngd(0.5), prob, net.W, 0)
    with pytest.raises(ValueError, match="X must be a 2-D"):
        natural.leverage_scores(np.ones(3))
