"""Synthetic data drawn inside the compiled step, so that a 2-D study never waits on the host.

The Gaussian mixtures (`ring`, `grid`) with `fresh_samples` have no data set to read:
every batch is a new draw. With `data.draw_on_device` it is made on device: drawing it with `jax.random` inside the jitted step removes
the host pipeline and the host-to-device copy from every step, which is what lets many
steps run in one call (`config.steps_per_call`). The draw is a pure function of
(key, step), so resumed runs and K-steps-per-call runs see the same data as single steps.
"""

from typing import Callable

import jax
import jax.numpy as jnp

from gan_jax.data import sources


def make_device_sampler(data_config) -> Callable[[jax.Array, int], dict] | None:
  """`sample(key, n) -> {'x': (n, 2) points, 'y': (n,) modes}` when `data.draw_on_device`.

  None otherwise. The mode of each point is its label, as in the host-side source.

  Only fresh-sample mixtures can be drawn on device; a fixed sampled set (`num_examples`)
  is a finite data set and goes through the host pipeline.
  """
  if not data_config.draw_on_device:
    return None
  if data_config.name not in ('ring', 'grid') or not data_config.fresh_samples:
    raise ValueError(f'config.data.draw_on_device=True needs a ring or grid source with '
                     f'fresh_samples=True; got data.name={data_config.name!r}, '
                     f'fresh_samples={data_config.fresh_samples}.')
  means = jnp.asarray(sources.mixture_means(data_config), jnp.float32)
  std = float(data_config.std)

  def sample(key: jax.Array, n: int) -> dict:
    mode_key, noise_key = jax.random.split(key)
    modes = jax.random.randint(mode_key, (n,), 0, means.shape[0])
    points = means[modes] + std * jax.random.normal(noise_key, (n, means.shape[1]), jnp.float32)
    return {'x': points, 'y': modes.astype(jnp.int32)}

  return sample
