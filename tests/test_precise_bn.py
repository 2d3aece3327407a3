"""models/precise_bn.py: BatchNorm statistics of fixed weights, against NumPy by hand."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import layers
from gan_jax.models import precise_bn


class _TwoBatchNorms(nn.Module):
  """Dense -> BatchNorm -> ReLU -> Dense -> BatchNorm, the momentum of the library's."""

  @nn.compact
  def __call__(self, x, train: bool):
    norm = lambda: nn.BatchNorm(use_running_average=not train,
                                momentum=layers.BATCH_NORM_MOMENTUM)
    h = nn.relu(norm()(nn.Dense(4)(x)))
    return norm()(nn.Dense(3)(h))


class _SpectralNormed(nn.Module):
  @nn.compact
  def __call__(self, x, train: bool):
    h = nn.SpectralNorm(nn.Dense(4), collection_name='batch_stats')(x, update_stats=train)
    return nn.BatchNorm(use_running_average=not train, momentum=layers.BATCH_NORM_MOMENTUM)(h)


def _passes(module, variables):
  def apply_fn(stats, batch):
    _, updates = module.apply({'params': variables['params'], 'batch_stats': stats}, batch,
                              train=True, mutable=['batch_stats'])
    return updates['batch_stats']
  return apply_fn


def test_statistics_of_the_current_weights_by_hand():
  module = _TwoBatchNorms()
  rng = np.random.default_rng(0)
  batches = [jnp.asarray(rng.normal(size=(16, 5)) * (1 + i), jnp.float32) for i in range(3)]
  variables = module.init(jax.random.PRNGKey(0), batches[0], train=False)
  # Running statistics far from the truth: the result must not depend on them.
  stale = jax.tree.map(lambda s: s + 7.0, variables['batch_stats'])
  got = precise_bn.population_statistics(_passes(module, variables), stale, batches)

  p = jax.tree.map(np.asarray, variables['params'])
  eps = 1e-5  # flax's BatchNorm default.
  means, variances = {0: [], 1: []}, {0: [], 1: []}
  for x in batches:
    h = np.asarray(x, np.float64) @ p['Dense_0']['kernel'] + p['Dense_0']['bias']
    means[0].append(h.mean(0))
    variances[0].append(h.var(0))
    # Train mode: the next layer sees h normalised by this batch's own statistics.
    h = (h - h.mean(0)) / np.sqrt(h.var(0) + eps) * p['BatchNorm_0']['scale'] \
        + p['BatchNorm_0']['bias']
    h = np.maximum(h, 0) @ p['Dense_1']['kernel'] + p['Dense_1']['bias']
    means[1].append(h.mean(0))
    variances[1].append(h.var(0))
  for k in (0, 1):
    np.testing.assert_allclose(got[f'BatchNorm_{k}']['mean'], np.mean(means[k], 0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[f'BatchNorm_{k}']['var'], np.mean(variances[k], 0),
                               rtol=1e-4, atol=1e-5)


def test_spectral_norm_vectors_are_kept():
  module = _SpectralNormed()
  x = jnp.asarray(np.random.default_rng(1).normal(size=(8, 5)), jnp.float32)
  variables = module.init(jax.random.PRNGKey(0), x, train=False)
  got = precise_bn.population_statistics(_passes(module, variables), variables['batch_stats'],
                                         [x, 2 * x])
  kept = [(path, leaf) for path, leaf in jax.tree_util.tree_leaves_with_path(got)
          if path[-1].key not in ('mean', 'var')]
  assert kept, 'the module has no spectral-norm entries to check'
  before = dict(jax.tree_util.tree_leaves_with_path(variables['batch_stats']))
  for path, leaf in kept:
    np.testing.assert_array_equal(leaf, before[path])
  # The BatchNorm statistics did change: the two batches' mean of means.
  assert not np.allclose(got['BatchNorm_0']['mean'],
                         variables['batch_stats']['BatchNorm_0']['mean'])


def test_no_batches_is_an_error():
  with pytest.raises(ValueError, match='at least one batch'):
    precise_bn.population_statistics(lambda s, b: s, {}, [])
