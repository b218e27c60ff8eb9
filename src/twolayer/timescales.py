r"""The two-timescale regime: a univariate network whose neurons slide onto the target's jumps.

Marion & Berthier (NeurIPS 2023) study a one-dimensional two-layer network

.. math::  f(x; a, u) = a_0 + \sum_{j=1}^m a_j\, \sigma_\eta(x - u_j), \qquad x \in [0, 1],

with a smoothed step :math:`\sigma_\eta(s) = \sigma(s/\eta)` (:func:`sigma`), trained on a
piecewise-constant target :math:`f^*` (:class:`Target`) with jumps :math:`0 < v_1 < \dots < v_n < 1`
and heights :math:`\Delta_i = f^*_i - f^*_{i-1}`. The *positions* :math:`u_j` are the inner, slow
variables; the *weights* :math:`a` (with ``a[0]`` the weight of the constant feature, the bias) are
the outer, fast ones. The population loss has no 1/2:

.. math::  L(a, u) = \int_0^1 (f(x) - f^*(x))^2\,dx
           \approx \frac1N \sum_{k=0}^{N-1} (f(x_k) - f^*(x_k))^2, \quad x_k = \frac{k + 1/2}{N},

a midpoint grid of ``N`` points (state ``N``: the loss floor depends on it, see :func:`floor`).
Training uses step ``h`` on ``a`` and ``h * eps`` on ``u``; slow time is ``tau = eps * t``, so one
step advances ``tau`` by ``h * eps``.

What this module holds:

- the model: :func:`sigma`, :func:`dsigma`, :func:`features`, :func:`predict`, :class:`Target`,
  :func:`paper_target`, :class:`Params`, :func:`paper_init`, :func:`uniform_init`;
- full-batch GD on the grid loss through the shared runner: :func:`grid_problem` (a least-squares
  :class:`~twolayer.problem.Problem` with residual ``sqrt(2/N) (f - f*)`` on the grid, so that
  ``1/2 ||r||^2 = L``), :func:`two_timescale` (the optimizer), :func:`gd_path`;
- online SGD with label noise as one ``lax.scan``: :func:`sgd`;
- the limits: :func:`optimal_outer` (``a*(u) = G(u)^-1 b(u)``), :func:`reduced_loss`,
  :func:`reduced_velocity`, :func:`limit` and :func:`reduced_path` (the finite-``eta`` reduced flow), :func:`ideal_velocity` and
  :func:`ideal_path` (the ``eta -> 0`` flow with closed-form flanker velocities and snapping);
- the theory's quantities: :func:`flankers`, :func:`conserved`, :func:`final_distance`,
  :func:`hitting_time`, :func:`hitting_time_bounds`, :func:`floor`, :func:`coverage`,
  :func:`interval_counts`, :func:`flanker_minimums`, :func:`init_probability`,
  :func:`init_probability_mc`,
  :func:`init_failure_bound`, :func:`max_gap`.

References:
  P. Marion, R. Berthier. Leveraging the two-timescale regime to demonstrate convergence of neural
  networks. NeurIPS 36 (2023), arXiv:2304.09576; official code github.com/PierreMarion23/
  two-timescale-nn (the model, the target, the initialisation and the configurations). The
  theorem's exact hypotheses and constants are reconstructed (see the book's chapter).
"""

from __future__ import annotations

import math
import warnings
from functools import partial
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks, optim, train
from .problem import Problem

# ---------------------------------------------------------------------------------------------
# The activation
# ---------------------------------------------------------------------------------------------


def sigma(s):
    r"""The paper's piecewise-cubic smoothed step.

    .. math::
        \sigma(s) = \begin{cases} 0 & s \le -\tfrac12 \\ 4(s + \tfrac12)^3 & -\tfrac12 \le s \le 0\\
        1 - 4(\tfrac12 - s)^3 & 0 \le s \le \tfrac12 \\ 1 & s \ge \tfrac12 \end{cases}
        \;=\; \tfrac12 + 3t - 6t|t| + 4t^3,\quad t = \mathrm{clip}(s, -\tfrac12, \tfrac12).

    ``sigma(0) = 1/2``, ``sigma'(0) = 3``; it is C^1 with a Lipschitz derivative but not C^2
    (``sigma''`` jumps from +12 to -12 at 0). ``int (sigma - 1{s > 0})^2 = 1/28`` and
    ``int sigma'^2 = 9/5``.
    """
    t = jnp.clip(s, -0.5, 0.5)
    return 0.5 + t * (3.0 - 6.0 * jnp.abs(t) + 4.0 * t * t)


def dsigma(s):
    r"""The derivative ``sigma'(s) = 3 (1 - 2|s|)^2`` for ``|s| <= 1/2``, and 0 outside."""
    t = jnp.clip(1.0 - 2.0 * jnp.abs(s), 0.0, None)
    return 3.0 * t * t


def sigma_eta(s, eta):
    """The smoothed step of width ``eta``: ``sigma(s / eta)``, a step at 0 blurred over ``[-eta/2, eta/2]``."""
    return sigma(s / eta)


# ---------------------------------------------------------------------------------------------
# Target, parameters, initialisation
# ---------------------------------------------------------------------------------------------


class Target(NamedTuple):
    """A piecewise-constant target on ``[0, 1]``: ``f*(x) = values[i]`` for ``v_i <= x < v_{i+1}``.

    Attributes:
      jumps: ``(n,)`` increasing positions ``0 < v_1 < ... < v_n < 1``.
      values: ``(n + 1,)`` the constant values, from left to right.
    """

    jumps: np.ndarray
    values: np.ndarray

    @property
    def heights(self) -> np.ndarray:
        """The jump heights ``Delta_i = values[i] - values[i - 1]``, shape ``(n,)``."""
        return np.diff(np.asarray(self.values))

    @property
    def edges(self) -> np.ndarray:
        """``(0, v_1, ..., v_n, 1)``: the boundaries of the ``n + 1`` intervals."""
        return np.concatenate([[0.0], np.asarray(self.jumps), [1.0]])

    @property
    def min_gap(self) -> float:
        """``Delta v``: the smallest interval length in ``(0, v_1, ..., v_n, 1)``."""
        return float(np.min(np.diff(self.edges)))

    def __call__(self, x):
        """``f*(x)`` (works on arrays, inside ``jit`` too)."""
        return _target_at(jnp.asarray(self.jumps), jnp.asarray(self.values), x)


