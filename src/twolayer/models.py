r"""The two-layer ReLU network in Du et al.'s parameterisation.

.. math::  f(W; x) = \frac{1}{\sqrt m} \sum_{r=1}^m a_r \,\mathrm{relu}(w_r^\top x),

with ``a_r`` fixed in ``{+1, -1}`` and only ``W = (w_1, ..., w_m)`` (shape ``(m, d)``) trained,
loss ``1/2 ||u - y||^2`` where ``u_i = f(W; x_i)``. The derivative of ReLU is taken as
``1{z >= 0}`` (Du et al.'s convention), so the Jacobian row of input ``i`` for neuron ``r`` is
``m^-1/2 a_r 1{w_r . x_i >= 0} x_i``.

References:
  S. S. Du, X. Zhai, B. Poczos, A. Singh. Gradient descent provably optimizes over-parameterized
  neural networks. ICLR 2019, Section 3.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _checks
from .problem import Problem


class Net(NamedTuple):
    """A two-layer network: ``W`` (``(m, d)``, trained) and ``a`` (``(m,)``, fixed signs)."""

    W: jax.Array
    a: jax.Array

    @property
    def width(self) -> int:
        return self.W.shape[0]


def init(key, m: int, d: int, *, symmetric: bool = False) -> Net:
    """Random initialisation ``w_r ~ N(0, I_d)``, ``a_r ~ unif{+1, -1}``, all independent.

    Args:
      key: a ``jax.random`` key.
      m: width (number of hidden neurons).
      d: input dimension.
      symmetric: if True, draw ``m/2`` neurons and pair each ``(w, a)`` with ``(w, -a)``, so that
        ``f(W0; x) = 0`` for every ``x``. This halves the independent neurons; the theorems assume the
        i.i.d. initialisation (the default).

    Raises:
      ValueError: if ``m`` or ``d`` is not a positive whole number, or ``symmetric`` with odd ``m``.
    """
    m = _checks.positive_int("m (the width)", m)
    d = _checks.positive_int("d", d)
    if symmetric and m % 2:
        raise ValueError(f"a symmetric initialisation needs an even width m, got m={m}.")
    return _init(key, m, d, bool(symmetric))


@partial(jax.jit, static_argnames=("m", "d", "symmetric"))
def _init(key, m, d, symmetric):
    kw, ka = jax.random.split(key)
    if symmetric:
        W = jax.random.normal(kw, (m // 2, d))
        a = jax.random.rademacher(ka, (m // 2,)).astype(W.dtype)
        return Net(jnp.concatenate([W, W]), jnp.concatenate([a, -a]))
    W = jax.random.normal(kw, (m, d))
    a = jax.random.rademacher(ka, (m,)).astype(W.dtype)
    return Net(W, a)


@jax.jit
def patterns(W, X):
    """Activation patterns ``1{w_r . x_i >= 0}`` as a boolean array of shape ``(n, m)``."""
    return X @ W.T >= 0


@jax.jit
def predict(W, a, X):
    """Network outputs ``u_i = m^-1/2 sum_r a_r relu(w_r . x_i)``, shape ``(n,)``."""
    return jax.nn.relu(X @ W.T) @ a / jnp.sqrt(W.shape[0])


def _feature_signs(W, a, X):
    # Gamma_ir = m^-1/2 a_r 1{w_r . x_i >= 0}: the back-propagated activation pattern.
    return patterns(W, X).astype(W.dtype) * a / jnp.sqrt(W.shape[0])


@jax.jit
def jacobian(W, a, X):
    """The Jacobian ``du/dW`` of shape ``(n, m*d)``; column ``r*d + k`` is ``d u / d W[r, k]``."""
    G = _feature_signs(W, a, X)  # (n, m)
    return (G[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)


@jax.jit
def vjp(W, a, X, v):
    """``J^T v`` reshaped as ``W``: ``m^-1/2 a_r sum_i v_i 1{w_r . x_i >= 0} x_i`` for each row ``r``."""
    G = _feature_signs(W, a, X)
    return (G * v[:, None]).T @ X


@jax.jit
def gram(W, a, X):
    """The empirical Gram ``H(W) = J J^T``, computed as ``(X X^T) o (Gamma Gamma^T)``.

    ``H_ij = x_i . x_j / m * sum_r a_r^2 1{w_r . x_i >= 0, w_r . x_j >= 0}``. It never forms the
    ``n x md`` Jacobian: memory is ``O(nm)``.
    """
    G = _feature_signs(W, a, X)
    return (X @ X.T) * (G @ G.T)


# The regression problem as module-level functions of (W, data): one compiled loop per shape.
def _residual(W, data):
    return predict(W, data["a"], data["X"]) - data["y"]


def _vjp(W, data, v):
    return vjp(W, data["a"], data["X"], v)


def _jacobian(W, data):
    return jacobian(W, data["a"], data["X"])


def _gram(W, data):
    return gram(W, data["a"], data["X"])


def _patterns(W, data):
    return patterns(W, data["X"])


def regression(net: Net, X, y, *, require_unit_inputs: bool = True) -> Problem:
    """Du et al.'s L2 regression with the second layer ``net.a`` frozen; ``theta = W``.

    Args:
      net: the initial network (only ``net.a`` is used here; pass ``net.W`` to the runner).
      X: inputs of shape ``(n, d)``, unit-norm rows (the theorems' assumption).
      y: targets of shape ``(n,)``.
      require_unit_inputs: set False to allow inputs off the sphere (outside the theorems).

    Returns:
      A :class:`~twolayer.problem.Problem` with closed-form residual, gradient, Jacobian, Gram and
      activation patterns.

    Raises:
      ValueError: on mismatched shapes, non-finite entries, or inputs off the unit sphere.

    Example:
      >>> net = init(jax.random.key(1), 1000, X.shape[1])
      >>> prob = regression(net, X, y)
      >>> trace = twolayer.train.run(twolayer.optim.gd(0.5), prob, net.W, 100)
    """
    _checks.ndim("X", X, 2)
    _checks.ndim("y", y, 1)
    _checks.ndim("net.W", net.W, 2)
    _checks.ndim("net.a", net.a, 1)
    for name, arr in (("X", X), ("y", y), ("net.W", net.W), ("net.a", net.a)):
        _checks.finite(name, arr)
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows (inputs) but y has {y.shape[0]} targets; they must match.")
    if net.W.shape[1] != d:
        raise ValueError(
            f"the network expects inputs of dimension {net.W.shape[1]} but X has {d} columns."
        )
    if net.a.shape[0] != net.W.shape[0]:
        raise ValueError(
            f"net.a has {net.a.shape[0]} entries but net.W has {net.W.shape[0]} rows (neurons)."
        )
    if require_unit_inputs:
        _checks.unit_rows("X", X)
    data = {"X": jnp.asarray(X), "y": jnp.asarray(y), "a": jnp.asarray(net.a)}
    return Problem(_residual, _vjp, _jacobian, _gram, _patterns, data)


# --- Bu, Xu & Chen's network: both layers and the bias trained, mean squared error ---------------------


def bu_init(key, m: int, d: int) -> dict:
    r"""Bu et al.'s initialisation of ``f(x) = sum_r a_r relu(w_r . x + b_r)`` (no ``m^-1/2``).

    As in their official code: the first layer ``w_r ~ N(0, I/m^2)`` (standard deviation ``1/m``),
    the bias ``b_r ~ U(-1/sqrt d, 1/sqrt d)`` (PyTorch's default for ``Linear(d, m)``), the second
    layer ``a_r ~ U(-1, 1)``. All three are trained.

    Returns:
      ``{"W": (m, d), "b": (m,), "a": (m,)}``.

    Raises:
      ValueError: if ``m`` or ``d`` is not a positive whole number.
    """
    m = _checks.positive_int("m (the width)", m)
    d = _checks.positive_int("d", d)
    kw, kb, ka = jax.random.split(key, 3)
    bound = 1.0 / jnp.sqrt(d)
    return {"W": jax.random.normal(kw, (m, d)) / m,
            "b": jax.random.uniform(kb, (m,), minval=-bound, maxval=bound),
            "a": jax.random.uniform(ka, (m,), minval=-1.0, maxval=1.0)}


def bu_predict(params, X):
    """Outputs ``u_i = sum_r a_r relu(w_r . x_i + b_r)``, shape ``(n,)``."""
    return jax.nn.relu(X @ params["W"].T + params["b"]) @ params["a"]


def _bu_residual(params, data):
    # sqrt(2/n) (u - y): then 1/2 ||r||^2 = mean((u - y)^2), PyTorch's nn.MSELoss.
    n = data["y"].shape[0]
    return jnp.sqrt(2.0 / n) * (bu_predict(params, data["X"]) - data["y"])


def _bu_patterns(params, data):
    return data["X"] @ params["W"].T + params["b"] >= 0


def bu_gram(params, X):
    r"""The Gram ``J J^T`` of Bu et al.'s problem (:func:`bu_regression`), in closed form.

    With ``z_ir = w_r . x_i + b_r``, ``D_ir = 1{z_ir > 0}`` and the residual ``sqrt(2/n) (u - y)``,

    ``H_ij = (2/n) [ (x_i . x_j + 1) sum_r a_r^2 D_ir D_jr + sum_r relu(z_ir) relu(z_jr) ]``

    (the first term from ``W`` and ``b``, the second from ``a``). It costs ``O(n^2 m)`` time and
    ``O(n m)`` memory, where the autodiff Jacobian needs ``n`` times the parameter count (about
    1 GB at ``n = 600``, ``m = 3000``). ``relu'(0) = 0``, as in JAX's autodiff.

    Returns:
      The ``(n, n)`` Gram matrix.
    """
    n = X.shape[0]
    Z = X @ params["W"].T + params["b"]
    D = (Z > 0).astype(Z.dtype) * params["a"]
    A = jax.nn.relu(Z)
    return (2.0 / n) * ((X @ X.T + 1.0) * (D @ D.T) + A @ A.T)


def _bu_gram(params, data):
    return bu_gram(params, data["X"])


_BU = None


def bu_regression(X, y) -> Problem:
    r"""Bu et al.'s training problem: mean squared error, all parameters ``{"W", "b", "a"}`` trained.

    The residual is ``r = sqrt(2/n) (u - y)``, so ``L = 1/2 ||r||^2 = (1/n) sum_i (u_i - y_i)^2`` is
    PyTorch's ``nn.MSELoss`` and a step ``s`` of :mod:`twolayer.optim` is their learning rate.
    Derivatives by autodiff; the Gram ``H`` in closed form (:func:`bu_gram`). Inputs need not be
    unit-norm (Bu et al. use raw pixels).

    Raises:
      ValueError: on mismatched shapes or non-finite entries.

    References:
      Z. Bu, S. Xu, K. Chen, AISTATS 2021; official code ``github.com/ShiyunXu/NTK_Optimizer``.
    """
    global _BU
    _checks.ndim("X", X, 2)
    _checks.ndim("y", y, 1)
    _checks.finite("X", X)
    _checks.finite("y", y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows (inputs) but y has {y.shape[0]} targets.")
    if _BU is None:  # one set of functions for every call: one compiled loop per shape
        from .problem import from_residual

        _BU = from_residual(_bu_residual, None, patterns=_bu_patterns)._replace(gram=_bu_gram)
    return _BU._replace(data={"X": jnp.asarray(X), "y": jnp.asarray(y)})
