"""Every public entry point rejects bad input with a ValueError that says what is wrong."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer import config, data, kernels, models, optim, problem, rates, train


@pytest.fixture
def setup():
    X = data.sphere(jax.random.key(0), 6, 3)
    y = data.gaussian_targets(jax.random.key(1), 6)
    net = models.init(jax.random.key(2), 16, 3)
    return X, y, net


def test_mismatched_shapes(setup):
    X, y, net = setup
    with pytest.raises(ValueError, match="X has 6 rows .* y has 5 targets"):
        models.regression(net, X, y[:5])
    with pytest.raises(ValueError, match="dimension 4 but X has 3 columns"):
        models.regression(models.init(jax.random.key(0), 16, 4), X, y)
    with pytest.raises(ValueError, match="y must be a 1-D array"):
        models.regression(net, X, y[:, None])
    with pytest.raises(ValueError, match="net.a has 15 entries"):
        models.regression(models.Net(net.W, net.a[:15]), X, y)
    with pytest.raises(ValueError, match="A has 3 rows but b has 2"):
        problem.linear(jnp.ones((3, 2)), jnp.ones(2))
    with pytest.raises(ValueError, match="must be square"):
        kernels.eigh(jnp.ones((3, 2)))


@pytest.mark.parametrize("eta", [0, -0.1, float("nan"), float("inf"), "big"])
def test_non_positive_step_size(eta):
    with pytest.raises(ValueError, match="step size"):
        optim.gd(eta)


@pytest.mark.parametrize("m", [0, -3, 2.5])
def test_non_positive_width(m):
    with pytest.raises(ValueError, match="width"):
        models.init(jax.random.key(0), m, 3)


def test_odd_width_with_symmetric_init():
    with pytest.raises(ValueError, match="even width"):
        models.init(jax.random.key(0), 7, 3, symmetric=True)


def test_inputs_off_the_unit_sphere(setup):
    X, y, net = setup
    with pytest.raises(ValueError, match="unit-norm rows.*row 0 has norm 2"):
        kernels.h_inf(2 * X)
    with pytest.raises(ValueError, match="unit-norm rows"):
        models.regression(net, 2 * X, y)
    models.regression(net, 2 * X, y, require_unit_inputs=False)  # explicitly allowed


def test_non_finite_input(setup):
    X, y, net = setup
    with pytest.raises(ValueError, match="X contains NaN"):
        kernels.h_inf(X.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="y contains NaN"):
        models.regression(net, X, y.at[2].set(jnp.inf))
    with pytest.raises(ValueError, match="theta0 contains NaN"):
        train.run(optim.gd(0.1), models.regression(net, X, y), net.W.at[0, 0].set(jnp.nan), 5)
    with pytest.raises(ValueError, match="zero row"):
        data.normalize(jnp.zeros((2, 3)))


def test_run_arguments(setup):
    X, y, net = setup
    prob = models.regression(net, X, y)
    with pytest.raises(ValueError, match="steps"):
        train.run(optim.gd(0.1), prob, net.W, 0)
    with pytest.raises(ValueError, match="gram_every"):
        train.run(optim.gd(0.1), prob, net.W, 5, gram_every=-1)


def test_data_and_rates_arguments():
    with pytest.raises(ValueError, match="n must be"):
        data.sphere(jax.random.key(0), 0, 3)
    with pytest.raises(ValueError, match="d must be at least 2"):
        data.sphere(jax.random.key(0), 4, 1)
    with pytest.raises(ValueError, match="fewer than 2"):
        rates.fit_linear_rate(np.full(10, np.nan))
    with pytest.raises(ValueError, match="positive"):
        rates.fit_power_law([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="lambda_0"):
        rates.gd_bound(1.0, 0.1, 0.0, 10)


def test_scale_knob(monkeypatch):
    monkeypatch.setenv("TWOLAYER_SCALE", "paper")
    assert config.pick(1, 2) == 2
    monkeypatch.setenv("TWOLAYER_SCALE", "huge")
    with pytest.raises(ValueError, match="TWOLAYER_SCALE"):
        config.scale()