def _target_at(jumps, values, x):
    return values[jnp.searchsorted(jumps, x, side="right")]


def make_target(jumps, values) -> Target:
    """A validated :class:`Target`.

    Raises:
      ValueError: unless ``jumps`` is 1-D, strictly increasing and inside ``(0, 1)``, and
        ``values`` has one more entry than ``jumps``, all finite.
    """
    j = np.asarray(jumps, dtype=float)
    v = np.asarray(values, dtype=float)
    _checks.ndim("jumps", j, 1)
    _checks.ndim("values", v, 1)
    _checks.finite("jumps", j)
    _checks.finite("values", v)
    if j.size == 0:
        raise ValueError("the target needs at least one jump.")
    if v.size != j.size + 1:
        raise ValueError(
            f"a target with {j.size} jumps needs {j.size + 1} values, got {v.size}."
        )
    if np.any(j <= 0) or np.any(j >= 1) or np.any(np.diff(j) <= 0):
        raise ValueError("the jumps must be strictly increasing and lie strictly inside (0, 1).")
    if np.any(np.diff(v) == 0):
        raise ValueError("two consecutive values are equal: every jump must have a non-zero height.")
    return Target(j, v)


def paper_target() -> Target:
    """The experiments' target: ``1 + 4*1{x>=.2} - 4*1{x>=.35} + 2*1{x>=.5} - 2*1{x>=.65} + 4*1{x>=.8}``.

    Values ``(1, 5, 1, 3, 1, 5)``; ``sum Delta^2 = 56``, ``Delta v = 0.15``, ``int f*^2 = 10.6``.
    (Marion & Berthier's code, ``tt_config_*``.)
    """
    return make_target([0.2, 0.35, 0.5, 0.65, 0.8], [1.0, 5.0, 1.0, 3.0, 1.0, 5.0])


class Params(NamedTuple):
    """The network's parameters.

    Attributes:
      a: ``(m + 1,)`` outer weights; ``a[0]`` multiplies the constant feature 1 (the bias ``a_0``),
        ``a[j]`` the neuron ``sigma_eta(x - u_j)``.
      u: ``(m,)`` the neurons' positions (the inner, slow variables).
    """

    a: jax.Array
    u: jax.Array

    @property
    def width(self) -> int:
        return int(np.shape(self.u)[0])


def _check_params(params: Params) -> None:
    _checks.ndim("params.u", params.u, 1)
    _checks.ndim("params.a", params.a, 1)
    _checks.finite("params.u", params.u)
    _checks.finite("params.a", params.a)
    m = np.shape(params.u)[0]
    if np.shape(params.a)[0] != m + 1:
        raise ValueError(
            f"params.a must have m + 1 = {m + 1} entries (the bias first), got {np.shape(params.a)[0]}."
        )


def zero_init(u) -> Params:
    """The paper's start: the given positions and ``a = 0`` (bias included)."""
    u = jnp.asarray(u)
    _checks.ndim("u", u, 1)
    _checks.finite("u", u)
    return Params(jnp.zeros(u.shape[0] + 1, dtype=u.dtype), u)


def paper_init(m: int = 20, seed: int = 42) -> np.ndarray:
    """The authors' initial positions: ``sorted(numpy.random.RandomState(seed).rand(m))``.

    This is the only NumPy randomness in the package, kept to reproduce the paper's one fixed
    initialisation (seed 42). Every other random quantity comes from a ``jax.random`` key.
    """
    m = _checks.positive_int("m (the number of neurons)", m)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    return np.sort(np.random.RandomState(int(seed)).rand(m))


def uniform_init(key, m: int) -> jax.Array:
    """``m`` positions drawn i.i.d. uniform on ``[0, 1]`` with a ``jax.random`` key, sorted."""
    m = _checks.positive_int("m (the number of neurons)", m)
    return jnp.sort(jax.random.uniform(key, (m,)))


# ---------------------------------------------------------------------------------------------
# The network and the grid loss
# ---------------------------------------------------------------------------------------------


def grid(N: int) -> jax.Array:
    """The midpoint grid ``x_k = (k + 1/2) / N``, ``k = 0..N-1``, on which the loss is a mean."""
    N = _checks.positive_int("N (the number of grid points)", N)
    return (jnp.arange(N) + 0.5) / N


def features(u, x, eta):
    """The feature matrix ``[1, sigma_eta(x - u_1), ..., sigma_eta(x - u_m)]``, shape ``(len(x), m + 1)``."""
    phi = sigma((x[:, None] - u[None, :]) / eta)
    return jnp.concatenate([jnp.ones_like(x)[:, None], phi], axis=1)


def predict(params: Params, x, eta):
    """``f(x) = a_0 + sum_j a_j sigma_eta(x - u_j)`` at the points ``x`` (any 1-D array)."""
    return params.a[0] + sigma((x[:, None] - params.u[None, :]) / eta) @ params.a[1:]


def _grid_data(target: Target, eta, N: int, ridge: float = 0.0) -> dict:
    x = grid(N)
    return {"x": x, "y": target(x), "eta": jnp.asarray(eta, dtype=x.dtype),
            "ridge": jnp.asarray(ridge, dtype=x.dtype)}


def _check_setting(target, eta, N):
    if not isinstance(target, Target):
        raise ValueError("target must be a twolayer.timescales.Target (see make_target).")
    eta = _checks.positive("eta (the width of the smoothed step)", eta)
    N = _checks.positive_int("N (the number of grid points)", N)
    if eta * N < 2:
        warnings.warn(
            f"eta * N = {eta * N:.2g}: fewer than 2 grid points per smoothed step; the grid loss "
            "badly misrepresents the integral.", stacklevel=3)
    return eta, N


def population_loss(params: Params, target: Target, eta: float, N: int = 8000) -> float:
    """``L(a, u) = int_0^1 (f - f*)^2`` (no 1/2) by the midpoint rule on ``N`` points."""
    eta, N = _check_setting(target, eta, N)
    _check_params(params)
    return float(_grid_loss(params, _grid_data(target, eta, N)))


@jax.jit
def _grid_loss(params, data):
    r = predict(params, data["x"], data["eta"]) - data["y"]
    return jnp.mean(r * r)


