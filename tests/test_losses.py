"""Adversarial losses against independent float64 values; GP and R1 against finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses

REAL = np.array([2.0, -1.0, 0.5, 0.0])
FAKE = np.array([-3.0, 0.0, 1.5, -0.25])


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


# Expected values in float64 numpy, written in the probability domain of the papers
# rather than with softplus, so they check the implementation instead of repeating it.
EXPECTED_D = {
    'minimax': -np.mean(np.log(_sigmoid(REAL))) - np.mean(np.log(1 - _sigmoid(FAKE))),
    'non_saturating': -np.mean(np.log(_sigmoid(REAL))) - np.mean(np.log(1 - _sigmoid(FAKE))),
    'wasserstein': FAKE.mean() - REAL.mean(),
    'hinge': np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)),
    'least_squares': 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2),
}
EXPECTED_G = {
    'minimax': np.mean(np.log(1 - _sigmoid(FAKE))),
    'non_saturating': -np.mean(np.log(_sigmoid(FAKE))),
    'wasserstein': -FAKE.mean(),
    'hinge': -FAKE.mean(),
    'least_squares': 0.5 * np.mean((FAKE - 1) ** 2),
}


def test_registry_names():
  assert set(losses.LOSSES) == set(EXPECTED_D) == set(EXPECTED_G)


def test_hand_computed_examples():
  # Two values worked out by hand: hinge D = (0 + 2 + 0.5 + 1)/4 + (0 + 1 + 2.5 + 0.75)/4.
  assert float(losses.discriminator_loss('hinge', REAL, FAKE)) == pytest.approx(0.875 + 1.0625)
  # least-squares G = 0.5 * (16 + 1 + 0.25 + 1.5625) / 4.
  assert float(losses.generator_loss('least_squares', FAKE)) == pytest.approx(2.3515625)


@pytest.mark.parametrize('name', sorted(EXPECTED_D))
def test_discriminator_loss_values(name):
  value = losses.discriminator_loss(name, jnp.asarray(REAL, jnp.float32),
                                    jnp.asarray(FAKE, jnp.float32))
  assert value.shape == () and value.dtype == jnp.float32
  np.testing.assert_allclose(float(value), EXPECTED_D[name], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('name', sorted(EXPECTED_G))
def test_generator_loss_values(name):
  value = losses.generator_loss(name, jnp.asarray(FAKE, jnp.float32))
  assert value.shape == () and value.dtype == jnp.float32
  np.testing.assert_allclose(float(value), EXPECTED_G[name], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('name', sorted(EXPECTED_D))
def test_large_logits_are_finite(name):
  real = jnp.array([1e4, -1e4, 80.0, -80.0], jnp.float32)
  fake = -real
  d_value, d_grads = jax.value_and_grad(losses.discriminator_loss, argnums=(1, 2))(
      name, real, fake)
  g_value, g_grad = jax.value_and_grad(losses.generator_loss, argnums=1)(name, fake)
  for x in (d_value, g_value, g_grad, *d_grads):
    assert np.all(np.isfinite(np.asarray(x)))


def test_saturating_values_are_exact_for_large_logits():
  # log(sigmoid(x)) underflows to -inf for x = -1e4 in float32; softplus gives 1e4 exactly.
  fake = jnp.array([-1e4], jnp.float32)
  assert float(losses.generator_loss('non_saturating', fake)) == pytest.approx(1e4)
  assert float(losses.generator_loss('minimax', -fake)) == pytest.approx(-1e4)
  assert float(losses.discriminator_loss('minimax', -fake, fake)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('call', [
    lambda: losses.discriminator_loss('wgan', jnp.zeros(2), jnp.zeros(2)),
    lambda: losses.generator_loss('wgan', jnp.zeros(2)),
])
def test_unknown_name(call):
  with pytest.raises(ValueError, match=r"loss\.name='wgan'.*hinge.*least_squares"):
    call()


# A small nonlinear critic with fixed weights, in jax and (independently) in numpy.
_W1 = np.random.default_rng(0).normal(size=(6, 5))
_W2 = np.random.default_rng(1).normal(size=(5,))


def _critic_jax(x):
  h = jnp.tanh(x.reshape((x.shape[0], -1)) @ jnp.asarray(_W1, x.dtype))
  return h @ jnp.asarray(_W2, x.dtype) + 0.3 * jnp.sum(x.reshape((x.shape[0], -1)) ** 2, 1)


def _critic_np(example):
  flat = example.reshape(-1)
  return np.tanh(flat @ _W1) @ _W2 + 0.3 * np.sum(flat ** 2)


def _fd_gradient(example, h=1e-6):
  """Central finite-difference gradient of the numpy critic at one example (float64)."""
  grad = np.zeros_like(example)
  for index in np.ndindex(example.shape):
    step = np.zeros_like(example)
    step[index] = h
    grad[index] = (_critic_np(example + step) - _critic_np(example - step)) / (2 * h)
  return grad


def _fd_norms(x):
  return np.array([np.linalg.norm(_fd_gradient(example)) for example in x])


def test_gradient_penalty_matches_finite_differences():
  # With real == fake every interpolate is that same point, whatever eps was drawn.
  x = np.random.default_rng(2).normal(size=(4, 3, 2))
  with jax.enable_x64(True):
    gp = losses.gradient_penalty(_critic_jax, jnp.asarray(x), jnp.asarray(x),
                                 jax.random.PRNGKey(0))
    assert gp.dtype == jnp.float64
    gp = float(gp)
  expected = np.mean((_fd_norms(x) - 1.0) ** 2)
  np.testing.assert_allclose(gp, expected, rtol=1e-7)


def test_gradient_penalty_interpolates_per_example():
  # Critic 0.5 * |x|^2 has gradient x, so at x_hat = eps * r * u (fake = 0, |u| = 1) the
  # norm is eps * r: with eps ~ U[0, 1] per example, E[(eps r - 1)^2] = r^2/3 - r + 1.
  # A per-element eps would instead give norms concentrated near r / sqrt(3).
  batch, r = 20000, 2.0
  direction = np.ones((batch, 2, 3), np.float32) / np.sqrt(6.0)
  critic = lambda x: 0.5 * jnp.sum(x.reshape((x.shape[0], -1)) ** 2, axis=1)
  real, fake = jnp.asarray(r * direction), jnp.zeros_like(direction)
  gp = float(losses.gradient_penalty(critic, real, fake, jax.random.PRNGKey(1)))
  np.testing.assert_allclose(gp, r ** 2 / 3 - r + 1, atol=0.01)
  other = float(losses.gradient_penalty(critic, real, fake, jax.random.PRNGKey(2)))
  assert other != gp  # The key drives the interpolation.


def test_gradient_penalty_is_zero_for_unit_gradient_critic():
  rng = np.random.default_rng(4)
  w = rng.normal(size=(12,))
  w /= np.linalg.norm(w)
  critic = lambda x: x.reshape((x.shape[0], -1)) @ jnp.asarray(w, jnp.float32) + 3.0
  real = jnp.asarray(rng.normal(size=(8, 2, 2, 3)), jnp.float32)
  fake = jnp.asarray(rng.normal(size=(8, 2, 2, 3)), jnp.float32)
  assert float(losses.gradient_penalty(critic, real, fake, jax.random.PRNGKey(0))) < 1e-10


def test_gradient_penalty_has_finite_gradient_where_critic_gradient_vanishes():
  # A critic whose input gradient is exactly 0 would make d sqrt(|g|^2) infinite.
  def penalty(scale):
    critic = lambda x: scale * jnp.sum(x.reshape((x.shape[0], -1)), axis=1)
    return losses.gradient_penalty(critic, jnp.ones((4, 3)), jnp.zeros((4, 3)),
                                   jax.random.PRNGKey(0))
  value, grad = jax.value_and_grad(penalty)(0.0)
  assert float(value) == pytest.approx(1.0, abs=1e-5)
  assert np.isfinite(float(grad))


def test_r1_penalty_matches_finite_differences():
  x = np.random.default_rng(3).normal(size=(5, 3, 2))
  with jax.enable_x64(True):
    r1 = float(losses.r1_penalty(_critic_jax, jnp.asarray(x)))
  expected = np.mean(_fd_norms(x) ** 2)
  np.testing.assert_allclose(r1, expected, rtol=1e-7)


def test_r1_penalty_of_linear_critic_is_squared_weight_norm():
  w = jnp.array([3.0, 4.0])
  r1 = losses.r1_penalty(lambda x: x @ w, jnp.ones((7, 2)))
  assert float(r1) == pytest.approx(25.0)


def test_clip_weights():
  params = {'dense': {'kernel': jnp.array([[-2.0, 0.005], [0.02, 3.0]]), 'bias': jnp.array([-0.5])},
            'bn': {'scale': jnp.array([1.0])}}
  clipped = losses.clip_weights(params, 0.01)
  np.testing.assert_allclose(clipped['dense']['kernel'], [[-0.01, 0.005], [0.01, 0.01]])
  np.testing.assert_allclose(clipped['dense']['bias'], [-0.01])
  np.testing.assert_allclose(clipped['bn']['scale'], [0.01])
  assert jax.tree.structure(clipped) == jax.tree.structure(params)
