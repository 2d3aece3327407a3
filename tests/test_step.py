"""The compiled step: sharding equivalence, determinism, n_critic, EMA, sampling."""

import jax
import numpy as np
import pytest

from gan_jax import games
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
@pytest.mark.slow
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
  config = tiny_config()  # DCGAN with BatchNorm in both players, Adam, EMA on.
  shape = (8, 8, 1)
  batch = _batch(config, shape)
  mesh = parallel.make_mesh()
  initial = jax.device_get(state_lib.create_state(config, shape, mesh))
  first, _ = _one_step(config, shape, mesh, batch)
  second, _ = _one_step(config, shape, mesh, batch)
  for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second)):
    np.testing.assert_array_equal(a, b)
  assert int(first.step) == 1
  # Every element of every leaf moves: each weight gets a non-zero gradient (no dead
  # units, no bias cancelled by BatchNorm: those layers have none), every BatchNorm's
  # running statistics see a batch, and the EMA takes 90% of the new weights at step 0.
  for part, player in (('params', 'g'), ('params', 'd'), ('batch_stats', 'g'),
                       ('batch_stats', 'd'), ('ema', 'g')):
    before = getattr(initial, part)[player]
    after = getattr(first, part)[player]
    assert jax.tree.structure(before) == jax.tree.structure(after)
    assert jax.tree.leaves(before), (part, player)
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(before),
                            jax.tree.leaves(after)):
      assert np.all(a != b), f'{part}[{player}]{jax.tree_util.keystr(path)} did not all move'
  # Adam's first update of each weight is lr * g / (|g| + 1e-8): at most lr (plus the
  # weights' float32 rounding), and lr itself wherever |g| >> 1e-8.
  for player, lr in (('g', config.optim.g_lr), ('d', config.optim.d_lr)):
    moves = np.concatenate([np.abs(np.ravel(b) - np.ravel(a)) for a, b in zip(
        jax.tree.leaves(initial.params[player]), jax.tree.leaves(first.params[player]))])
    assert moves.max() <= lr * (1 + 1e-3), player
    assert np.median(moves) == pytest.approx(lr, rel=1e-3), player


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


@pytest.mark.slow
def test_sample_fn_uses_ema_and_data_space():
  # ema_decay 0.999: min(0.999, (1 + 0) / (10 + 0)) = 0.1 at step 0. A large rate, so
  # that raw and EMA weights, and their samples, differ far beyond rounding.
  config = tiny_config(**{'optim.g_lr': 0.05, 'optim.d_lr': 0.05})
  shape = (8, 8, 1)
  mesh = parallel.make_mesh()
  initial = jax.device_get(state_lib.create_state(config, shape, mesh))
  state, _ = _one_step(config, shape, mesh, _batch(config, shape))
  z = jax.random.normal(jax.random.PRNGKey(0), (5, config.model.latent_dim))
  ema = np.asarray(step_lib.make_sample_fn(config, shape)(state, z))
  raw = np.asarray(step_lib.make_sample_fn(config, shape, use_ema=False)(state, z))
  assert ema.shape == raw.shape == (5, 8, 8, 1)
  # The samples are the generator in eval mode (running BatchNorm statistics) at the EMA
  # weights, which after one step are 0.1 * initial + 0.9 * new weights (the EMA starts
  # as a copy of the initial weights), computed here from that formula.
  generator = games.make_game(config, shape).modules['g']
  expected_ema = jax.tree.map(lambda w0, w1: 0.1 * w0 + 0.9 * w1,
                              initial.params['g'], state.params['g'])

  def generate(params):
    variables = {'params': params, 'batch_stats': state.batch_stats['g']}
    return np.asarray(generator.apply(variables, z, train=False))

  np.testing.assert_allclose(ema, generate(expected_ema), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(raw, generate(state.params['g']), rtol=1e-5, atol=1e-6)
  # The two differ a thousand times more than the tolerance above (0.03 here): 10% of
  # the step's change of every weight.
  assert np.abs(ema - raw).max() > 1e-3
  # Data space: DCGAN's tanh output, images in [-1, 1].
  assert np.all(np.abs(ema) <= 1) and np.all(np.abs(raw) <= 1)
