"""Adversarial losses and discriminator regularizers, as pure functions of logits.

A loss is chosen by `config.loss.name`; each is a pair of functions, one for the
discriminator (real and fake logits) and one for the generator (fake logits), that
return scalar means over the batch. Logits are pre-sigmoid scores, and the
probability-based losses are written with softplus, log(1 + e^x), so that they stay
finite for logits of any size (log(sigmoid(x)) = -softplus(-x)).

The regularizers (WGAN-GP, R1) take the critic as a function of its input, so the
caller decides which variables and which mode (train/eval) the critic runs in.
"""

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

PyTree = Any


class Loss(NamedTuple):
  """The two players' objectives of one adversarial loss (both are minimised)."""
  discriminator: Callable[[jax.Array, jax.Array], jax.Array]  # (real, fake logits) -> scalar.
  generator: Callable[[jax.Array], jax.Array]  # fake logits -> scalar.


def _bce_discriminator(real: jax.Array, fake: jax.Array) -> jax.Array:
  """-log D(x) - log(1 - D(G(z))), the cross-entropy of real-vs-fake classification."""
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


def _minimax_generator(fake: jax.Array) -> jax.Array:
  """log(1 - D(G(z))): Goodfellow et al.'s original, saturating, generator objective."""
  return jnp.mean(-jax.nn.softplus(fake))


def _non_saturating_generator(fake: jax.Array) -> jax.Array:
  """-log D(G(z)): strong gradients early on, when D rejects the fakes confidently."""
  return jnp.mean(jax.nn.softplus(-fake))


def _wasserstein_discriminator(real: jax.Array, fake: jax.Array) -> jax.Array:
  """E[C(G(z))] - E[C(x)]: the negated Wasserstein-1 estimate of a (Lipschitz) critic."""
  return jnp.mean(fake) - jnp.mean(real)


def _wasserstein_generator(fake: jax.Array) -> jax.Array:
  """-E[C(G(z))], shared by the Wasserstein and hinge losses."""
  return -jnp.mean(fake)


def _hinge_discriminator(real: jax.Array, fake: jax.Array) -> jax.Array:
  """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017; SN-GAN, BigGAN)."""
  return jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake))


def _least_squares_discriminator(real: jax.Array, fake: jax.Array) -> jax.Array:
  """Mao et al. (2017) with targets 1 for real and 0 for fake."""
  return 0.5 * jnp.mean((real - 1.0) ** 2) + 0.5 * jnp.mean(fake ** 2)


def _least_squares_generator(fake: jax.Array) -> jax.Array:
  """Mao et al. (2017): pull the fakes' scores towards the real target 1."""
  return 0.5 * jnp.mean((fake - 1.0) ** 2)


LOSSES = {
    'minimax': Loss(_bce_discriminator, _minimax_generator),
    'non_saturating': Loss(_bce_discriminator, _non_saturating_generator),
    'wasserstein': Loss(_wasserstein_discriminator, _wasserstein_generator),
    'hinge': Loss(_hinge_discriminator, _wasserstein_generator),
    'least_squares': Loss(_least_squares_discriminator, _least_squares_generator),
}


def get_loss(name: str) -> Loss:
  """The loss called `name`; a ValueError naming `loss.name` and the known names otherwise."""
  if name not in LOSSES:
    raise ValueError(f'config.loss.name={name!r} is unknown; '
                     f'known: {", ".join(sorted(LOSSES))}.')
  return LOSSES[name]


def discriminator_loss(name: str, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """The discriminator's loss `name` (to minimise) for logits of real and generated data."""
  return get_loss(name).discriminator(real_logits, fake_logits)


def generator_loss(name: str, fake_logits: jax.Array) -> jax.Array:
  """The generator's loss `name` (to minimise) for the discriminator's logits of its samples."""
  return get_loss(name).generator(fake_logits)


def _input_gradients(critic_fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
  """d critic(x)_i / d x_i for every example i, shape (B, ...).

  The gradient of the batch sum equals the per-example gradients only when each logit
  depends on its own example alone, e.g. no BatchNorm with batch statistics (train mode).
  """
  return jax.grad(lambda inputs: jnp.sum(critic_fn(inputs)))(x)


def _per_example_sq_norm(grads: jax.Array) -> jax.Array:
  """Squared L2 norm over all non-batch axes, shape (B,)."""
  return jnp.sum(grads.reshape((grads.shape[0], -1)) ** 2, axis=1)


def gradient_penalty(critic_fn: Callable[[jax.Array], jax.Array], real: jax.Array,
                     fake: jax.Array, key: jax.Array) -> jax.Array:
  """WGAN-GP (Gulrajani et al., 2017): E[(||grad_x critic(x_hat)||_2 - 1)^2].

  x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1] per example, drawn from
  `key`. The gradient norm is per example, over all non-batch axes.

  Args:
    critic_fn: maps a batch (B, ...) to logits (B,). Examples must not interact (no
      train-mode BatchNorm): per-example gradients are taken as the gradient of the sum.
    real: a batch of data (B, ...).
    fake: a batch of generated data, same shape.
    key: PRNG key for the interpolation coefficients.
  Returns:
    The scalar penalty; the caller multiplies it by lambda (`config.loss.gradient_penalty`).
  """
  eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  eps = jax.random.uniform(key, eps_shape, dtype=real.dtype)
  x_hat = eps * real + (1.0 - eps) * fake
  sq_norm = _per_example_sq_norm(_input_gradients(critic_fn, x_hat))
  # The small constant keeps the derivative of sqrt finite where a gradient vanishes.
  norm = jnp.sqrt(sq_norm + 1e-12)
  return jnp.mean((norm - 1.0) ** 2)


def r1_penalty(critic_fn: Callable[[jax.Array], jax.Array], real: jax.Array) -> jax.Array:
  """R1 (Mescheder et al., 2018): E[||grad_x critic(x)||^2] on real data.

  Args:
    critic_fn: maps a batch (B, ...) to logits (B,); as for `gradient_penalty`, examples
      must not interact.
    real: a batch of data (B, ...).
  Returns:
    The scalar mean squared gradient norm. The regularizer of the paper is gamma/2 times
    this value: the caller multiplies by `0.5 * config.loss.r1`.
  """
  return jnp.mean(_per_example_sq_norm(_input_gradients(critic_fn, real)))


def clip_weights(params: PyTree, clip: float) -> PyTree:
  """Every leaf of `params` clipped to [-clip, clip], the WGAN (Arjovsky et al., 2017) way."""
  return jax.tree.map(lambda p: jnp.clip(p, -clip, clip), params)
