r"""Two-layer physics-informed networks (PINNs) with closed-form derivatives, as a ``Problem``.

The network and the PDE:

.. math::  \phi(W; z) = \frac{1}{\sqrt m}\sum_{r=1}^m a_r\,\sigma(w_r^\top \tilde z),\qquad
           \tilde z = (z, 1)\in\mathbb R^{D+1},

with ``a_r`` fixed in ``{+1, -1}`` and only ``W`` (shape ``(m, D+1)``) trained; ``z`` is the space
(Poisson) or space-time (heat) input. The PDE is ``L u = f`` inside the domain and ``u = g`` on the
boundary (and at ``t = 0`` for the heat equation), with a linear second-order operator with constant
coefficients

.. math::  \mathcal L u = \sum_{k,l} A_{kl}\,\partial_k\partial_l u + \sum_k b_k\,\partial_k u + c\,u

(Poisson: ``A = -I, b = 0, c = 0``; Helmholtz ``-Laplace u - k^2 u``: ``A = -I, c = -k^2``; heat
``u_t - kappa u_xx``: ``A = -kappa e_x e_x^T``, ``b = e_t``).
With ``n1`` interior points ``x_p`` and ``n2`` boundary points ``y_j`` the residual vector is

.. math::  r = \big(n_1^{-1/2}(\mathcal L\phi(x_p) - f(x_p))_p,\ n_2^{-1/2}(\phi(y_j) - g(y_j))_j\big),
           \qquad L = \tfrac12\|r\|^2 .

Every row is "an operator applied to ``phi`` at a point, minus a target, times a weight": the
boundary rows use the identity operator (``A = 0, b = 0, c = 1``). For one neuron with
``s = w . z~`` and ``w = (v, w_b)``,

.. math::  \mathcal L\sigma(s) = \sigma''(s)\,v^\top A v + \sigma'(s)\,b^\top v + c\,\sigma(s),

.. math::  \nabla_w \mathcal L\sigma(s) = \big(\sigma'''(s)\,v^\top A v + \sigma''(s)\,b^\top v
           + c\,\sigma'(s)\big)\tilde z + \sigma''(s)\,(2Av, 0) + \sigma'(s)\,(b, 0),

so the residual, ``J^T v``, the Jacobian and the Gram ``J J^T`` are all closed forms per neuron
(never nested autodiff over all parameters, which the dossier measured at > 30 CPU-minutes).
Activations: ``"relu3"`` (``sigma = max(z, 0)^3``) and ``"tanh"``, each with closed-form
``sigma', sigma'', sigma'''``.

Contents: :class:`Pde` and the builders :func:`poisson`, :func:`heat`, :func:`helmholtz`; :func:`problem` (a
:class:`twolayer.problem.Problem`, so ``optim.gd``, ``natural.ngd``/``ggn`` and ``train.run`` work
unchanged); :func:`predict`, :func:`relative_l2`; :func:`gram_inf` (the infinite-width Gram by Monte
Carlo over neurons, with standard errors); :func:`trace_inf_poisson1d` (its exact trace for 1-D
Poisson with ReLU^3); :func:`adam` (optax's Adam as a book optimizer, the practitioners' baseline);
:func:`step_flops` (a flop-count cost model); :func:`timed_run` (compiled wall time of a run) and
:func:`error_record` (the relative L2 error at every step, as a ``record`` for the runner).

References:
  X. Xu, T. Du, W. Kong, B. Shan, Y. Li, Z. Huang. Convergence analysis of natural gradient descent
  for over-parameterized physics-informed neural networks. arXiv:2408.00573 (ICLR 2026).
  Y. Gao, Y. Gu, M. K. Ng. Gradient descent finds the global optima of two-layer physics-informed
  neural networks. ICML 2023.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .optim import Optimizer
from .problem import Problem, _gram_from

ACTIVATIONS = ("relu3", "tanh")


# --------------------------------------------------------------------------------------------
# Activations with closed-form derivatives
# --------------------------------------------------------------------------------------------
def _relu3(s):
    p = jnp.maximum(s, 0.0)
    return p**3, 3 * p**2, 6 * p, 6 * (s > 0).astype(s.dtype)


def _tanh(s):
    t = jnp.tanh(s)
    u = 1 - t**2
    return t, u, -2 * t * u, -2 * u * (1 - 3 * t**2)


_ACT = {"relu3": _relu3, "tanh": _tanh}


def activation(name: str, s):
    """``(sigma, sigma', sigma'', sigma''')`` of the activation ``name`` at ``s``, in closed form.

    ReLU^3: ``z+^3, 3 z+^2, 6 z+, 6 1{z > 0}``. tanh (``t = tanh z``): ``t, 1 - t^2,
    -2 t (1 - t^2), -2 (1 - t^2)(1 - 3 t^2)``.

    Raises:
      ValueError: if ``name`` is not one of :data:`ACTIVATIONS`.
    """
    return _ACT[_check_activation(name)](jnp.asarray(s))


def _check_activation(name):
    if name not in _ACT:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}.")
    return name


# --------------------------------------------------------------------------------------------
# The PDE: points, targets, operators, exact solution
# --------------------------------------------------------------------------------------------
class Pde(NamedTuple):
    """A linear second-order PDE with its collocation and evaluation points.

    Attributes:
      name: a label (``"1-D Poisson"``, ...).
      dim: ``D``, the dimension of the input ``z`` (space, or space-time for the heat equation).
      A, b, c: the interior operator ``L u = sum A_kl d_k d_l u + b . grad u + c u``.
      interior: ``(n1, D)`` collocation points; ``f``: ``(n1,)`` the right-hand side there.
      boundary: ``(n2, D)`` boundary (and initial) points; ``g``: ``(n2,)`` the data there.
      eval_points: ``(N, D)`` points of the error metric (separate from the collocation points).
      eval_exact: ``(N,)`` the exact solution there.
      exact: ``z -> u*(z)`` for an ``(N, D)`` array (NumPy).
      eval_note: which points the error metric uses, in words.
    """

    name: str
    dim: int
    A: np.ndarray
    b: np.ndarray
    c: float
    interior: np.ndarray
    f: np.ndarray
    boundary: np.ndarray
    g: np.ndarray
    eval_points: np.ndarray
    eval_exact: np.ndarray
    exact: Callable
    eval_note: str

    @property
    def n1(self) -> int:
        return int(self.interior.shape[0])

    @property
    def n2(self) -> int:
        return int(self.boundary.shape[0])

    @property
    def n(self) -> int:
        return self.n1 + self.n2


def midpoints(k: int) -> np.ndarray:
    """``k`` midpoints of ``[0, 1]``: ``(p - 1/2)/k`` for ``p = 1..k``."""
    k = _checks.positive_int("k (points per axis)", k)
    return (np.arange(k) + 0.5) / k


def tensor_grid(*axes) -> np.ndarray:
    """All points of the tensor product of 1-D arrays, shape ``(prod len, len(axes))`` (first axis slowest)."""
    mesh = np.meshgrid(*[np.asarray(a, dtype=float) for a in axes], indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


def _cube_faces(k: int, d: int) -> np.ndarray:
    # k^(d-1) midpoints on each of the 2d faces of [0, 1]^d.
    if d == 1:
        return np.array([[0.0], [1.0]])
    face = tensor_grid(*([midpoints(k)] * (d - 1)))
    out = []
    for axis in range(d):
        for side in (0.0, 1.0):
            pts = np.insert(face, axis, side, axis=1)
            out.append(pts)
    return np.concatenate(out)


def _random_faces(key, n: int, d: int) -> np.ndarray:
    kf, ks, kp = jax.random.split(key, 3)
    axis = np.asarray(jax.random.randint(kf, (n,), 0, d))
    side = np.asarray(jax.random.bernoulli(ks, 0.5, (n,))).astype(float)
    pts = np.array(jax.random.uniform(kp, (n, d)), dtype=float)  # a writable copy
    pts[np.arange(n), axis] = side
    return pts


def _cube_points(d, n_interior, n_boundary, points, key):
    # Collocation points of (0, 1)^d and its faces (grid or random): (interior, boundary, key),
    # the key left for the evaluation points (the same draws as before this helper existed).
    if points == "grid":
        k = round(n_interior ** (1.0 / d))
        if k**d != n_interior:
            raise ValueError(
                f"a grid in d = {d} needs n_interior = k^{d} points (k per axis), got {n_interior}.")
        if n_boundary is not None:
            raise ValueError("on a grid the boundary points follow from the grid; pass n_boundary=None.")
        return tensor_grid(*([midpoints(k)] * d)), _cube_faces(k, d), key
    if points == "random":
        if key is None:
            raise ValueError("points='random' needs an explicit jax.random key.")
        if n_boundary is None:
            raise ValueError("points='random' needs n_boundary (the number of boundary points).")
        n_boundary = _checks.positive_int("n_boundary", n_boundary)
        k1, k2, key = jax.random.split(key, 3)
        interior = np.asarray(jax.random.uniform(k1, (n_interior, d)), dtype=float)
        boundary = _random_faces(k2, n_boundary, d) if d > 1 else np.array([[0.0], [1.0]])
        return interior, boundary, key
    raise ValueError(f"points must be 'grid' or 'random', got {points!r}.")


def _cube_eval(d, key):
    # The points of the error metric on [0, 1]^d and their description.
    if d == 1:
        return np.linspace(0, 1, 201)[:, None], "201 equispaced points of [0, 1]"
    if d == 2:
        ev = tensor_grid(np.linspace(0, 1, 51), np.linspace(0, 1, 51))
        return ev, "the 51 x 51 equispaced grid of [0, 1]^2"
    if key is None:
        raise ValueError(f"d = {d} evaluates on random points: pass an explicit jax.random key.")
    ev = np.asarray(jax.random.uniform(jax.random.fold_in(key, 7), (2000, d)), dtype=float)
    return ev, f"2000 uniform random points of [0, 1]^{d}"


def poisson(d: int = 1, n_interior: int = 20, n_boundary: int | None = None, *, points: str = "grid",
            key=None, solution: str | None = None) -> Pde:
    r"""The Poisson problem ``-Laplace u = f`` on ``(0, 1)^d`` with Dirichlet data ``g = u*``.

    Exact solutions: ``"product"`` ``u* = prod_i sin(pi x_i)`` (``f = d pi^2 u*``, ``g = 0``; the
    default for ``d <= 2``), or ``"sum"`` ``u* = (1/d) sum_i sin(pi x_i)`` (``f = pi^2 u*``,
    ``g != 0``; the default for ``d >= 3``, where a product of sines is nearly zero).

    Collocation: ``points="grid"``: ``n_interior = k^d`` midpoints of a tensor grid (``k`` per
    axis) and ``k^(d-1)`` midpoints on each of the ``2d`` faces (``n2 = 2 d k^(d-1)``; ``n2 = 2``
    in 1-D); ``n_boundary`` must be None. ``points="random"``: ``n_interior`` uniform points in
    the cube and ``n_boundary`` uniform points on its faces, from ``key``.

    Evaluation (the relative L2 error): ``d = 1``: 201 equispaced points of ``[0, 1]``; ``d = 2``:
    the 51 x 51 equispaced grid of ``[0, 1]^2`` (boundary included); ``d >= 3``: 2000 uniform
    points of the cube drawn from ``key`` (required then). These are separate from the collocation
    points (a few grid midpoints may happen to lie on them).

    Raises:
      ValueError: on a non-positive ``d`` or point count, ``n_interior`` not a ``d``-th power on a
        grid, a missing key, an unknown ``points`` or ``solution``.
    """
    d = _checks.positive_int("d (the space dimension)", d)
    n_interior = _checks.positive_int("n_interior", n_interior)
    if solution is None:
        solution = "product" if d <= 2 else "sum"
    if solution not in ("product", "sum"):
        raise ValueError(f"solution must be 'product' or 'sum', got {solution!r}.")
    interior, boundary, key = _cube_points(d, n_interior, n_boundary, points, key)

    if solution == "product":
        def exact(z):
            return np.prod(np.sin(np.pi * np.asarray(z)), axis=1)
        lam = d * np.pi**2
    else:
        def exact(z):
            return np.mean(np.sin(np.pi * np.asarray(z)), axis=1)
        lam = np.pi**2

    ev, note = _cube_eval(d, key)
    name = f"{d}-D Poisson"
    return Pde(name, d, -np.eye(d), np.zeros(d), 0.0, interior, lam * exact(interior), boundary,
               exact(boundary), ev, exact(ev), exact, note)


def helmholtz(n_interior: int = 144, n_boundary: int | None = None, *, k: float = 1.0,
              modes=(1, 4), points: str = "grid", key=None) -> Pde:
    r"""The Helmholtz problem ``-Laplace u - k^2 u = f`` on the unit square ``(0, 1)^2``, ``u = 0`` on its boundary.

    Exact solution ``u* = sin(a1 pi x) sin(a2 pi y)`` with ``(a1, a2) = modes`` (the PINN benchmark
    of Wang, Teng and Perdikaris 2021 has ``a1 = 1, a2 = 4, k = 1``, on ``[-1, 1]^2``), so
    ``f = (pi^2 (a1^2 + a2^2) - k^2) u*`` and ``g = 0``. The operator is ``A = -I``, ``b = 0``,
    ``c = -k^2``: linear, second order, constant coefficients, so :func:`problem` gives its
    residual, Jacobian and Gram in closed form per neuron exactly as for Poisson.

    Collocation and evaluation as :func:`poisson` with ``d = 2``: ``points="grid"``:
    ``n_interior = k^2`` midpoints and ``k`` midpoints per side (``n2 = 4 k``); ``points="random"``:
    ``n_interior`` and ``n_boundary`` uniform points from ``key``. The error metric uses the
    51 x 51 equispaced grid of ``[0, 1]^2``.

    Raises:
      ValueError: on a non-positive point count, ``n_interior`` not a square on a grid, a missing
        key, unknown ``points``; ``k`` not finite or negative; ``modes`` not two positive whole
        numbers; or ``k^2`` a Dirichlet eigenvalue ``pi^2 (i^2 + j^2)`` (``i, j >= 1``) of
        ``-Laplace`` on the square, where the problem has no unique solution.
    """
    n_interior = _checks.positive_int("n_interior", n_interior)
    k = _checks.nonnegative("k (the wavenumber)", k)
    modes = tuple(modes) if np.ndim(modes) == 1 else (modes,)
    if len(modes) != 2:
        raise ValueError(f"modes must be two positive whole numbers (a1, a2), got {modes!r}.")
    a1, a2 = (_checks.positive_int("modes (a1, a2)", a) for a in modes)
    q = k**2 / np.pi**2
    for i in range(1, int(np.sqrt(max(q, 0.0))) + 1):
        j2 = q - i**2
        j = round(np.sqrt(j2)) if j2 > 0 else 0
        if j >= 1 and abs(i**2 + j**2 - q) <= 1e-9 * max(q, 1.0):
            raise ValueError(
                f"k^2 = {k**2:g} is a Dirichlet eigenvalue of -Laplace on the unit square, "
                f"pi^2 ({i}^2 + {j}^2): the Helmholtz problem has no unique solution there.")
    interior, boundary, key = _cube_points(2, n_interior, n_boundary, points, key)

    def exact(z):
        z = np.asarray(z)
        return np.sin(a1 * np.pi * z[:, 0]) * np.sin(a2 * np.pi * z[:, 1])

    lam = np.pi**2 * (a1**2 + a2**2) - k**2
    ev, note = _cube_eval(2, key)
    return Pde("2-D Helmholtz", 2, -np.eye(2), np.zeros(2), -(k**2), interior, lam * exact(interior),
               boundary, exact(boundary), ev, exact(ev), exact, note)


def heat(n_x: int = 8, n_t: int = 8, *, kappa: float = 0.1, T: float = 1.0, points: str = "grid",
         key=None) -> Pde:
    r"""The 1-D heat equation ``u_t = kappa u_xx`` on ``(0, 1) x (0, T]``, input ``z = (x, t)``.

    ``u(0, t) = u(1, t) = 0`` and ``u(x, 0) = sin(pi x)``; exact ``u* = exp(-kappa pi^2 t) sin(pi x)``.
    The operator ``u_t - kappa u_xx`` is ``A = -kappa e_x e_x^T``, ``b = e_t``, ``c = 0``, ``f = 0``.

    Collocation (``points="grid"``): the ``n_x x n_t`` midpoints of ``(0, 1) x (0, T)``; boundary
    rows at ``x = 0`` and ``x = 1`` on ``n_t`` midpoints in ``t``, and initial rows at ``t = 0`` on
    ``n_x`` midpoints in ``x``: ``n2 = 2 n_t + n_x`` rows, all weighted ``n2^-1/2``.
    ``points="random"``: as many points, uniform, from ``key``. Evaluation: the 51 x 51 equispaced
    grid of ``[0, 1] x [0, T]``.

    Raises:
      ValueError: on non-positive counts, ``kappa`` or ``T``, a missing key, or unknown ``points``.
    """
    n_x = _checks.positive_int("n_x", n_x)
    n_t = _checks.positive_int("n_t", n_t)
    kappa = _checks.positive("kappa", kappa)
    T = _checks.positive("T", T)
    if points == "grid":
        xs, ts = midpoints(n_x), T * midpoints(n_t)
        interior = tensor_grid(xs, ts)
        bx_t, ix = ts, xs
    elif points == "random":
        if key is None:
            raise ValueError("points='random' needs an explicit jax.random key.")
        k1, k2, k3 = jax.random.split(key, 3)
        interior = np.asarray(jax.random.uniform(k1, (n_x * n_t, 2)), dtype=float) * [1.0, T]
        bx_t = np.sort(np.asarray(jax.random.uniform(k2, (n_t,)), dtype=float)) * T
        ix = np.sort(np.asarray(jax.random.uniform(k3, (n_x,)), dtype=float))
    else:
        raise ValueError(f"points must be 'grid' or 'random', got {points!r}.")
    boundary = np.concatenate([
        np.stack([np.zeros_like(bx_t), bx_t], 1), np.stack([np.ones_like(bx_t), bx_t], 1),
        np.stack([ix, np.zeros_like(ix)], 1)])

    def exact(z):
        z = np.asarray(z)
        return np.exp(-kappa * np.pi**2 * z[:, 1]) * np.sin(np.pi * z[:, 0])

    ev = tensor_grid(np.linspace(0, 1, 51), np.linspace(0, T, 51))
    A = np.array([[-kappa, 0.0], [0.0, 0.0]])
    return Pde("1-D heat", 2, A, np.array([0.0, 1.0]), 0.0, interior, np.zeros(len(interior)),
               boundary, exact(boundary), ev, exact(ev), exact,
               f"the 51 x 51 equispaced grid of [0, 1] x [0, {T:g}]")


# --------------------------------------------------------------------------------------------
# Closed-form residual, J^T v, Jacobian and Gram
# --------------------------------------------------------------------------------------------
def _aug(Z):
    return jnp.concatenate([Z, jnp.ones((Z.shape[0], 1), Z.dtype)], axis=1)


def _parts(W, data, act):
    """Per (row, neuron): operator value, the coefficient of z~ in its gradient, sigma', sigma''."""
    Z, kind = data["Z"], data["kind"]
    S = Z @ W.T                                               # (n, m)
    s0, s1, s2, s3 = act(S)
    V = W[:, :-1]                                             # (m, D)
    Q = jnp.einsum("rk,Kkl,rl->Kr", V, data["A"], V)          # v^T A v per operator kind
    B = data["b"] @ V.T                                       # b . v per kind, (K, m)
    q, beta, c = Q[kind], B[kind], data["c"][kind][:, None]
    value = s2 * q + s1 * beta + c * s0
    coef = s3 * q + s2 * beta + c * s1
    return value, coef, s1, s2


