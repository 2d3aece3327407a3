"""The compiled step: sharding equivalence, determinism, n_critic, EMA, sampling."""

import jax
import numpy as np
import pytest

from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from tiny_configs import tiny_config


def _batch(config, shape, seed=0):
  rng = np.random.default_rng(seed)
  n = config.batch_size * config.loss.n_critic
  return {'x': rng.uniform(-1, 1, (n, *shape)).astype(np.float32),
          'y': np.zeros((n,), np.int32)}


def _one_step(config, shape, mesh, batch):
  state = state_lib.create_state(config, shape, mesh)
  train_step = step_lib.make_train_step(config, mesh, shape)
  state, metrics = train_step(state, parallel.global_batch(batch, mesh))
  return jax.device_get(state), jax.device_get(metrics)


@pytest.mark.parametrize('fields, shape', [
    ({'model.name': 'dcgan'}, (8, 8, 1)),
    ({'model.name': 'dcgan', 'model.spectral_norm': True, 'loss.name': 'hinge'}, (8, 8, 1)),
    ({'model.name': 'mlp', 'loss.name': 'wasserstein', 'loss.gradient_penalty': 10.0,
      'loss.n_critic': 2}, (2,)),
    ({'model.name': 'mlp', 'loss.r1': 1.0, 'loss.name': 'least_squares'}, (2,)),
])
def test_eight_devices_match_one(fields, shape):
  assert jax.device_count() == 8
  config = tiny_config(**fields)
  batch = _batch(config, shape)
  state_8, metrics_8 = _one_step(config, shape, parallel.make_mesh(), batch)
  state_1, metrics_1 = _one_step(config, shape, parallel.make_mesh(jax.devices()[:1]), batch)
  for a, b in zip(jax.tree.leaves(state_8), jax.tree.leaves(state_1)):
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
  for name in metrics_1:
    np.testing.assert_allclose(metrics_8[name], metrics_1[name], rtol=2e-5, atol=2e-6)


def test_step_is_deterministic_and_moves_all_players():
  config = tiny_config()
  shape = (8, 8, 1)
  batch = _batch(config, shape)
  mesh = parallel.make_mesh()
  initial = jax.device_get(state_lib.create_state(config, shape, mesh))
  first, _ = _one_step(config, shape, mesh, batch)
  second, _ = _one_step(config, shape, mesh, batch)
  for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second)):
    np.testing.assert_array_equal(a, b)
  assert int(first.step) == 1
  for part, player in (('params', 'g'), ('params', 'd'), ('ema', 'g')):
    moved = [not np.array_equal(a, b) for a, b in
             zip(jax.tree.leaves(getattr(initial, part)[player]),
                 jax.tree.leaves(getattr(first, part)[player]))]
    assert any(moved), (part, player)


def test_ema_follows_its_formula():
  config = tiny_config(**{'model.name': 'mlp', 'optim.ema_decay': 0.9})
  shape = (2,)
  mesh = parallel.make_mesh()
  initial = jax.device_get(state_lib.create_state(config, shape, mesh))
  after, _ = _one_step(config, shape, mesh, _batch(config, shape))
  decay = min(0.9, 1.0 / 10.0)  # the ramp at step 0
  for e0, p1, e1 in zip(jax.tree.leaves(initial.ema['g']), jax.tree.leaves(after.params['g']),
                        jax.tree.leaves(after.ema['g'])):
    np.testing.assert_allclose(e1, decay * e0 + (1 - decay) * p1, rtol=1e-6, atol=1e-7)


def test_n_critic_runs_that_many_discriminator_updates():
  shape = (2,)
  config = tiny_config(**{'model.name': 'mlp', 'loss.n_critic': 3})
  state, _ = _one_step(config, shape, parallel.make_mesh(), _batch(config, shape))
  # Adam and its schedule each count their updates in a scalar.
  d_counts = [leaf for leaf in jax.tree.leaves(state.opt['d']) if np.ndim(leaf) == 0]
  g_counts = [leaf for leaf in jax.tree.leaves(state.opt['g']) if np.ndim(leaf) == 0]
  assert d_counts and all(int(c) == 3 for c in d_counts)
  assert g_counts and all(int(c) == 1 for c in g_counts)


def test_indivisible_batch_is_an_error():
  config = tiny_config(batch_size=12)
  with pytest.raises(ValueError, match='divisible by the number of devices'):
    step_lib.make_train_step(config, parallel.make_mesh(), (2,))


def test_sample_fn_uses_ema_and_data_space():
  config = tiny_config()
  shape = (8, 8, 1)
  mesh = parallel.make_mesh()
  state, _ = _one_step(config, shape, mesh, _batch(config, shape))
  z = jax.random.normal(jax.random.PRNGKey(0), (5, config.model.latent_dim))
  ema = np.asarray(step_lib.make_sample_fn(config, shape)(state, z))
  raw = np.asarray(step_lib.make_sample_fn(config, shape, use_ema=False)(state, z))
  assert ema.shape == (5, 8, 8, 1) and np.all(np.abs(ema) <= 1)
  assert not np.allclose(ema, raw)