# Grid problem, theta = Params. Residual r = sqrt(2/N) (f - f*), so 1/2 ||r||^2 = mean (f - f*)^2.
def _grid_residual(theta, data):
    x = data["x"]
    return jnp.sqrt(2.0 / x.shape[0]) * (predict(theta, x, data["eta"]) - data["y"])


def _grid_vjp(theta, data, v):
    # Closed form J^T v: d r_k / d a_0 = c, d r_k / d a_j = c phi_kj,
    # d r_k / d u_j = -c a_j sigma'((x_k - u_j)/eta)/eta, with c = sqrt(2/N).
    x, eta = data["x"], data["eta"]
    c = jnp.sqrt(2.0 / x.shape[0])
    s = (x[:, None] - theta.u[None, :]) / eta
    cv = c * v
    ga = jnp.concatenate([jnp.sum(cv)[None], cv @ sigma(s)])
    gu = -theta.a[1:] * (cv @ dsigma(s)) / eta
    return Params(ga, gu)


def _flat_jacobian(residual):
    def jacobian(theta, data):
        m = theta.u.shape[0]
        flat = jnp.concatenate([theta.a, theta.u])
        return jax.jacrev(lambda f: residual(Params(f[: m + 1], f[m + 1:]), data))(flat)

    return jacobian


_grid_jacobian = _flat_jacobian(_grid_residual)


def _grid_gram(theta, data):
    J = _grid_jacobian(theta, data)
    return J @ J.T


def grid_problem(target: Target, eta: float, N: int = 2000) -> Problem:
    r"""Full-batch training on the grid loss as a least-squares :class:`~twolayer.problem.Problem`.

    ``theta`` is a :class:`Params`; the residual is ``r_k = sqrt(2/N) (f(x_k) - f*(x_k))`` on the
    midpoint grid, so ``1/2 ||r||^2 = (1/N) sum_k (f - f*)^2 = L`` (the paper's loss, no 1/2) and
    ``J^T r = grad L``. The gradient is in closed form (``sigma'`` is :func:`dsigma`), about six
    times faster than autodiff; ``eta`` is data, so a sweep over ``eta`` compiles once per ``N``.

    Raises:
      ValueError: if ``target`` is not a :class:`Target`, ``eta <= 0`` or ``N`` is not a whole
        number >= 1.
    """
    eta, N = _check_setting(target, eta, N)
    return Problem(_grid_residual, _grid_vjp, _grid_jacobian, _grid_gram, None,
                   _grid_data(target, eta, N))


def _tt_step(theta, state, problem, hyper):
    g = problem.grad(theta)
    return Params(theta.a - hyper["h"] * g.a, theta.u - hyper["h"] * hyper["eps"] * g.u), state


def two_timescale(h: float, eps: float) -> optim.Optimizer:
    r"""Gradient descent with step ``h`` on the outer weights and ``h * eps`` on the positions.

    .. math::  a_{k+1} = a_k - h\,\nabla_a L(a_k, u_k), \qquad
               u_{k+1} = u_k - h\,\varepsilon\,\nabla_u L(a_k, u_k),

    the Euler discretisation of ``da/dt = -grad_a L``, ``du/dt = -eps grad_u L`` (Marion &
    Berthier 2023, Section 2). ``eps = 1`` is plain GD with one step size; ``eps << 1`` is the
    two-timescale regime. Each step advances slow time ``tau = eps t`` by ``h eps``. ``theta`` must
    be a :class:`Params` (use it with :func:`grid_problem`).

    Stability (measured on the paper's target): ``h <~ 2/lambda_max(G) ~ 0.2`` and
    ``h eps <~ 1e-4`` (an isolated neuron carrying a height-4 jump has u-curvature ``~ a^2/eta``).

    Raises:
      ValueError: if ``h`` or ``eps`` is not a finite positive number.
    """
    h = _checks.positive("h (the outer step size)", h)
    eps = _checks.positive("eps (the ratio of inner to outer step size)", eps)
    name = "two-timescale" if eps < 1 else "equal-timescale"
    return optim.Optimizer(optim.no_state, _tt_step, {"h": jnp.asarray(h), "eps": jnp.asarray(eps)}, name)


# ---------------------------------------------------------------------------------------------
# Paths: checkpoints of a run on the slow-time axis
# ---------------------------------------------------------------------------------------------


class Path(NamedTuple):
    """Checkpoints of one run on the slow-time axis ``tau``.

    Attributes:
      tau: ``(R + 1,)`` slow time at each checkpoint (``k h eps`` for GD/SGD, ``k dtau`` for a flow).
      u: ``(R + 1, m)`` positions.
      a: ``(R + 1, m + 1)`` outer weights (for a reduced flow, ``a*(u)``; for the ideal flow, None).
      loss: ``(R + 1,)`` the population loss at each checkpoint (grid of ``N`` points; for the
        ideal flow, its ``eta -> 0`` loss ``sum_i Delta_i^2 p_i q_i / (p_i + q_i)``).
      first_nonfinite: the first step that produced NaN or infinity, or -1.
      name: a label (also the colour key in :mod:`twolayer.plotting`).
    """

    tau: np.ndarray
    u: np.ndarray
    a: Optional[np.ndarray]
    loss: np.ndarray
    first_nonfinite: int
    name: str

    @property
    def diverged(self) -> bool:
        return self.first_nonfinite >= 0

    def at(self, tau):
        """Positions linearly interpolated at the slow times ``tau``: shape ``(len(tau), m)``."""
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        if tau.min() < self.tau[0] - 1e-12 or tau.max() > self.tau[-1] + 1e-12:
            raise ValueError(
                f"tau must lie in [{self.tau[0]:.3g}, {self.tau[-1]:.3g}], the range of this path."
            )
        return np.stack([np.interp(tau, self.tau, self.u[:, j]) for j in range(self.u.shape[1])], 1)


def _segments(steps, records):
    steps = _checks.positive_int("steps", steps)
    records = _checks.positive_int("records", records)
    if steps % records:
        raise ValueError(f"steps ({steps}) must be a multiple of records ({records}).")
    return steps, records, steps // records


def _every(steps, every):
    steps = _checks.positive_int("steps", steps)
    every = _checks.positive_int("every", every)
    if steps % every:
        raise ValueError(f"steps ({steps}) must be a multiple of every ({every}).")
    return steps // every