def _residual_fn(act):
    def residual(W, data):
        value, _, _, _ = _parts(W, data, act)
        u = value @ data["a"] / jnp.sqrt(W.shape[0])
        return data["omega"] * (u - data["target"])

    return residual


def _jacobian_fn(act):
    def jacobian(W, data):
        _, coef, s1, s2 = _parts(W, data, act)
        V = W[:, :-1]
        kind = data["kind"]
        P = 2 * jnp.einsum("Kkl,rl->Krk", data["A"], V)        # (K, m, D): 2 A v
        extra = s2[:, :, None] * P[kind] + s1[:, :, None] * data["b"][kind][:, None, :]
        Jz = coef[:, :, None] * data["Z"][:, None, :]           # (n, m, D+1)
        Jz = Jz.at[:, :, :-1].add(extra)
        scale = data["omega"][:, None, None] * data["a"][None, :, None] / jnp.sqrt(W.shape[0])
        return (Jz * scale).reshape(Jz.shape[0], -1)

    return jacobian


def _vjp_fn(act):
    def vjp(W, data, v):
        _, coef, s1, s2 = _parts(W, data, act)
        V = W[:, :-1]
        u = data["omega"] * v / jnp.sqrt(W.shape[0])            # (n,)
        onehot = (data["kind"][:, None] == jnp.arange(data["A"].shape[0])[None, :]).astype(W.dtype)
        G = (coef * u[:, None]).T @ data["Z"]                   # (m, D+1)
        S2 = (s2 * u[:, None]).T @ onehot                       # (m, K)
        S1 = (s1 * u[:, None]).T @ onehot                       # (m, K)
        P = 2 * jnp.einsum("Kkl,rl->rKk", data["A"], V)         # (m, K, D)
        extra = jnp.einsum("rK,rKk->rk", S2, P) + S1 @ data["b"]
        G = G.at[:, :-1].add(extra)
        return G * data["a"][:, None]

    return vjp


