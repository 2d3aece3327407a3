"""BatchNorm statistics of the current weights (PreciseBN), for networks read in eval mode.

A BatchNorm layer's running statistics are a moving average (momentum
`layers.BATCH_NORM_MOMENTUM`, about the last ten updates) of batch statistics, each taken
under the weights of its own step. When the weights move fast, as a GAN discriminator's
do, that average lags the network it is used with, and eval mode normalises by the
statistics of older weights. PreciseBN (Wu & Johnson 2021, "Rethinking 'Batch' in
BatchNorm", section 3) recomputes them for fixed weights over a number of batches.

  population_statistics(apply_fn, batch_stats, batches) -> batch_stats
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from gan_jax.models import layers

# The leaves of the 'batch_stats' collection that flax's BatchNorm keeps; the others
# (spectral norm's `u` and `sigma`) are not statistics of a batch.
_STATISTICS = ('mean', 'var')


def _is_statistic(path) -> bool:
  return getattr(path[-1], 'key', None) in _STATISTICS


def population_statistics(apply_fn: Callable, batch_stats, batches: Sequence):
  """`batch_stats` with every BatchNorm mean and variance replaced by its batches' own
  statistics under the current weights, averaged over `batches` (equal weights); other
  entries (spectral norm's vectors) are kept as they are.

  `apply_fn(batch_stats, batch) -> new batch_stats` is one train-mode pass of the
  network, which mixes the batch's statistics into the running ones as
  m * running + (1 - m) * batch with m = `layers.BATCH_NORM_MOMENTUM`. Each layer is
  measured in train mode, its inputs normalised by the batch's own statistics in the
  layers before it, as in training. The variance is the average of the batches' own
  (flax's biased) variances; fvcore's PreciseBN averages PyTorch's unbiased ones, which
  differ by a factor B / (B - 1) for batches of B.
  """
  if not batches:
    raise ValueError('population_statistics needs at least one batch.')
  # From zero running statistics one pass leaves (1 - m) times the batch's own.
  zeroed = jax.tree_util.tree_map_with_path(
      lambda path, leaf: jnp.zeros_like(leaf) if _is_statistic(path) else leaf, batch_stats)
  scale = 1.0 / ((1.0 - layers.BATCH_NORM_MOMENTUM) * len(batches))
  # One pass in a scan over the stacked batches: traced and compiled once, not per batch.
  stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *batches)

  def add_batch(total, batch):
    return jax.tree.map(jnp.add, total, apply_fn(zeroed, batch)), None

  total, _ = jax.lax.scan(add_batch, jax.tree.map(jnp.zeros_like, batch_stats), stacked)
  return jax.tree_util.tree_map_with_path(
      lambda path, old, summed: (summed * scale).astype(old.dtype) if _is_statistic(path)
      else old, batch_stats, total)