def _run_segments(opt, prob, theta0, steps, every):
    """Run the shared runner on segments of ``every`` steps (one compile), keeping checkpoints."""
    records, seg = _every(steps, every), every
    thetas, losses = [theta0], []
    first_bad, theta = -1, theta0
    for r in range(records):
        tr = train.run(opt, prob, theta, seg)
        if r == 0:
            losses.append(tr.loss[0])
        losses.append(tr.loss[-1])
        if tr.diverged and first_bad < 0:
            first_bad = r * seg + tr.first_nonfinite
        theta = tr.theta
        thetas.append(theta)
    return thetas, np.asarray(losses), first_bad, seg


def gd_path(params0: Params, target: Target, eta: float, h: float, eps: float, steps: int, *,
            N: int = 2000, every: int = 50) -> Path:
    """Full-batch two-timescale GD (:func:`two_timescale` on :func:`grid_problem`) via the runner.

    The runner (:func:`twolayer.train.run`) is called on segments of ``every`` steps, so the
    parameters are kept at ``steps / every + 1`` checkpoints while the loop compiles once per
    ``(N, every)``: keep ``every`` fixed across runs to pay for one compile. ``tau = k h eps``.

    Raises:
      ValueError: on invalid step sizes, parameters, or ``steps`` not a multiple of ``every``.
    """
    opt = two_timescale(h, eps)
    prob = grid_problem(target, eta, N)
    _check_params(params0)
    params0 = Params(jnp.asarray(params0.a, dtype=prob.data["x"].dtype),
                     jnp.asarray(params0.u, dtype=prob.data["x"].dtype))
    thetas, loss, bad, seg = _run_segments(opt, prob, params0, steps, every)
    tau = np.arange(len(thetas)) * seg * float(h) * float(eps)
    u = np.stack([np.asarray(t.u) for t in thetas])
    a = np.stack([np.asarray(t.a) for t in thetas])
    return Path(tau, u, a, loss, bad, opt.name)


# ---------------------------------------------------------------------------------------------
# The fast variable at its optimum, and the finite-eta reduced flow
# ---------------------------------------------------------------------------------------------


@jax.jit
def _optimal_outer(u, data):
    x = data["x"]
    Phi = features(u, x, data["eta"])
    G = Phi.T @ Phi / x.shape[0]
    b = Phi.T @ data["y"] / x.shape[0]
    G = G + data["ridge"] * jnp.eye(G.shape[0], dtype=G.dtype)
    return jax.lax.stop_gradient(jnp.linalg.solve(G, b))


def optimal_outer(u, target: Target, eta: float, N: int = 2000, ridge: float = 1e-10) -> jax.Array:
    r"""The fast variable at its optimum: ``a*(u) = (G(u) + ridge I)^-1 b(u)``.

    With features ``phi_0 = 1``, ``phi_j = sigma_eta(x - u_j)``: ``G_jk = int phi_j phi_k`` and
    ``b_j = int f* phi_j`` (midpoint grid of ``N`` points). Then
    ``L(a, u) = a^T G a - 2 a^T b + int f*^2`` and ``a*(u) = argmin_a L``. The small ridge keeps
    the solve defined when two neurons nearly coincide (``G`` is then nearly singular). The result
    is wrapped in ``stop_gradient``: by the envelope theorem the reduced gradient is
    ``grad_u L(a*(u), u)`` with ``a*`` held fixed.

    Raises:
      ValueError: if ``u`` is not a finite 1-D array, ``eta <= 0``, ``N`` invalid or ``ridge < 0``.
    """
    eta, N = _check_setting(target, eta, N)
    ridge = _checks.nonnegative("ridge", ridge)
    u = jnp.asarray(u)
    _checks.ndim("u", u, 1)
    _checks.finite("u", u)
    return _optimal_outer(u, _grid_data(target, eta, N, ridge))


def gram_matrix(u, eta: float, N: int = 2000) -> jax.Array:
    """``G(u)``: the ``(m + 1) x (m + 1)`` Gram matrix of the features on the grid (no ridge)."""
    eta = _checks.positive("eta", eta)
    x = grid(N)
    Phi = features(jnp.asarray(u), x, eta)
    return Phi.T @ Phi / N


def reduced_loss(u, target: Target, eta: float, N: int = 2000, ridge: float = 1e-10) -> float:
    """``L~(u) = L(a*(u), u) = min_a L(a, u)``: the loss with the fast variable at its optimum."""
    a = optimal_outer(u, target, eta, N, ridge)
    return population_loss(Params(a, jnp.asarray(u)), target, eta, N)


def reduced_velocity(u, target: Target, eta: float, N: int = 2000, ridge: float = 1e-10) -> jax.Array:
    r"""``du/dtau = -grad_u L(a, u)|_{a = a*(u)}``: the finite-``eta`` reduced flow's velocity.

    By the envelope theorem this is ``-grad L~(u)`` with ``L~(u) = min_a L(a, u)``: the change of
    ``a*`` with ``u`` does not contribute because ``grad_a L(a*(u), u) = 0``.
    """
    a = optimal_outer(u, target, eta, N, ridge)
    return _reduced_velocity(Params(a, jnp.asarray(u, dtype=a.dtype)), _grid_data(target, eta, N))


@jax.jit
def _reduced_velocity(theta, data):
    return -_grid_vjp(theta, data, _grid_residual(theta, data)).u


def _limit_step(theta, state, problem, hyper):
    # theta.a == a*(theta.u) on entry (reduced_path starts there and every step keeps it so).
    g = problem.grad(theta)
    u = theta.u - hyper["dtau"] * g.u
    data = dict(problem.data, ridge=hyper["ridge"])
    return Params(_optimal_outer(u, data), u), state