def _patterns(W, data):
    return data["Z"] @ W.T > 0


def _make(act_name):
    # jit-wrapped, so that problem.r / problem.H called outside train.run also run compiled.
    act = _ACT[act_name]
    jac = _jacobian_fn(act)
    return (jax.jit(_residual_fn(act)), jax.jit(_vjp_fn(act)), jax.jit(jac), jax.jit(_gram_from(jac)),
            (jax.jit(_patterns) if act_name == "relu3" else None))


# Built once, so every problem with the same activation and shapes shares one compiled loop.
_FUNCS = {name: _make(name) for name in ACTIVATIONS}


def _data(pde: Pde, a):
    D = pde.dim
    Z = np.concatenate([pde.interior, pde.boundary])
    n1, n2 = pde.n1, pde.n2
    kind = np.concatenate([np.zeros(n1, int), np.ones(n2, int)])
    A = np.stack([np.asarray(pde.A, float), np.zeros((D, D))])
    b = np.stack([np.asarray(pde.b, float), np.zeros(D)])
    c = np.array([float(pde.c), 1.0])
    omega = np.concatenate([np.full(n1, n1**-0.5), np.full(n2, n2**-0.5)])
    target = np.concatenate([pde.f, pde.g])
    return {"Z": _aug(jnp.asarray(Z, float)), "kind": jnp.asarray(kind), "A": jnp.asarray(A),
            "b": jnp.asarray(b), "c": jnp.asarray(c), "omega": jnp.asarray(omega),
            "target": jnp.asarray(target, float), "a": jnp.asarray(a)}


