"""Streaming mean and covariance of features, and the input handling the metrics share.

`GaussianStats` accumulates the count, mean and centred sum of outer products of a
stream of feature batches with Chan et al.'s parallel update, in float64 on the host.
Float64 because the Frechet distance subtracts traces of covariances that are large next
to the distance itself: sums of x and x x^T in float32 over 10k x 2048 features lose
several digits, which is one of the ways published FIDs drift. Centring each batch on
its own mean before taking outer products, and merging batches through the difference
of their means, keeps the sums free of the cancellation of E[x x^T] - E[x] E[x]^T.

Every metric takes features as one (N, D) NumPy or JAX array or as an iterable of
(B, D) batches; `as_features` turns either into one array.
"""

from typing import Any

import numpy as np

Features = Any  # An (N, D) array (NumPy or JAX) or an iterable of (B, D) arrays.


def _is_array(x) -> bool:
  # NumPy and JAX arrays (and anything array-like with a shape) count as one array;
  # lists, tuples, generators and other iterables count as a stream of batches.
  return hasattr(x, 'shape') and hasattr(x, 'dtype')


def _check_batch(batch: np.ndarray, what: str) -> np.ndarray:
  if batch.ndim != 2:
    raise ValueError(f'{what} must be 2-D (num_samples, num_features); got shape '
                     f'{batch.shape}.')
  return batch


def as_features(features: Features, what: str = 'features') -> np.ndarray:
  """`features` as one (N, D) NumPy array: an array as is, an iterable of batches concatenated."""
  if _is_array(features):
    return _check_batch(np.asarray(features), what)
  batches = [_check_batch(np.asarray(b), f'each batch of {what}') for b in features]
  if not batches:
    raise ValueError(f'{what}: the iterable of batches is empty.')
  return np.concatenate(batches, axis=0)


class GaussianStats:
  """Running count, mean and covariance of feature vectors, fed batch by batch.

  `update(batch)` folds in a (B, D) batch; `mean` and `cov` (unbiased, N - 1, as
  `np.cov`) are those of every row seen so far and match the one-shot NumPy values to
  float64 rounding. `merge` combines statistics accumulated separately (for example by
  different hosts) exactly as if one object had seen all the batches.
  """

  def __init__(self):
    self.count = 0
    self._mean = None  # (D,) float64.
    self._scatter = None  # (D, D) float64: sum over rows of (x - mean)(x - mean)^T.

  @classmethod
  def from_features(cls, features: Features) -> 'GaussianStats':
    """Statistics of an (N, D) array or of every batch of an iterable of batches."""
    stats = cls()
    for batch in ([features] if _is_array(features) else features):
      stats.update(batch)
    return stats

  def update(self, batch) -> 'GaussianStats':
    """Folds the rows of the (B, D) `batch` into the statistics; returns `self`."""
    x = _check_batch(np.asarray(batch, dtype=np.float64), 'a GaussianStats batch')
    if x.shape[0] == 0:
      return self
    mean = x.mean(axis=0)
    centred = x - mean
    self._combine(x.shape[0], mean, centred.T @ centred)
    return self

  def merge(self, other: 'GaussianStats') -> 'GaussianStats':
    """New statistics of the rows of `self` and of `other` together."""
    merged = GaussianStats()
    for part in (self, other):
      if part.count:
        merged._combine(part.count, part._mean, part._scatter)  # pylint: disable=protected-access
    return merged

  def _combine(self, count: int, mean: np.ndarray, scatter: np.ndarray):
    """Chan et al.'s pairwise update of (count, mean, scatter) by another group's."""
    if self.count == 0:
      self.count, self._mean, self._scatter = count, mean.copy(), scatter.copy()
      return
    if mean.shape != self._mean.shape:
      raise ValueError(f'GaussianStats: a batch of {mean.shape[0]} features does not match '
                       f'the {self._mean.shape[0]} seen before.')
    total = self.count + count
    delta = mean - self._mean
    self._mean = self._mean + delta * (count / total)
    self._scatter = self._scatter + scatter + np.outer(delta, delta) * (self.count * count / total)
    self.count = total

  @property
  def dim(self) -> int:
    """The number of features D (0 before the first batch)."""
    return 0 if self._mean is None else self._mean.shape[0]

  @property
  def mean(self) -> np.ndarray:
    """The (D,) float64 mean of the rows seen so far."""
    if self.count == 0:
      raise ValueError('GaussianStats.mean: no rows seen yet.')
    return self._mean.copy()

  @property
  def cov(self) -> np.ndarray:
    """The (D, D) float64 unbiased covariance (divided by N - 1) of the rows seen so far."""
    if self.count < 2:
      raise ValueError(f'GaussianStats.cov needs at least 2 rows; seen {self.count}.')
    return self._scatter / (self.count - 1)


def as_stats(features) -> GaussianStats:
  """`features` as `GaussianStats`: statistics as they are, arrays and batches accumulated."""
  if isinstance(features, GaussianStats):
    return features
  return GaussianStats.from_features(features)