def limit(dtau: float, ridge: float = 1e-10) -> optim.Optimizer:
    r"""The ``eps -> 0`` limit of :func:`two_timescale`: the fast variable solved exactly each step.

    .. math::  u_{k+1} = u_k - d\tau\, \nabla_u L(a_k, u_k), \qquad a_{k+1} = a^*(u_{k+1}),

    the Euler scheme (step ``dtau`` in slow time) for the finite-``eta`` reduced flow
    ``du/dtau = -grad_u L(a*(u), u)``. ``theta`` is a :class:`Params` whose ``a`` must equal
    ``a*(u)`` at the start (:func:`reduced_path` sees to it); the step then needs one
    ``(m + 1) x (m + 1)`` solve. Use it with :func:`grid_problem`, so the runner's recorded loss is
    ``L(a*(u), u)``.

    Raises:
      ValueError: if ``dtau`` is not a finite positive number or ``ridge < 0``.
    """
    dtau = _checks.positive("dtau (the slow-time step)", dtau)
    ridge = _checks.nonnegative("ridge", ridge)
    return optim.Optimizer(optim.no_state, _limit_step,
                           {"dtau": jnp.asarray(dtau), "ridge": jnp.asarray(ridge)}, "limit")


def reduced_path(u0, target: Target, eta: float, dtau: float, steps: int, *, N: int = 2000,
                 ridge: float = 1e-10, every: int = 50) -> Path:
    """The finite-``eta`` reduced flow from ``u0``: :func:`limit` on :func:`grid_problem` via the runner.

    Checkpoints every ``every`` steps store ``u``, ``a*(u)`` and ``L(a*(u), u)`` (grid of ``N``
    points); ``tau = k dtau``.
    """
    opt = limit(dtau, ridge)
    prob = grid_problem(target, eta, N)
    u0 = jnp.asarray(u0, dtype=prob.data["x"].dtype)
    _checks.ndim("u0", u0, 1)
    _checks.finite("u0", u0)
    theta0 = Params(_optimal_outer(u0, dict(prob.data, ridge=opt.hyper["ridge"])), u0)
    thetas, loss, bad, seg = _run_segments(opt, prob, theta0, steps, every)
    u = np.stack([np.asarray(t.u) for t in thetas])
    a = np.stack([np.asarray(t.a) for t in thetas])
    tau = np.arange(len(thetas)) * seg * float(dtau)
    return Path(tau, u, a, loss, bad, "limit")


# ---------------------------------------------------------------------------------------------
# The ideal eta -> 0 flow
# ---------------------------------------------------------------------------------------------


def interval_counts(u, target: Target) -> np.ndarray:
    """How many positions lie in each interval ``[v_k, v_{k+1})`` (``v_0 = 0``, ``v_{n+1} = 1``)."""
    u = np.asarray(u, dtype=float)
    _checks.ndim("u", u, 1)
    counts, _ = np.histogram(u[(u >= 0) & (u <= 1)], bins=target.edges)
    return counts


def satisfies_condition(u, target: Target, k=2) -> bool:
    """True if every interval between consecutive jumps (and the two end intervals) holds ``>= k`` neurons.

    ``k`` is one whole number (default 2: the authors' ``BadSubdivision`` check) or one per
    interval, e.g. :func:`flanker_minimums` (two inside, one in each end interval).
    """
    return bool(np.all(interval_counts(u, target) >= _interval_minimums(target, k)))