def _check_pde(pde):
    if not isinstance(pde, Pde):
        raise ValueError(f"pde must be a twolayer.pinn.Pde (from poisson(), heat() or helmholtz()), got {type(pde).__name__}.")


def problem(pde: Pde, net, activation: str = "relu3") -> Problem:
    r"""The PINN least-squares problem of ``pde`` for the two-layer net ``net``; ``theta = W``.

    Residual rows: ``n1^-1/2 (L phi(x_p) - f(x_p))`` for the interior points, then
    ``n2^-1/2 (phi(y_j) - g(y_j))`` for the boundary (and initial) points. Residual, ``J^T v``,
    Jacobian (columns ordered as ``W.ravel()``) and Gram are closed forms per neuron; for ReLU^3
    the problem also reports activation patterns ``1{w_r . z~_i > 0}``.

    Args:
      pde: a :class:`Pde` (:func:`poisson`, :func:`heat`).
      net: a :class:`twolayer.models.Net` with ``W`` of shape ``(m, pde.dim + 1)`` (only ``net.a``
        is used here: pass ``net.W`` to the runner); e.g. ``models.init(key, m, pde.dim + 1)``.
      activation: ``"relu3"`` or ``"tanh"``.

    Returns:
      A :class:`~twolayer.problem.Problem`.

    Raises:
      ValueError: on an unknown activation, a non-Pde, or a net whose shapes do not fit.

    Example:
      >>> pde = poisson(1, 20)
      >>> net = twolayer.models.init(jax.random.key(1), 4000, pde.dim + 1)
      >>> prob = problem(pde, net)
      >>> tr = twolayer.train.run(twolayer.natural.ngd(0.5), prob, net.W, 10)
    """
    _check_pde(pde)
    _check_activation(activation)
    _check_net(net, pde)
    residual, vjp, jac, gram, patterns = _FUNCS[activation]
    return Problem(residual, vjp, jac, gram, patterns, _data(pde, net.a))


