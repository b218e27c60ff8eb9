"""The two-layer PINN: closed-form residual, J^T v, Jacobian and Gram against autodiff (the PDE
operator applied by jax.hessian), the activations' derivatives, the Monte Carlo H_inf against the
exact trace, collocation sets, Adam against optax, and input validation."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from twolayer import models, natural, optim, pinn, train


def _autodiff_residual(W, data, activation):
    """The residual row by row, with the operator applied by jax.hessian / jax.grad of phi."""
    a, m = data["a"], W.shape[0]

    def phi(z):
        zt = jnp.concatenate([z, jnp.ones(1)])
        return jnp.tanh(zt @ W.T) @ a / jnp.sqrt(m) if activation == "tanh" else \
            jnp.maximum(zt @ W.T, 0.0) ** 3 @ a / jnp.sqrt(m)

    rows = []
    for i in range(data["Z"].shape[0]):
        z = data["Z"][i, :-1]
        k = int(data["kind"][i])
        A, b, c = data["A"][k], data["b"][k], data["c"][k]
        rows.append(jnp.sum(A * jax.hessian(phi)(z)) + b @ jax.grad(phi)(z) + c * phi(z))
    return data["omega"] * (jnp.stack(rows) - data["target"])


PDES = {
    "poisson1": lambda: pinn.poisson(1, 4),
    "poisson2": lambda: pinn.poisson(2, 4),
    "poisson3_random": lambda: pinn.poisson(3, 3, 3, points="random", key=jax.random.key(4)),
    "heat": lambda: pinn.heat(2, 2),
    "helmholtz": lambda: pinn.helmholtz(4, k=2.5),
    "helmholtz_random": lambda: pinn.helmholtz(5, 4, k=1.0, points="random", key=jax.random.key(6)),
}


@pytest.mark.parametrize("activation", pinn.ACTIVATIONS)
@pytest.mark.parametrize("which", sorted(PDES))
def test_closed_forms_match_autodiff(which, activation):
    pde = PDES[which]()
    net = models.init(jax.random.key(3), 9, pde.dim + 1)
    prob = pinn.problem(pde, net, activation)
    r = prob.r(net.W)
    r_ad = _autodiff_residual(net.W, prob.data, activation)
    np.testing.assert_allclose(r, r_ad, rtol=1e-10, atol=1e-10)
    J = np.asarray(prob.J(net.W))
    J_ad = np.asarray(jax.jacrev(lambda w: _autodiff_residual(w, prob.data, activation))(net.W))
    np.testing.assert_allclose(J, J_ad.reshape(len(r), -1), rtol=1e-9, atol=1e-9)
    v = np.asarray(jax.random.normal(jax.random.key(5), r.shape))
    np.testing.assert_allclose(np.asarray(prob.vjp(net.W, prob.data, v)).ravel(), J.T @ v,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(prob.H(net.W), J @ J.T, rtol=1e-10, atol=1e-10)
    assert J.shape == (pde.n, net.W.size)


@pytest.mark.parametrize("activation", pinn.ACTIVATIONS)
def test_activation_derivatives_match_autodiff(activation):
    s = jnp.linspace(-2.3, 2.1, 17)
    f = lambda z: pinn.activation(activation, z)[0]  # noqa: E731
    d1, d2, d3 = jax.grad(f), jax.grad(jax.grad(f)), jax.grad(jax.grad(jax.grad(f)))
    got = pinn.activation(activation, s)
    for k, d in enumerate((d1, d2, d3), start=1):
        np.testing.assert_allclose(got[k], jax.vmap(d)(s), rtol=1e-12, atol=1e-12)


def test_poisson_exact_solutions_solve_the_pde():
    # -Laplace u* = f (finite differences) and u* = g on the boundary, for both solution families.
    for d, sol in ((1, "product"), (2, "product"), (3, "sum")):
        pde = pinn.poisson(d, 8 ** d if d < 3 else 10, None if d < 3 else 6,
                           points="grid" if d < 3 else "random", key=jax.random.key(0), solution=sol)
        h = 1e-4
        x = pde.interior
        lap = sum((pde.exact(x + h * e) - 2 * pde.exact(x) + pde.exact(x - h * e)) / h**2
                  for e in np.eye(d))
        np.testing.assert_allclose(-lap, pde.f, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(pde.g, pde.exact(pde.boundary))
        on_face = np.any((pde.boundary == 0) | (pde.boundary == 1), axis=1)
        assert on_face.all()


def test_helmholtz_exact_solution_and_operator():
    # -Laplace u* - k^2 u* = f (finite differences), u* = g = 0 on the boundary, and the operator
    # is A = -I, b = 0, c = -k^2.
    pde = pinn.helmholtz(36, k=3.0, modes=(1, 4))
    h = 1e-4
    x = pde.interior
    lap = sum((pde.exact(x + h * e) - 2 * pde.exact(x) + pde.exact(x - h * e)) / h**2
              for e in np.eye(2))
    np.testing.assert_allclose(-lap - 9.0 * pde.exact(x), pde.f, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(pde.f, (17 * np.pi**2 - 9.0) * pde.exact(x))
    np.testing.assert_allclose(pde.g, 0.0, atol=1e-12)
    np.testing.assert_allclose(pde.exact(pde.boundary), 0.0, atol=1e-12)
    assert pde.n1 == 36 and pde.n2 == 24 and pde.dim == 2 and pde.name == "2-D Helmholtz"
    np.testing.assert_array_equal(pde.A, -np.eye(2))
    assert pde.c == -9.0 and np.all(pde.b == 0)
    assert pde.eval_points.shape == (51 * 51, 2)
    # k = 0 is Poisson with the same solution
    p0, pp = pinn.helmholtz(16, k=0.0, modes=(1, 1)), pinn.poisson(2, 16)
    np.testing.assert_allclose(p0.f, pp.f)
    np.testing.assert_allclose(p0.eval_exact, pp.eval_exact, atol=1e-15)


def test_helmholtz_ngd_solves_it():
    # NGD contracts the loss at the linearised rate on a (smooth) Helmholtz problem too.
    pde = pinn.helmholtz(16, k=1.0, modes=(1, 1))
    net = models.init(jax.random.key(1), 3000, 3)
    prob = pinn.problem(pde, net)
    tr = train.run(natural.ngd(0.5), prob, net.W, 4)
    np.testing.assert_allclose(tr.loss[1:] / tr.loss[:-1], 0.25, atol=0.05)


def test_heat_exact_solution_and_points():
    pde = pinn.heat(5, 4, kappa=0.3, T=0.5)
    h = 1e-4
    z = pde.interior
    ex, et = np.array([h, 0.0]), np.array([0.0, h])
    u_t = (pde.exact(z + et) - pde.exact(z - et)) / (2 * h)
    u_xx = (pde.exact(z + ex) - 2 * pde.exact(z) + pde.exact(z - ex)) / h**2
    np.testing.assert_allclose(u_t - 0.3 * u_xx, 0.0, atol=1e-5)
    assert pde.n1 == 20 and pde.n2 == 2 * 4 + 5
    np.testing.assert_allclose(pde.g[-5:], np.sin(np.pi * pde.boundary[-5:, 0]))  # u(x, 0)
    assert pde.eval_points.shape == (51 * 51, 2) and pde.eval_points[:, 1].max() == 0.5


def test_collocation_sets():
    np.testing.assert_allclose(pinn.midpoints(4), [0.125, 0.375, 0.625, 0.875])
    pde = pinn.poisson(2, 16)
    assert pde.n1 == 16 and pde.n2 == 16
    a = pinn.poisson(2, 10, 8, points="random", key=jax.random.key(2))
    b = pinn.poisson(2, 10, 8, points="random", key=jax.random.key(2))
    np.testing.assert_array_equal(a.interior, b.interior)
    assert a.n2 == 8
    # the error metric's points are a separate grid (201 equispaced points, endpoints included;
    # only the few midpoints that happen to lie on it coincide)
    p1 = pinn.poisson(1, 20)
    assert p1.eval_points.shape == (201, 1) and p1.eval_points[0, 0] == 0 and p1.eval_points[-1, 0] == 1
    assert np.isin(p1.eval_points, p1.interior).mean() < 0.1


def test_residual_weights_and_relative_l2():
    # At W = 0 the net is 0, so r = (-f / sqrt(n1), -g / sqrt(n2)) and the relative error is 1.
    pde = pinn.heat(3, 3)
    net = models.init(jax.random.key(0), 5, pde.dim + 1)
    prob = pinn.problem(pde, net, "relu3")
    W0 = jnp.zeros_like(net.W)
    np.testing.assert_allclose(prob.r(W0), np.concatenate([-pde.f / 3.0, -pde.g / 3.0]), atol=1e-15)
    assert pinn.relative_l2(pde, W0, net.a) == pytest.approx(1.0)
    assert np.isnan(pinn.relative_l2(pde, W0 * np.nan, net.a))


def test_trace_of_h_inf_poisson1d_exact_and_monte_carlo():
    pde = pinn.poisson(1, 10)
    exact = pinn.trace_inf_poisson1d(pde.interior, pde.boundary)
    assert exact == pytest.approx(348.75 - 40.5 / 100, rel=1e-12)
    est = pinn.gram_inf(pde, jax.random.key(0), neurons=60_000, chunk=6_000)
    assert abs(est.trace - exact) < 4 * est.trace_se
    assert est.trace_se / exact < 0.05
    assert est.H.shape == (12, 12) and np.all(est.eig_se > 0)
    np.testing.assert_allclose(est.H, est.H.T)


def test_gram_inf_is_the_mean_of_finite_width_grams():
    # One chunk of the Monte Carlo equals the empirical Gram of a net with those neurons and a = 1.
    pde = pinn.poisson(1, 4)
    est = pinn.gram_inf(pde, jax.random.key(7), neurons=40, chunk=20)
    k1, k2 = jax.random.split(jax.random.key(7), 2)
    Hs = []
    for k in (k1, k2):
        W = jax.random.normal(k, (20, 2))
        prob = pinn.problem(pde, models.Net(W, jnp.ones(20)))
        Hs.append(np.asarray(prob.H(W)))
    np.testing.assert_allclose(est.H, np.mean(Hs, axis=0), rtol=1e-12)


def test_ngd_and_gd_run_on_the_pinn_problem():
    pde = pinn.poisson(1, 8)
    net = models.init(jax.random.key(1), 2000, 2)
    prob = pinn.problem(pde, net)
    tr = train.run(natural.ngd(0.5), prob, net.W, 4)
    np.testing.assert_allclose(tr.loss[1:] / tr.loss[:-1], 0.25, atol=0.03)
    assert np.isfinite(tr.flip_fraction).all()
    tr_gd = train.run(optim.gd(0.5 / float(np.linalg.eigvalsh(prob.H(net.W))[-1])), prob, net.W, 5)
    assert np.all(np.diff(tr_gd.loss) < 0)


def test_adam_equals_optax_adam():
    pde = pinn.poisson(1, 5)
    net = models.init(jax.random.key(2), 30, 2)
    prob = pinn.problem(pde, net)
    tr = train.run(pinn.adam(1e-2), prob, net.W, 7)
    tx = optax.adam(1e-2)
    W, state = net.W, tx.init(net.W)
    for _ in range(7):
        upd, state = tx.update(prob.grad(W), state, W)
        W = optax.apply_updates(W, upd)
    np.testing.assert_allclose(tr.theta, W, rtol=1e-12, atol=1e-12)


def test_error_record_and_timed_run():
    pde = pinn.poisson(1, 5)
    net = models.init(jax.random.key(3), 50, 2)
    prob = pinn.problem(pde, net)
    tr, seconds = pinn.timed_run(optim.gd(1e-3), prob, net.W, 3, repeats=1)
    assert seconds > 0 and tr.steps == 3
    tr = train.run(optim.gd(1e-3), prob, net.W, 3, record=pinn.error_record(pde))
    want = [pinn.relative_l2(pde, w, net.a) for w in (net.W, tr.theta)]
    np.testing.assert_allclose(tr.records[[0, -1]], want, rtol=1e-12)
    with pytest.raises(ValueError, match="repeats"):
        pinn.timed_run(optim.gd(1e-3), prob, net.W, 3, repeats=0)


def test_step_flops():
    n, m, D = 22, 4000, 1
    assert pinn.step_flops("GD", n, m, D) == pinn.step_flops("Adam", n, m, D) == 4 * n * m * 2
    ratio = pinn.step_flops("NGD", n, m, D) / pinn.step_flops("GD", n, m, D)
    assert ratio == pytest.approx((5 + 2 * n) / 4, rel=1e-3)


def test_input_validation():
    pde = pinn.poisson(1, 5)
    net = models.init(jax.random.key(0), 4, 2)
    with pytest.raises(ValueError, match="activation"):
        pinn.problem(pde, net, "relu")
    with pytest.raises(ValueError, match="columns"):
        pinn.problem(pde, models.init(jax.random.key(0), 4, 3))
    with pytest.raises(ValueError, match="Pde"):
        pinn.problem("poisson", net)
    with pytest.raises(ValueError, match="k\\^2"):
        pinn.poisson(2, 10)
    with pytest.raises(ValueError, match="key"):
        pinn.poisson(2, 10, 4, points="random")
    with pytest.raises(ValueError, match="n_boundary"):
        pinn.poisson(2, 9, 4)
    with pytest.raises(ValueError, match="points"):
        pinn.poisson(1, 5, points="sobol")
    with pytest.raises(ValueError, match="solution"):
        pinn.poisson(1, 5, solution="cosine")
    with pytest.raises(ValueError, match="key"):
        pinn.poisson(3, 8)
    with pytest.raises(ValueError, match="wavenumber"):
        pinn.helmholtz(16, k=-1.0)
    with pytest.raises(ValueError, match="wavenumber"):
        pinn.helmholtz(16, k=float("nan"))
    with pytest.raises(ValueError, match="modes"):
        pinn.helmholtz(16, modes=(1, 2, 3))
    with pytest.raises(ValueError, match="modes"):
        pinn.helmholtz(16, modes=(0, 2))
    with pytest.raises(ValueError, match="modes"):
        pinn.helmholtz(16, modes=3)
    with pytest.raises(ValueError, match="eigenvalue"):
        pinn.helmholtz(16, k=np.pi * np.sqrt(5.0))          # pi^2 (1^2 + 2^2)
    with pytest.raises(ValueError, match="eigenvalue"):
        pinn.helmholtz(16, k=np.pi * np.sqrt(17.0), modes=(1, 4))  # f would vanish
    with pytest.raises(ValueError, match="k\\^2"):
        pinn.helmholtz(10)
    with pytest.raises(ValueError, match="key"):
        pinn.helmholtz(10, 4, points="random")
    with pytest.raises(ValueError, match="Pde"):
        pinn.problem(pinn.helmholtz(4).f, net)
    with pytest.raises(ValueError, match="kappa"):
        pinn.heat(3, 3, kappa=-1.0)
    with pytest.raises(ValueError, match="multiple"):
        pinn.gram_inf(pde, jax.random.key(0), neurons=100, chunk=30)
    with pytest.raises(ValueError, match="learning rate"):
        pinn.adam(0.0)
    with pytest.raises(ValueError, match="method"):
        pinn.step_flops("SGD", 3, 3, 1)
    with pytest.raises(ValueError, match="finite"):
        pinn.problem(pde, models.Net(net.W * np.nan, net.a))
