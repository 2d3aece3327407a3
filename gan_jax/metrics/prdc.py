"""Precision and recall (Kynkaanniemi et al. 2019) and density and coverage (Naeem et al. 2020).

All four compare k-nearest-neighbour balls in feature space, with the definitions of the
reference `prdc` package (clovaai/generative-evaluation-prdc):
  - the radius of a point is the distance to its k-th nearest neighbour in its own set,
    not counting itself (the (k+1)-th smallest distance, the point itself being the
    first);
  - precision: fraction of fake points inside at least one real ball;
  - recall: fraction of real points inside at least one fake ball;
  - density: number of real balls containing a fake point, averaged over fakes, over k;
  - coverage: fraction of real balls that contain at least one fake point;
where "inside" is a strict `distance < radius`, as in the reference.

Distances run in JAX, a block of `block_size` rows at a time against the whole other set,
so memory holds (block_size x N) distances and never the full N x M matrix, let alone
N x M x D differences. They are squared Euclidean distances from the expansion
|x|^2 + |y|^2 - 2 x.y in float32 (matmuls at HIGHEST precision), after both sets are
shifted by the real mean, which keeps the norms, and so the cancellation, small. Balls are
compared through squared distances, which orders points exactly as distances do.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics.stats import as_features


def _squared_distances(x: jax.Array, y: jax.Array) -> jax.Array:
  """(n, m) squared Euclidean distances between the rows of x and y."""
  # HIGHEST: the default float32 matmul of GPUs may be TF32, too coarse to rank neighbours.
  dots = jnp.dot(x, y.T, precision=jax.lax.Precision.HIGHEST)
  squared = jnp.sum(x * x, axis=1)[:, None] + jnp.sum(y * y, axis=1)[None, :] - 2.0 * dots
  return jnp.maximum(squared, 0.0)  # Rounding can push a zero distance slightly negative.


@functools.partial(jax.jit, static_argnames='k')
def _kth_smallest(block: jax.Array, points: jax.Array, k: int) -> jax.Array:
  """Squared distance from each row of `block` to its (k+1)-th nearest row of `points`."""
  # k passes that each knock out one row minimum, then a final minimum: exact (ties are
  # removed one at a time) and, for the small k used here, much faster on a CPU than
  # `lax.top_k`, which XLA:CPU lowers to a sort of every row
  # (docs/performance.md#k-nn-radii-by-repeated-minima).
  distances = _squared_distances(block, points)
  rows = jnp.arange(distances.shape[0])
  for _ in range(k):
    distances = distances.at[rows, jnp.argmin(distances, axis=1)].set(jnp.inf)
  return jnp.min(distances, axis=1)


def _radii(points: jax.Array, k: int, block_size: int) -> jax.Array:
  """Squared k-NN radii of `points` within their own set, the point itself not counted."""
  return jnp.concatenate([_kth_smallest(points[i:i + block_size], points, k)
                          for i in range(0, points.shape[0], block_size)])


@jax.jit
def _cross_block(real, real_radii, fake, fake_radii):
  """Ball memberships between a block of real rows and every fake row."""
  d = _squared_distances(real, fake)  # (block, M)
  in_real_ball = d < real_radii[:, None]
  return (jnp.sum(in_real_ball, axis=0),  # Per fake: real balls containing it.
          jnp.any(d < fake_radii[None, :], axis=1),  # Per real: inside some fake ball.
          jnp.any(in_real_ball, axis=1))  # Per real: its ball holds some fake.


def prdc(real_features, fake_features, k: int = 5, block_size: int = 1024) -> dict[str, float]:
  """Precision, recall, density and coverage with one neighbourhood size `k`.

  Args:
    real_features: (N, D) NumPy or JAX array, or an iterable of batches (concatenated).
    fake_features: (M, D), likewise.
    k: the nearest neighbour whose distance is a point's radius; each set needs > k rows.
    block_size: rows of distances computed at once (memory is block_size x max(N, M)).

  Returns:
    {'precision', 'recall', 'density', 'coverage'} as Python floats.
  """
  real = as_features(real_features, 'real_features').astype(np.float64)
  fake = as_features(fake_features, 'fake_features').astype(np.float64)
  if real.shape[1] != fake.shape[1]:
    raise ValueError(f'prdc: real and fake features have {real.shape[1]} and '
                     f'{fake.shape[1]} dimensions.')
  if k < 1 or min(real.shape[0], fake.shape[0]) <= k:
    raise ValueError(f'prdc: k={k} needs k >= 1 and more than k points in each set; '
                     f'got {real.shape[0]} real and {fake.shape[0]} fake.')
  shift = real.mean(axis=0)
  real = jnp.asarray(real - shift, jnp.float32)
  fake = jnp.asarray(fake - shift, jnp.float32)
  real_radii = _radii(real, k, block_size)
  fake_radii = _radii(fake, k, block_size)

  balls_per_fake = np.zeros(fake.shape[0], np.int64)
  real_in_fake_ball, real_ball_covered = [], []
  for i in range(0, real.shape[0], block_size):
    counts, recalled, covered = _cross_block(real[i:i + block_size],
                                             real_radii[i:i + block_size], fake, fake_radii)
    balls_per_fake += np.asarray(counts)
    real_in_fake_ball.append(np.asarray(recalled))
    real_ball_covered.append(np.asarray(covered))
  return {
      'precision': float(np.mean(balls_per_fake > 0)),
      'recall': float(np.mean(np.concatenate(real_in_fake_ball))),
      'density': float(np.mean(balls_per_fake) / k),
      'coverage': float(np.mean(np.concatenate(real_ball_covered))),
  }


def precision_recall(real_features, fake_features, k: int = 3,
                     block_size: int = 1024) -> dict[str, float]:
  """Improved precision and recall (Kynkaanniemi et al. 2019; their k=3).

  Returns:
    {'precision', 'recall'} as Python floats; see `prdc` for the arguments.
  """
  result = prdc(real_features, fake_features, k=k, block_size=block_size)
  return {'precision': result['precision'], 'recall': result['recall']}


def density_coverage(real_features, fake_features, k: int = 5,
                     block_size: int = 1024) -> dict[str, float]:
  """Density and coverage (Naeem et al. 2020; their k=5).

  Returns:
    {'density', 'coverage'} as Python floats; see `prdc` for the arguments.
  """
  result = prdc(real_features, fake_features, k=k, block_size=block_size)
  return {'density': result['density'], 'coverage': result['coverage']}