def _check_net(net, pde):
    W, a = getattr(net, "W", None), getattr(net, "a", None)
    if W is None or a is None:
        raise ValueError("net must be a twolayer.models.Net (with fields W and a).")
    _checks.ndim("net.W", W, 2)
    _checks.ndim("net.a", a, 1)
    _checks.finite("net.W", W)
    if W.shape[1] != pde.dim + 1:
        raise ValueError(
            f"net.W has {W.shape[1]} columns but the PDE's input z = {pde.name} has dimension "
            f"{pde.dim}, so W needs {pde.dim} + 1 columns (the last one multiplies the constant 1).")
    if a.shape[0] != W.shape[0]:
        raise ValueError(f"net.a has {a.shape[0]} entries but net.W has {W.shape[0]} rows (neurons).")


@partial(jax.jit, static_argnames="act_name")
def _predict(W, a, Z, act_name):
    s0 = _ACT[act_name](_aug(Z) @ W.T)[0]
    return s0 @ a / jnp.sqrt(W.shape[0])


def predict(W, a, Z, activation: str = "relu3") -> np.ndarray:
    """The network ``phi(W; z)`` at the rows of ``Z`` (shape ``(N, D)``), as a NumPy array.

    Raises:
      ValueError: on an unknown activation or inconsistent shapes.
    """
    _check_activation(activation)
    _checks.ndim("W", W, 2)
    _checks.ndim("Z", Z, 2)
    if W.shape[1] != np.shape(Z)[1] + 1:
        raise ValueError(f"W has {W.shape[1]} columns, so Z needs {W.shape[1] - 1} columns, got {np.shape(Z)[1]}.")
    return np.asarray(_predict(jnp.asarray(W), jnp.asarray(a), jnp.asarray(Z, float), activation))