def flankers(u, target: Target) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(left, right)`` of the neurons flanking each jump: the closest ``u_j < v_i`` and ``u_j >= v_i``.

    Raises:
      ValueError: if some jump has no neuron on one side.
    """
    u = np.asarray(u, dtype=float)
    _checks.ndim("u", u, 1)
    left, right = [], []
    for v in np.asarray(target.jumps):
        below = np.flatnonzero(u < v)
        above = np.flatnonzero(u >= v)
        if below.size == 0 or above.size == 0:
            raise ValueError(f"the jump at {v:g} has no neuron on one side; it has no flankers.")
        left.append(below[np.argmax(u[below])])
        right.append(above[np.argmin(u[above])])
    return np.asarray(left), np.asarray(right)


def _check_subdivision(u, target):
    counts = interval_counts(u, target)
    if np.any(counts < 2):
        k = int(np.argmin(counts))
        e = target.edges
        raise ValueError(
            f"the interval [{e[k]:g}, {e[k + 1]:g}] holds {counts[k]} neuron(s); the ideal flow "
            "needs at least 2 in every interval between jumps (the authors' BadSubdivision)."
        )


def ideal_velocity(u, target: Target, left=None, right=None) -> jax.Array:
    r"""The ``eta -> 0`` reduced velocities in closed form.

    For jump ``v_i`` of height ``Delta_i`` with flankers at distances ``p = v_i - u^L`` and
    ``q = u^R - v_i`` (``D = p + q``), the cell ``[u^L, u^R]`` costs ``Delta_i^2 p q / D`` and

    .. math::  \frac{du^L}{d\tau} = \Delta_i^2 \Big(\frac{q}{D}\Big)^2, \qquad
               \frac{du^R}{d\tau} = -\Delta_i^2 \Big(\frac{p}{D}\Big)^2 ;

    every other neuron has ``a_j = 0`` and does not move. The arriving flanker still moves at
    speed ``~ Delta_i^2`` when it reaches its jump; it stays there because the reduced loss has a
    kink ``~ Delta_i^2 |u - v_i|`` at the jump (a sliding point), so once a flanker sits on its
    jump (``p = 0`` or ``q = 0``) this function sets both velocities of that jump to zero (the far
    flanker's own velocity ``Delta_i^2 (q/D)^2`` has reached 0 there). Needs at least 2 neurons per
    interval, so that no neuron flanks two jumps.
    """
    if left is None or right is None:
        _check_subdivision(u, target)
        left, right = flankers(u, target)
    u = jnp.asarray(u)
    return _flanker_velocity(u, jnp.asarray(target.jumps, dtype=u.dtype),
                             jnp.asarray(target.heights, dtype=u.dtype) ** 2,
                             jnp.asarray(left), jnp.asarray(right))


def _flanker_velocity(u, v, d2, left, right):
    # du^L/dtau = Delta^2 (q/D)^2, du^R/dtau = -Delta^2 (p/D)^2; zero once a flanker is on its jump.
    p = v - u[left]
    q = u[right] - v
    D = jnp.where(p + q > 0, p + q, 1.0)
    hit = (p <= 0) | (q <= 0)
    vl = jnp.where(hit, 0.0, d2 * (q / D) ** 2)
    vr = jnp.where(hit, 0.0, -d2 * (p / D) ** 2)
    return jnp.zeros_like(u).at[left].add(vl).at[right].add(vr)


def ideal_loss(u, target: Target, left, right):
    """The ``eta -> 0`` loss of the cells around the jumps: ``sum_i Delta_i^2 p_i q_i / (p_i + q_i)``."""
    u = jnp.asarray(u)
    v = jnp.asarray(target.jumps, dtype=u.dtype)
    p = jnp.maximum(v - u[..., left], 0.0)
    q = jnp.maximum(u[..., right] - v, 0.0)
    d2 = jnp.asarray(target.heights, dtype=u.dtype) ** 2
    return jnp.sum(d2 * p * q / jnp.where(p + q > 0, p + q, 1.0), axis=-1)


@partial(jax.jit, static_argnames=("seg", "records"))
def _ideal_scan(u0, v, d2, left, right, dtau, *, seg, records):
    def step(u, _):
        u = u + dtau * _flanker_velocity(u, v, d2, left, right)
        # Snapping: a flanker that overshoots its jump is put on it.
        u = u.at[left].set(jnp.minimum(u[left], v))
        u = u.at[right].set(jnp.maximum(u[right], v))
        return u, None

    def chunk(u, _):
        u, _ = jax.lax.scan(step, u, None, length=seg)
        return u, u

    _, us = jax.lax.scan(chunk, u0, None, length=records)
    return jnp.concatenate([u0[None], us])


def ideal_path(u0, target: Target, dtau: float, steps: int, *, records: int = 100) -> Path:
    """The idealised ``eta -> 0`` reduced flow (the authors' "TT limit"), by Euler with snapping.

    Uses :func:`ideal_velocity`; a flanker that would cross its jump is put exactly on it and then
    stays (its cell's loss is 0). Non-flanking neurons never move.

    Raises:
      ValueError: if an interval between jumps holds fewer than 2 neurons, or on bad sizes.
    """
    dtau = _checks.positive("dtau (the slow-time step)", dtau)
    steps, records, seg = _segments(steps, records)
    u0 = jnp.asarray(u0)
    _checks.ndim("u0", u0, 1)
    _checks.finite("u0", u0)
    _check_subdivision(u0, target)
    left, right = flankers(u0, target)
    us = _ideal_scan(u0, jnp.asarray(target.jumps, dtype=u0.dtype),
                     jnp.asarray(target.heights, dtype=u0.dtype) ** 2,
                     jnp.asarray(left), jnp.asarray(right), jnp.asarray(dtau, dtype=u0.dtype),
                     seg=seg, records=records)
    loss = np.asarray(ideal_loss(us, target, left, right))
    tau = np.arange(records + 1) * seg * dtau
    return Path(tau, np.asarray(us), None, loss, -1, "ideal limit")


# ---------------------------------------------------------------------------------------------
# The theory's closed forms
# ---------------------------------------------------------------------------------------------


def _pq(u, target, left, right):
    u = np.asarray(u, dtype=float)
    v = np.asarray(target.jumps)
    return v - u[..., left], u[..., right] - v


def conserved(u, target: Target, left, right) -> np.ndarray:
    """``p_i^3 - q_i^3`` for each jump (conserved by the ideal flow); ``u`` may have leading axes."""
    p, q = _pq(u, target, left, right)
    return p**3 - q**3


def final_distance(u0, target: Target, left, right) -> np.ndarray:
    """Where the ideal flow leaves the far flanker: ``|p_0^3 - q_0^3|^(1/3)`` from its jump."""
    return np.cbrt(np.abs(conserved(u0, target, left, right)))


def hitting_time(p0, q0, delta) -> np.ndarray:
    r"""Slow time at which the closer flanker reaches its jump under the ideal flow.

    With ``q`` the closer flanker's distance and ``p(q) = (p_0^3 - q_0^3 + q^3)^{1/3}`` (the
    conservation law), ``dq/dtau = -Delta^2 / (1 + q/p)^2`` gives

    .. math::  \tau_{hit} = \Delta^{-2} \int_0^{q_0} \big(1 + q / p(q)\big)^2 \, dq
               \in [q_0/\Delta^2,\; 4 q_0 / \Delta^2].

    Arguments broadcast; ``p0`` and ``q0`` are the two distances (either order), > 0.
    """
    p0, q0, delta = np.broadcast_arrays(*(np.asarray(z, dtype=float) for z in (p0, q0, delta)))
    if np.any(p0 <= 0) or np.any(q0 <= 0):
        raise ValueError("the flankers' distances p0 and q0 must be > 0 (a flanker on its jump has hit).")
    if np.any(delta == 0):
        raise ValueError("the jump height delta must be non-zero.")
    far, near = np.maximum(p0, q0), np.minimum(p0, q0)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    s = 0.5 * (nodes + 1)  # on [0, 1]
    q = near[..., None] * s
    pq = np.cbrt(far[..., None] ** 3 - near[..., None] ** 3 + q**3)
    integrand = (1 + q / pq) ** 2
    return 0.5 * near * np.sum(weights * integrand, axis=-1) / delta**2


def hitting_time_bounds(p0, q0, delta) -> tuple[np.ndarray, np.ndarray]:
    """``(min(p0, q0) / Delta^2, 4 min(p0, q0) / Delta^2)``: the bracket on :func:`hitting_time`."""
    near = np.minimum(np.asarray(p0, dtype=float), np.asarray(q0, dtype=float))
    d2 = np.asarray(delta, dtype=float) ** 2
    return near / d2, 4 * near / d2


def floor(target: Target, eta: float) -> float:
    """The ``O(eta)`` floor ``eta * sum_i Delta_i^2 / 28``: one neuron of weight ``Delta_i`` on each jump."""
    eta = _checks.positive("eta", eta)
    return float(eta * np.sum(target.heights**2) / 28.0)


def coverage(u, target: Target) -> np.ndarray:
    """Distance from each jump to its nearest neuron, shape ``(..., n)`` (``u`` may have leading axes)."""
    u = np.asarray(u, dtype=float)
    return np.min(np.abs(u[..., None, :] - np.asarray(target.jumps)[:, None]), axis=-1)


def max_gap(path: Path, reference: Path, tau) -> float:
    """``max over tau of max_j |u_j(path) - u_j(reference)|`` at the given slow times."""
    if path.u.shape[1] != reference.u.shape[1]:
        raise ValueError("the two paths have different numbers of neurons.")
    return float(np.max(np.abs(path.at(tau) - reference.at(tau))))


# ---------------------------------------------------------------------------------------------
# The initialisation condition
# ---------------------------------------------------------------------------------------------


def _interval_minimums(target: Target, k) -> np.ndarray:
    """``k`` as one whole number >= 0 per interval (``n + 1`` of them); an int applies to all."""
    n1 = len(target.jumps) + 1
    k_arr = np.asarray(k)
    if k_arr.ndim == 0:
        k_arr = np.full(n1, k_arr)
    if k_arr.shape != (n1,):
        raise ValueError(f"k must be one whole number or {n1} of them (one per interval), "
                         f"got shape {k_arr.shape}.")
    if not np.all(np.isfinite(k_arr.astype(float))) or np.any(k_arr < 0) or np.any(k_arr != np.round(k_arr)):
        raise ValueError(f"k must hold whole numbers >= 0, got {k!r}.")
    return k_arr.astype(int)


def flanker_minimums(target: Target) -> np.ndarray:
    """The weakest per-interval counts that give every jump its own two flankers: ``(1, 2, ..., 2, 1)``.

    An interior interval ``[v_k, v_{k+1}]`` must hold a right flanker for ``v_k`` and a different
    left flanker for ``v_{k+1}``; an end interval serves one jump only. (The authors' check, and
    :func:`satisfies_condition` with its default, ask for 2 in every interval, ``m >= 2(n + 1)``.)
    """
    k = np.full(len(target.jumps) + 1, 2)
    k[0] = k[-1] = 1
    return k


def init_probability(target: Target, m: int, k=2) -> float:
    r"""Exact probability that ``m`` i.i.d. uniform positions put ``>= k_i`` in interval ``i``.

    ``k`` is one whole number for every interval (default 2, the authors' condition) or one per
    interval (e.g. :func:`flanker_minimums`). With interval lengths ``l_0..l_n`` the counts are
    multinomial, so ``P = m! [t^m] prod_i sum_{c >= k_i} (l_i t)^c / c!``: a product of truncated
    exponential series, computed by convolution.
    """
    m = _checks.positive_int("m", m)
    ks = _interval_minimums(target, k)
    c = np.arange(m + 1)
    logfact = np.array([math.lgamma(i + 1) for i in c])
    poly = np.zeros(m + 1)
    poly[0] = 1.0
    for ell, ki in zip(np.diff(target.edges), ks):
        series = np.where(c >= ki, np.exp(c * np.log(ell) - logfact), 0.0)
        poly = np.convolve(poly, series)[: m + 1]
    return float(poly[m] * math.exp(logfact[m]))


def init_probability_mc(key, target: Target, m: int, k=2, samples: int = 20000) -> float:
    """Monte Carlo estimate of :func:`init_probability` with a ``jax.random`` key."""
    m = _checks.positive_int("m", m)
    samples = _checks.positive_int("samples", samples)
    ks = _interval_minimums(target, k)
    U = np.asarray(jax.random.uniform(key, (samples, m)))
    idx = np.searchsorted(np.asarray(target.jumps), U, side="right")
    counts = np.stack([(idx == i).sum(1) for i in range(len(target.jumps) + 1)], 1)
    return float(np.mean(np.all(counts >= ks, axis=1)))


def init_failure_bound(target: Target, m: int) -> float:
    r"""Union bound on ``P(some interval holds < 2 neurons)``: ``sum_i (1 - l_i)^{m-1} (1 + (m-1) l_i)``.

    Each term is exact for its interval; with ``l_i >= Delta v`` it is at most
    ``(n + 1) (1 + m Delta v) e^{-(m-1) Delta v}``, so ``m ~ Delta v^{-1} log(n / delta)`` neurons
    (up to a log factor) make the condition hold with probability ``1 - delta``.
    """
    m = _checks.positive_int("m", m)
    ell = np.diff(target.edges)
    return float(np.sum((1 - ell) ** (m - 1) * (1 + (m - 1) * ell)))


# ---------------------------------------------------------------------------------------------
# Online SGD with label noise: one lax.scan
# ---------------------------------------------------------------------------------------------


def sgd_update(params: Params, x, y, eta, h, eps, surrogate: bool = False) -> Params:
    r"""One SGD step on the sample loss ``ell = mean_b (f(x_b) - y_b)^2`` (no 1/2), in closed form.

    ``a <- a - h grad_a ell`` and ``u <- u - h eps grad_u ell``, both gradients at the current
    ``(a, u)`` and from the same samples; ``grad_{u_j} ell = -2 a_j mean_b r_b sigma'((x_b - u_j)/eta)/eta``
    with ``r = f - y``. With ``surrogate=True``, ``sigma'`` is replaced by ``1{|s| <= 1/2}`` (the
    authors' code). ``x`` and ``y`` have shape ``(batch,)``.
    """
    a, u = params
    s = (x[:, None] - u[None, :]) / eta
    phi = sigma(s)
    r = a[0] + phi @ a[1:] - y
    batch = x.shape[0]
    ga = 2.0 * jnp.concatenate([jnp.mean(r)[None], r @ phi / batch])
    ds = (jnp.abs(s) <= 0.5).astype(s.dtype) if surrogate else dsigma(s)
    gu = -2.0 * a[1:] * (r @ ds) / (batch * eta)
    return Params(a - h * ga, u - h * eps * gu)


# The bias as a neuron parked at -(1 + eta): for every x in [0, 1], s = (x + 1 + eta) / eta > 1, so
# sigma(s) = 1 and sigma'(s) = 0 exactly (the clip saturates). The packed positions
# (-(1 + eta), u_1, ..., u_m) give the same a- and u-updates as sgd_update, with no
# concatenation inside the step; the parked neuron never moves.
def _packed_step(a, ub, x, y, eta, h, eps, surrogate):
    """One :func:`sgd_update` on the packed parameters ``a`` (m + 1,) and ``ub`` (m + 1,)."""
    if x.shape[0] == 1:
        # batch 1: elementwise only (no dot): two small fusions per step instead of five.
        s = (x[0] - ub) / eta
        phi = sigma(s)
        g = 2.0 * h * (jnp.sum(phi * a) - y[0])
        ds = (jnp.abs(s) <= 0.5).astype(s.dtype) if surrogate else dsigma(s)
        return a - g * phi, ub + (g * eps / eta) * a * ds
    s = (x[:, None] - ub[None, :]) / eta
    phi = sigma(s)
    r = phi @ a - y
    batch = x.shape[0]
    ds = (jnp.abs(s) <= 0.5).astype(s.dtype) if surrogate else dsigma(s)
    return (a - (2.0 * h / batch) * (r @ phi),
            ub + (2.0 * h * eps / (batch * eta)) * a * (r @ ds))


@partial(jax.jit, static_argnames=("seg", "records", "batch", "surrogate"))
def _sgd_scan(a0, u0, key, jumps, values, eta, h, eps, noise, xg, yg, *, seg, records, batch,
              surrogate):
    def one_step(carry, inp):
        x, y = inp  # (batch,), (batch,)
        return _packed_step(*carry, x, y, eta, h, eps, surrogate), None

    def grid_loss(a, u):
        r = a[0] + sigma((xg[:, None] - u[None, :]) / eta) @ a[1:] - yg
        return jnp.mean(r * r)

    def chunk(carry, k):
        kx, kn = jax.random.split(k)
        xs = jax.random.uniform(kx, (seg, batch), dtype=xg.dtype)
        xi = jax.random.uniform(kn, (seg, batch), dtype=xg.dtype, minval=-1.0, maxval=1.0)
        ys = _target_at(jumps, values, xs) + noise * xi
        carry, _ = jax.lax.scan(one_step, carry, (xs, ys))
        a, ub = carry
        return carry, (a, ub[1:], grid_loss(a, ub[1:]))

    keys = jax.random.split(key, records)
    ub0 = jnp.concatenate([-(1.0 + eta)[None].astype(u0.dtype), u0])
    _, (A, U, L) = jax.lax.scan(chunk, (a0, ub0), keys)
    return (jnp.concatenate([a0[None], A]), jnp.concatenate([u0[None], U]),
            jnp.concatenate([grid_loss(a0, u0)[None], L]))


def sgd(params0: Params, target: Target, eta: float, h: float, eps: float, steps: int, key, *,
        batch: int = 1, noise: float = 1.0, N: int = 4000, records: int = 100,
        surrogate: bool = False) -> Path:
    r"""Online SGD with label noise and step sizes ``h`` (outer) and ``h * eps`` (inner).

    Each step draws ``batch`` fresh inputs ``x ~ U[0, 1]`` and labels ``y = f*(x) + noise * xi``,
    ``xi ~ U[-1, 1]``; the same ``(x, xi)`` feed both gradients of the sample loss
    ``ell = mean_b (f(x_b) - y_b)^2`` (no 1/2), evaluated at the current ``(a, u)``:

    .. math::  a \leftarrow a - h\,\nabla_a \ell, \qquad u \leftarrow u - h\,\varepsilon\,\nabla_u \ell.

    ``surrogate=True`` replaces ``sigma'`` by ``1{|s| <= 1/2}`` in the u-gradient, as the authors'
    code does (the derivative of an older linear ramp); the default is the exact derivative.

    Why not :func:`twolayer.train.run`: the runner evaluates the full residual (here ``N`` grid
    points) at every step to record the loss and test finiteness. For batch 1 that is ``N`` times
    the cost of the step itself: the faithful 1.75e6-step run would take minutes instead of
    seconds. This function is one jitted ``lax.scan`` over ``records`` chunks; each chunk draws its
    ``steps / records`` samples at once from its key, scans the cheap per-sample update, and
    evaluates the grid loss only at the chunk's end. Cost and memory (measured, batch 1, m = 20,
    float64, one CPU core): about 0.18 microseconds per step, so the authors' ``tt_config_paper``
    (1.75e8 steps) takes about 30 s of CPU time; memory holds the ``records + 1`` checkpoints and
    one chunk's samples (three arrays of ``steps / records * batch`` floats), never every step.

    Precision: with ``h * eps = 2e-8`` a position moves by ~1e-8 per step, below float32's
    resolution at ``u ~ 0.5``: enable float64 (``jax.config.update("jax_enable_x64", True)``).
    The label noise comes from ``jax.random``: it cannot replay the authors' NumPy stream, so
    runs agree with theirs only statistically.

    Args:
      params0: the initial :class:`Params`.
      target: the :class:`Target`.
      eta: width of the smoothed step.
      h, eps: outer step size and ratio of inner to outer step size (both > 0).
      steps: number of SGD steps, a multiple of ``records``.
      key: a ``jax.random`` key (the only source of randomness).
      batch: samples per step (1 = the paper's online SGD).
      noise: amplitude of the uniform label noise (>= 0).
      N: grid points for the recorded population loss.
      records: number of checkpoints after the start.
      surrogate: use the authors' surrogate u-gradient.

    Returns:
      A :class:`Path` with ``tau = k h eps`` at the checkpoints.
    """
    eta, N = _check_setting(target, eta, N)
    h = _checks.positive("h (the outer step size)", h)
    eps = _checks.positive("eps (the ratio of inner to outer step size)", eps)
    batch = _checks.positive_int("batch", batch)
    noise = _checks.nonnegative("noise", noise)
    steps, records, seg = _segments(steps, records)
    _check_params(params0)
    if not jax.config.jax_enable_x64 and h * eps < 1e-6:
        warnings.warn("online SGD with h * eps < 1e-6 in float32 loses the position updates to "
                      "round-off; enable float64.", stacklevel=2)
    d = _grid_data(target, eta, N)
    dt = d["x"].dtype
    A, U, L = _sgd_scan(
        jnp.asarray(params0.a, dtype=dt), jnp.asarray(params0.u, dtype=dt), key,
        jnp.asarray(target.jumps, dtype=dt), jnp.asarray(target.values, dtype=dt),
        jnp.asarray(eta, dtype=dt), jnp.asarray(h, dtype=dt), jnp.asarray(eps, dtype=dt),
        jnp.asarray(noise, dtype=dt), d["x"], d["y"],
        seg=seg, records=records, batch=batch, surrogate=bool(surrogate))
    L = np.asarray(L)
    bad = np.flatnonzero(~np.isfinite(L))
    first = int(bad[0] - 1) * seg + 1 if bad.size else -1
    tau = np.arange(records + 1) * seg * h * eps
    return Path(tau, np.asarray(U), np.asarray(A), L, first, "SGD")
