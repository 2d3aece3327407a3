"""Kernel Inception Distance (Binkowski et al. 2018) between two sets of features.

KID is the unbiased estimate of the squared maximum mean discrepancy with the cubic
polynomial kernel k(x, y) = (x . y / D + 1)^3, averaged over random subsets, as
torch-fidelity computes it: for each of `num_subsets` subsets, `subset_size` rows are
drawn without replacement from each set with `np.random.RandomState(seed).choice`, the
same draws in the same order as torch-fidelity's (so equal features and seeds give equal
subsets; torch-fidelity's default seed is 2020, this function's 0). The reported numbers
are the mean and the (population, ddof=0) standard deviation of the subset estimates.

When a set has fewer rows than `subset_size`, the subsets use the size of the smaller
set (as clean-fid does; torch-fidelity raises an error instead), so KID of small sample
sets is still defined, if noisier.

The kernel matrices run in JAX, one jitted program for all subsets; each returns row sums
of its m x m blocks, and the final sums, the estimate and its mean and standard deviation
are taken in float64 on the host. The estimate is a small difference of large kernel
means, and a float32 sum over a million kernel entries would carry an error of the size
of the KID itself.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics.stats import as_features


def polynomial_kernel(x: jax.Array, y: jax.Array) -> jax.Array:
  """The (n, m) KID kernel (x . y / D + 1)^3 between the rows of x (n, D) and y (m, D)."""
  # HIGHEST: on GPUs the default float32 matmul may run in TF32 (10-bit mantissa), far
  # too coarse for a metric that subtracts kernel means.
  dots = jnp.dot(x, y.T, precision=jax.lax.Precision.HIGHEST)
  return (dots / x.shape[1] + 1.0) ** 3


@jax.jit
def _subset_row_sums(features_a, features_b, indices_a, indices_b):
  """(S, 3, m) row sums of K_aa and K_bb (off-diagonal) and of K_ab, one slice a subset."""

  def one_subset(subset_indices):
    x = features_a[subset_indices[0]]
    y = features_b[subset_indices[1]]
    off_diagonal = 1.0 - jnp.eye(x.shape[0], dtype=x.dtype)
    return jnp.stack([
        jnp.sum(polynomial_kernel(x, x) * off_diagonal, axis=1),
        jnp.sum(polynomial_kernel(y, y) * off_diagonal, axis=1),
        jnp.sum(polynomial_kernel(x, y), axis=1),
    ])

  # lax.map runs the subsets one after another, so memory holds one subset's kernels.
  return jax.lax.map(one_subset, jnp.stack([indices_a, indices_b], axis=1))


def kid(features_a, features_b, num_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
  """Kernel Inception Distance: mean and standard deviation of subset MMD^2 estimates.

  Args:
    features_a, features_b: (N, D) and (M, D) NumPy or JAX arrays, or iterables of
      batches (concatenated).
    num_subsets: how many random subsets to average over (torch-fidelity's 100).
    subset_size: rows per subset from each set (torch-fidelity's 1,000); clamped to
      min(N, M) when a set is smaller.
    seed: seed of the `np.random.RandomState` that draws the subsets.

  Returns:
    (mean, std) as Python floats: the average of the unbiased MMD^2 estimates and their
    standard deviation (ddof=0) over subsets.
  """
  a = as_features(features_a, 'kid features_a')
  b = as_features(features_b, 'kid features_b')
  if a.shape[1] != b.shape[1]:
    raise ValueError(f'kid: features of {a.shape[1]} and {b.shape[1]} dimensions.')
  if num_subsets < 1:
    raise ValueError(f'kid: num_subsets={num_subsets} must be >= 1.')
  m = min(subset_size, a.shape[0], b.shape[0])
  if m < 2:
    raise ValueError(f'kid: the unbiased estimate needs subsets of >= 2 rows; got {m} '
                     f'(subset_size={subset_size}, sets of {a.shape[0]} and {b.shape[0]}).')
  rng = np.random.RandomState(seed)
  indices_a = np.empty((num_subsets, m), np.int32)
  indices_b = np.empty((num_subsets, m), np.int32)
  for s in range(num_subsets):  # Interleaved draws, in torch-fidelity's order.
    indices_a[s] = rng.choice(a.shape[0], m, replace=False)
    indices_b[s] = rng.choice(b.shape[0], m, replace=False)
  row_sums = _subset_row_sums(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32),
                              jnp.asarray(indices_a), jnp.asarray(indices_b))
  sum_aa, sum_bb, sum_ab = np.asarray(row_sums, np.float64).sum(axis=2).T
  mmd2 = (sum_aa + sum_bb) / (m * (m - 1)) - 2.0 * sum_ab / (m * m)
  return float(np.mean(mmd2)), float(np.std(mmd2))