def relative_l2(pde: Pde, W, a, activation: str = "relu3") -> float:
    """``||phi - u*|| / ||u*||`` over ``pde.eval_points`` (equal weights; see ``pde.eval_note``).

    The evaluation points are separate from the collocation points, so this measures the solution,
    not the fit to the training rows. A non-finite ``W`` gives ``nan``.
    """
    _check_pde(pde)
    if not np.all(np.isfinite(np.asarray(W))):
        return float("nan")
    u = predict(W, a, pde.eval_points, activation)
    return float(np.linalg.norm(u - pde.eval_exact) / np.linalg.norm(pde.eval_exact))


# --------------------------------------------------------------------------------------------
# The infinite-width Gram by Monte Carlo over neurons
# --------------------------------------------------------------------------------------------
class GramEstimate(NamedTuple):
    """A Monte Carlo estimate of ``H_inf = E_w[psi(w) psi(w)^T]`` (``w ~ N(0, I)``).

    Attributes:
      H: the estimate (mean over all neurons), ``(n, n)``.
      se: entrywise standard error (from the spread of the chunk means), ``(n, n)``.
      eigvals: eigenvalues of ``H``, ascending.
      eig_se: jackknife (leave one chunk out) standard error of each eigenvalue.
      trace_se: standard error of the trace (the chunks' traces are independent).
      neurons: number of neurons drawn; chunks: number of chunks.
    """

    H: np.ndarray
    se: np.ndarray
    eigvals: np.ndarray
    eig_se: np.ndarray
    trace_se: float
    neurons: int
    chunks: int

    @property
    def trace(self) -> float:
        return float(np.trace(self.H))

    @property
    def lambda_0(self) -> float:
        return float(self.eigvals[0])

    @property
    def lambda_max(self) -> float:
        return float(self.eigvals[-1])


