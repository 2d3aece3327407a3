"""Detectability: can a freshly trained classifier tell generated samples from real ones?

A classifier two-sample test (Lopez-Paz & Oquab 2017). Real and generated samples are
balanced, shuffled and split; a small MLP is trained to separate them on one part and
its accuracy is measured on the other. 0.5 means the detector cannot tell them apart;
1.0 means every fake is spotted. The 95% interval is Wilson's score interval for a
binomial proportion, so it is honest for small test sets and for accuracies near 1.

The inputs can be raw samples (images are flattened) or features of a pretrained
network; the whole training run is one jitted `lax.scan`.
"""

import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax


class Detectability(NamedTuple):
  """Held-out accuracy of the real-vs-generated classifier, with a 95% Wilson interval."""
  accuracy: float
  ci_low: float
  ci_high: float
  num_test: int


class _Detector(nn.Module):
  """A small MLP that scores how real an input looks."""
  hidden: tuple = (128, 128)

  @nn.compact
  def __call__(self, x):
    x = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      x = nn.relu(nn.Dense(width)(x))
    return nn.Dense(1)(x)[:, 0]


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple:
  """Wilson's score interval for a binomial proportion (95% for the default z)."""
  if trials <= 0:
    raise ValueError('wilson_interval needs at least one trial.')
  p = successes / trials
  denominator = 1.0 + z * z / trials
  centre = (p + z * z / (2 * trials)) / denominator
  half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
  return max(0.0, centre - half), min(1.0, centre + half)


def detectability(real, fake, *, train_fraction: float = 0.5, num_steps: int = 1000,
                  batch_size: int = 256, learning_rate: float = 1e-3,
                  hidden: tuple = (128, 128), seed: int = 0) -> Detectability:
  """Trains a fresh detector on part of `real` vs `fake` and tests it on the rest.

  Args:
    real, fake: arrays with the same per-example shape (samples or features). The larger
      set is subsampled so both classes are equally many; inputs are standardised with
      the training part's mean and standard deviation.
    train_fraction: share of each class used for training; the rest is the test set.
    num_steps, batch_size, learning_rate, hidden: the detector's Adam training.
    seed: seeds the split, the initialisation and the minibatches.
  Returns:
    Detectability(accuracy, ci_low, ci_high, num_test).
  """
  real = np.asarray(real, np.float32)
  fake = np.asarray(fake, np.float32)
  if real.shape[1:] != fake.shape[1:]:
    raise ValueError(f'detectability: real examples have shape {real.shape[1:]} but '
                     f'generated ones {fake.shape[1:]}.')
  rng = np.random.default_rng(seed)
  count = min(len(real), len(fake))
  num_train = int(round(count * train_fraction))
  if num_train < 1 or count - num_train < 1:
    raise ValueError(f'detectability needs examples on both sides of the split; got {count} '
                     f'per class with train_fraction={train_fraction}.')
  real = real[rng.permutation(len(real))[:count]]
  fake = fake[rng.permutation(len(fake))[:count]]
  x_train = np.concatenate([real[:num_train], fake[:num_train]])
  y_train = np.concatenate([np.ones(num_train), np.zeros(num_train)]).astype(np.float32)
  x_test = np.concatenate([real[num_train:], fake[num_train:]])
  y_test = np.concatenate([np.ones(count - num_train), np.zeros(count - num_train)])
  # Standardising with training statistics only keeps the test set unseen.
  mean = x_train.mean(axis=0)
  std = x_train.std(axis=0) + 1e-6
  x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

  model = _Detector(hidden=tuple(hidden))
  tx = optax.adam(learning_rate)
  batch_size = min(batch_size, len(x_train))

  @jax.jit
  def train(key, x, y):
    init_key, batch_key = jax.random.split(key)
    params = model.init(init_key, x[:1])
    opt_state = tx.init(params)

    def step(carry, key):
      params, opt_state = carry
      index = jax.random.choice(key, x.shape[0], (batch_size,), replace=False)

      def loss_fn(p):
        logits = model.apply(p, x[index])
        return optax.sigmoid_binary_cross_entropy(logits, y[index]).mean()

      grads = jax.grad(loss_fn)(params)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, opt_state),
                                  jax.random.split(batch_key, num_steps))
    return params

  params = train(jax.random.PRNGKey(seed), jnp.asarray(x_train), jnp.asarray(y_train))
  predictions = np.asarray(jax.jit(model.apply)(params, jnp.asarray(x_test))) > 0
  correct = int(np.sum(predictions == (y_test > 0.5)))
  low, high = wilson_interval(correct, len(y_test))
  return Detectability(accuracy=correct / len(y_test), ci_low=low, ci_high=high,
                       num_test=len(y_test))