@partial(jax.jit, static_argnames=("act_name", "chunk"))
def _chunk_gram(key, data, act_name, chunk):
    D1 = data["Z"].shape[1]
    W = jax.random.normal(key, (chunk, D1))
    d = dict(data, a=jnp.ones(chunk, W.dtype))
    return _FUNCS[act_name][3](W, d)


def gram_inf(pde: Pde, key, activation: str = "relu3", neurons: int = 400_000,
             chunk: int = 20_000) -> GramEstimate:
    r"""The infinite-width PINN Gram ``H_inf`` by Monte Carlo over ``neurons`` draws ``w ~ N(0, I)``.

    ``H_inf_ij = E_w[psi_i(w) . psi_j(w)]`` with ``psi_i(w) = omega_i grad_w (L_i sigma)(w . z~_i)``
    (the Jacobian row of one neuron with ``a = 1``, without the ``m^-1/2``); ``a_r^2 = 1`` drops
    out. There is no closed form for the PINN kernel, so it is averaged in chunks of ``chunk``
    neurons (the finite-width Gram of a chunk is exactly the chunk mean). The chunk means give an
    entrywise standard error and a jackknife standard error per eigenvalue.

    Args:
      pde: a :class:`Pde`.
      key: a ``jax.random`` key.
      activation: ``"relu3"`` or ``"tanh"``.
      neurons: total draws, a multiple of ``chunk``, at least 2 chunks.
      chunk: neurons per chunk (memory is ``n * chunk * (D + 1)`` floats).

    Returns:
      A :class:`GramEstimate`.

    Raises:
      ValueError: on an unknown activation, non-positive counts, or ``neurons`` not a multiple
        ``>= 2`` of ``chunk``.
    """
    _check_pde(pde)
    _check_activation(activation)
    neurons = _checks.positive_int("neurons", neurons)
    chunk = _checks.positive_int("chunk", chunk)
    if neurons % chunk or neurons // chunk < 2:
        raise ValueError(f"neurons ({neurons}) must be a multiple of chunk ({chunk}), at least 2 chunks.")
    C = neurons // chunk
    data = _data(pde, np.ones(1))
    keys = jax.random.split(key, C)
    Hs = np.stack([np.asarray(_chunk_gram(k, data, activation, chunk)) for k in keys])
    H = Hs.mean(0)
    se = Hs.std(0, ddof=1) / np.sqrt(C)
    loo = (C * H[None] - Hs) / (C - 1)
    ev_loo = np.linalg.eigvalsh(loo)
    eig_se = np.sqrt((C - 1) / C * np.sum((ev_loo - ev_loo.mean(0)) ** 2, axis=0))
    tr = np.trace(Hs, axis1=1, axis2=2)
    return GramEstimate(H, se, np.linalg.eigvalsh(H), eig_se, float(tr.std(ddof=1) / np.sqrt(C)),
                        neurons, C)


def trace_inf_poisson1d(x, y=(0.0, 1.0)) -> float:
    r"""Exact ``tr H_inf`` for 1-D Poisson with ReLU^3, interior points ``x`` and boundary points ``y``.

    With ``w = (v, w_b) ~ N(0, I_2)`` and ``s = v x + w_b``, the interior feature is
    ``psi_s = -6 1{s > 0} (v^2 x + 2 s v, v^2)`` and the boundary one ``psi_h = 3 s+^2 (y, 1)``. The
    sign symmetry ``w -> -w`` halves every expectation and Gaussian moments give

    .. math::  E\|\psi_s(x)\|^2 = 486 x^2 + 126,\qquad E\|\psi_h(y)\|^2 = \tfrac{27}{2}(1 + y^2)^3,

    so ``tr H_inf = mean_p (486 x_p^2 + 126) + mean_j 13.5 (1 + y_j^2)^3``: bounded whatever ``n1``
    and ``n2`` (Xu et al., Remark 3.8). For midpoints ``x_p = (p - 1/2)/n1`` and ``y = {0, 1}`` this
    is ``348.75 - 40.5 / n1^2``.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size == 0 or y.size == 0:
        raise ValueError("x and y must hold at least one point each.")
    return float(np.mean(486 * x**2 + 126) + np.mean(13.5 * (1 + y**2) ** 3))


# --------------------------------------------------------------------------------------------
# The practitioners' baseline: Adam (optax), and an equal-cost proxy
# --------------------------------------------------------------------------------------------
def _adam_tx():
    import optax

    return optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)


def _adam_init(theta, problem, hyper):
    return _adam_tx().init(theta)


def _adam_step(theta, state, problem, hyper):
    g = problem.grad(theta)
    upd, state = _adam_tx().update(g, state, theta)
    theta = jax.tree_util.tree_map(lambda t, u: t - hyper["eta"] * u, theta, upd)
    return theta, state


def adam(eta: float) -> Optimizer:
    r"""Adam (optax's ``scale_by_adam``, ``b1 = 0.9, b2 = 0.999, eps = 1e-8``) with learning rate ``eta``.

    .. math::  m_k = b_1 m_{k-1} + (1-b_1) g_k,\ v_k = b_2 v_{k-1} + (1-b_2) g_k^2,\
               \theta_{k+1} = \theta_k - \eta\,\hat m_k / (\sqrt{\hat v_k} + \epsilon),

    with ``g_k = J^T r`` and the bias corrections ``hat m_k = m_k / (1 - b1^k)``, ``hat v_k = v_k /
    (1 - b2^k)``: exactly ``optax.adam(eta)``, written as a book optimizer so that
    :func:`twolayer.train.run` runs it like GD and NGD. The practitioners' default for PINNs.

    Raises:
      ValueError: if ``eta`` is not a finite positive number.

    References:
      D. P. Kingma, J. Ba. Adam: a method for stochastic optimization. ICLR 2015.
    """
    eta = _checks.positive("eta (the learning rate)", eta)
    return Optimizer(_adam_init, _adam_step, {"eta": jnp.asarray(eta)}, "Adam")


def step_flops(method: str, n: int, m: int, dim: int) -> float:
    r"""Floating-point operations of one step on the PINN problem (the equal-cost proxy).

    Counting multiply-adds as 2 flops, with ``q = m (dim + 1)`` parameters: the residual and
    ``J^T r`` of a gradient step each cost about ``2 n q`` (the pre-activations ``Z W^T`` and
    the products with ``Z``), so GD and Adam cost ``4 n q``; NGD adds forming ``J`` (``n q``), the
    Gram ``J J^T`` (``2 n^2 q``) and a Cholesky solve (``n^3 / 3``).

    Args:
      method: ``"GD"``, ``"Adam"`` or ``"NGD"`` (also ``"GGN"``).
      n, m, dim: rows (``n1 + n2``), width and input dimension ``D``.

    Raises:
      ValueError: on an unknown method or non-positive sizes.
    """
    n = _checks.positive_int("n", n)
    m = _checks.positive_int("m", m)
    dim = _checks.positive_int("dim", dim)
    q = m * (dim + 1)
    base = 4.0 * n * q
    if method in ("GD", "Adam"):
        return base
    if method in ("NGD", "GGN"):
        return base + n * q + 2.0 * n * n * q + n**3 / 3
    raise ValueError(f"method must be 'GD', 'Adam', 'NGD' or 'GGN', got {method!r}.")


def timed_run(optimizer: Optimizer, problem: Problem, theta0, steps: int, repeats: int = 2):
    """:func:`twolayer.train.run` timed: compile once, then the fastest of ``repeats`` runs.

    Returns ``(trace, seconds)``: the trace of the last run and the smallest wall time of the
    compiled runs (the minimum is the least disturbed by other processes on a shared machine).
    Compilation is excluded, so methods are compared on what a step costs.

    Raises:
      ValueError: if ``repeats`` is not a positive whole number (and as :func:`twolayer.train.run`).
    """
    import time

    from .train import run

    repeats = _checks.positive_int("repeats", repeats)
    run(optimizer, problem, theta0, steps)  # compile (and warm up)
    best, trace = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        trace = run(optimizer, problem, theta0, steps)
        jax.block_until_ready(trace.theta)
        best = min(best, time.perf_counter() - t0)
    return trace, best


def error_record(pde: Pde, activation: str = "relu3"):
    """A ``record`` function for :func:`twolayer.train.run`: the relative L2 error at every step.

    Returns ``f(theta, problem) -> ||phi - u*|| / ||u*||`` over ``pde.eval_points`` (the output
    weights ``a`` are read from ``problem.data``), so a run records the error curve along with the
    loss. Build it once per PDE and reuse it: the loop compiles once per function object.

    Raises:
      ValueError: on a non-Pde or an unknown activation.

    Example:
      >>> rec = error_record(pde)
      >>> tr = twolayer.train.run(adam(1e-2), prob, net.W, 500, record=rec)
      >>> tr.records[-1]        # the relative L2 error after 500 steps
    """
    _check_pde(pde)
    act = _ACT[_check_activation(activation)]
    Z = _aug(jnp.asarray(pde.eval_points, float))
    exact = jnp.asarray(pde.eval_exact, float)
    norm = float(np.linalg.norm(pde.eval_exact))

    def record(theta, problem):
        u = act(Z @ theta.T)[0] @ problem.data["a"] / jnp.sqrt(theta.shape[0])
        return jnp.linalg.norm(u - exact) / norm

    return record
