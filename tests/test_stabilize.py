"""Remedies against mode collapse: packing, unrolling, clipping, DiffAugment in the step,
minibatch std in the step, and K steps per call equal to K single calls."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import games
from gan_jax import models
from gan_jax.stabilize import packing
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax import train
from gan_jax.core import validation
from tiny_configs import tiny_config


def _ring(**fields):
  fields = {'data.name': 'ring', 'data.fresh_samples': True, 'data.draw_on_device': True,
            'model.name': 'mlp',
            'optim.ema_decay': 0.0, **fields}
  return tiny_config(**fields)


def _tree_max_diff(a, b) -> float:
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_pack_points_and_images_concatenate_consecutive_members():
  rng = np.random.default_rng(0)
  points = rng.normal(size=(6, 2)).astype(np.float32)
  packed = np.asarray(packing.pack(points, 3))
  np.testing.assert_array_equal(packed, np.stack([np.concatenate(points[0:3]),
                                                  np.concatenate(points[3:6])]))
  images = rng.normal(size=(4, 5, 3, 2)).astype(np.float32)
  packed = np.asarray(packing.pack(images, 2))
  assert packed.shape == (2, 5, 3, 4) == (2, *packing.packed_shape((5, 3, 2), 2))
  np.testing.assert_array_equal(packed[1], np.concatenate([images[2], images[3]], axis=-1))
  with pytest.raises(ValueError, match='config.stabilize.pack=4'):
    packing.pack(points, 4)


def test_packed_discriminator_input_width_and_validation():
  config = _ring(**{'stabilize.pack': 4})
  state = state_lib.init_state(config, (2,), jax.random.PRNGKey(0))
  assert state.params['d']['Dense_0']['kernel'].shape[0] == 8  # 4 points of 2 coordinates.
  with pytest.raises(ValueError, match='stabilize.pack=3 must divide config.batch_size=16'):
    validation.validate_config(_ring(**{'stabilize.pack': 3}))


def _manual_unrolled_generator_loss(config, g_params, d_params, real, z, lr):
  """One SGD look-ahead of D, written out by hand, then the non-saturating G loss."""
  generator, discriminator = models.make_models(config.model, (2,))
  gen = lambda p: generator.apply({'params': p}, z, train=True)
  disc = lambda p, x: discriminator.apply({'params': p}, x, train=True)

  def d_loss(dp, fake):
    # Non-saturating D loss: softplus(-D(real)) + softplus(D(fake)), batch means.
    return jnp.mean(jax.nn.softplus(-disc(dp, real))) + jnp.mean(jax.nn.softplus(disc(dp, fake)))

  fake = gen(g_params)
  d_grads = jax.grad(d_loss)(d_params, fake)
  looked_ahead = jax.tree.map(lambda p, g: p - lr * g, d_params, d_grads)
  return jnp.mean(jax.nn.softplus(-disc(looked_ahead, fake)))


@pytest.mark.slow
def test_unrolling_one_step_equals_manual_look_ahead():
  lr = 0.05
  config = _ring(**{'optim.name': 'sgd', 'optim.d_lr': lr, 'stabilize.unroll_steps': 1})
  state = state_lib.init_state(config, (2,), jax.random.PRNGKey(1))
  real = jax.random.normal(jax.random.PRNGKey(2), (16, 2))
  z = jax.random.normal(jax.random.PRNGKey(3), (16, config.model.latent_dim))
  key = jax.random.PRNGKey(4)

  def library_loss(g_params, unroll_config):
    game = games.make_game(unroll_config, (2,))
    return game.generator_loss(g_params, state, {'x': real, 'z': z}, key,
                               step_lib.make_context(unroll_config))[0]

  manual = lambda g: _manual_unrolled_generator_loss(config, g, state.params['d'], real, z, lr)
  np.testing.assert_allclose(library_loss(state.params['g'], config), manual(state.params['g']),
                             rtol=1e-5)
  grads = jax.grad(library_loss)(state.params['g'], config)
  expected = jax.grad(manual)(state.params['g'])
  assert _tree_max_diff(grads, expected) < 1e-5
  # The look-ahead matters: without it the gradient is a different one.
  plain = jax.grad(library_loss)(state.params['g'], _ring(**{'optim.name': 'sgd'}))
  assert _tree_max_diff(grads, plain) > 1e-4


@pytest.mark.slow
def test_unrolled_adam_step_is_finite():
  config = _ring(**{'stabilize.unroll_steps': 3})
  mesh = parallel.make_mesh(jax.devices()[:1])
  state = state_lib.create_state(config, (2,), mesh)
  train_step = step_lib.make_train_step(config, mesh, (2,))
  for _ in range(3):
    state, metrics = train_step(state, None)
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(state.params['g'])))
  assert np.isfinite(float(metrics['g_loss']))


def test_weight_clipping_bounds_every_discriminator_weight():
  config = _ring(**{'loss.name': 'wasserstein', 'loss.clip_weights': 0.01,
                    'optim.d_lr': 0.5, 'optim.name': 'sgd'})
  mesh = parallel.make_mesh(jax.devices()[:1])
  state = state_lib.create_state(config, (2,), mesh)
  state, _ = step_lib.make_train_step(config, mesh, (2,))(state, None)
  leaves = jax.tree.leaves(jax.device_get(state.params['d']))
  assert max(float(np.max(np.abs(x))) for x in leaves) <= 0.01 + 1e-7
  # The bound is reached: the large step pushed weights to the clipping value.
  assert max(float(np.max(np.abs(x))) for x in leaves) > 0.009


@pytest.mark.slow
def test_diffaugment_and_minibatch_std_change_the_step_on_images():
  shape = (8, 8, 1)
  rng = np.random.default_rng(0)
  batch = {'x': rng.uniform(-1, 1, (16, *shape)).astype(np.float32)}
  mesh = parallel.make_mesh(jax.devices()[:1])
  results = {}
  for name, fields in [('plain', {}),
                       ('mbstd', {'model.minibatch_std_group': 4}),
                       ('mbdisc', {'model.minibatch_kernels': 4}),
                       ('pack', {'stabilize.pack': 2})]:
    config = tiny_config(**{'model.name': 'mlp', **fields})
    state = state_lib.create_state(config, shape, mesh)
    state, metrics = step_lib.make_train_step(config, mesh, shape)(
        state, parallel.global_batch(batch, mesh))
    assert np.isfinite(float(metrics['d_loss'])) and np.isfinite(float(metrics['g_loss']))
    results[name] = float(metrics['d_loss'])
  for name in ('mbstd', 'mbdisc', 'pack'):
    assert results[name] != pytest.approx(results['plain'], abs=1e-6), name


@pytest.mark.slow
def test_diffaugment_views_reals_and_fakes_in_both_updates_with_their_own_keys():
  """DiffAugment must show D augmented reals and augmented fakes, each drawn afresh.

  A plain and an augmented run start from the same weights (augmentation adds none) and
  draw the same z, so any difference in what the step reports comes from the views. D's
  rate is 0, so the generator's update also faces the same D in both runs.
  """
  shape = (8, 8, 1)
  mesh = parallel.make_mesh(jax.devices()[:1])

  augment = {'stabilize.diffaugment': 'color,translation,cutout'}
  configs = {name: tiny_config(**{'model.name': 'mlp', 'optim.d_lr': 0.0, **fields})
             for name, fields in (('plain', {}), ('augment', augment))}
  # One compiled step per config, reused for both batches (the state is an argument).
  steps = {name: step_lib.make_train_step(c, mesh, shape) for name, c in configs.items()}
  initial = state_lib.create_state(configs['plain'], shape, mesh)

  def run(name, batch, zero_generator=False):
    state = jax.tree.map(jnp.copy, initial)  # The step donates its input.
    if zero_generator:
      # An MLP generator with all weights 0 makes tanh(0) = 0: all-zero fakes.
      state = state.replace(params={**state.params, 'g': jax.tree.map(
          jnp.zeros_like, state.params['g'])})
    _, metrics = steps[name](state, parallel.global_batch(batch, mesh))
    return {k: float(v) for k, v in metrics.items()}

  images = {'x': np.random.default_rng(0).uniform(-1, 1, (16, *shape)).astype(np.float32)}
  plain, augmented = run('plain', images), run('augment', images)
  # D's update judges augmented reals and augmented fakes (its metrics are computed
  # before it updates, at the shared initial weights)...
  assert abs(augmented['d_real_logit'] - plain['d_real_logit']) > 1e-4
  assert abs(augmented['d_fake_logit'] - plain['d_fake_logit']) > 1e-4
  # ... and G's update faces D through an augmented view of its fakes.
  assert abs(augmented['g_loss'] - plain['g_loss']) > 1e-4

  # Reals and fakes that are the same images (zeros) must still be viewed differently:
  # one key for both would give D identical inputs, hence identical mean logits.
  zeros = {'x': np.zeros((16, *shape), np.float32)}
  plain = run('plain', zeros, zero_generator=True)
  assert plain['d_real_logit'] == plain['d_fake_logit']  # The set-up: identical inputs.
  augmented = run('augment', zeros, zero_generator=True)
  assert abs(augmented['d_real_logit'] - augmented['d_fake_logit']) > 1e-4


def test_draw_on_device_needs_a_fresh_mixture():
  with pytest.raises(ValueError, match='draw_on_device=True needs a ring or grid'):
    validation.validate_config(_ring(**{'data.name': 'digits'}))


def test_diffaugment_on_points_is_an_error():
  with pytest.raises(ValueError, match='stabilize.diffaugment'):
    games.make_game(_ring(**{'stabilize.diffaugment': 'color'}), (2,))


@pytest.mark.slow
@pytest.mark.parametrize('device_data', [True, False])
def test_k_steps_per_call_equal_k_single_calls(device_data):
  k = 3
  if device_data:
    config, shape = _ring(**{'stabilize.pack': 2, 'loss.n_critic': 2}), (2,)
  else:
    config, shape = tiny_config(**{'model.name': 'mlp'}), (8, 8, 1)
  mesh = parallel.make_mesh()  # 8 devices: the stacked batch is sharded on its 2nd axis.
  rng = np.random.default_rng(0)
  n = config.batch_size * config.loss.n_critic
  batches = [{'x': rng.uniform(-1, 1, (n, *shape)).astype(np.float32)} for _ in range(k)]
  single = step_lib.make_train_step(config, mesh, shape)
  multi = step_lib.make_train_step(config, mesh, shape, steps_per_call=k)

  state = state_lib.create_state(config, shape, mesh)
  losses_single = []
  for batch in batches:
    state, metrics = single(state, None if device_data else parallel.global_batch(batch, mesh))
    losses_single.append(float(metrics['g_loss']))
  state_single = jax.device_get(state)

  state = state_lib.create_state(config, shape, mesh)
  stacked = None if device_data else parallel.global_batch(
      {'x': np.stack([b['x'] for b in batches])}, mesh, stacked=True)
  state, metrics = multi(state, stacked)
  assert metrics['g_loss'].shape == (k,)
  np.testing.assert_allclose(metrics['g_loss'], losses_single, rtol=1e-5)
  assert int(state.step) == k
  assert _tree_max_diff(jax.device_get(state), state_single) < 1e-5


@pytest.mark.slow
def test_training_loop_with_steps_per_call_matches_single_steps(tmp_path):
  def run(steps_per_call, name):
    config = _ring(**{'steps_per_call': steps_per_call, 'log_every_steps': 5,
                      'sample_every_steps': 10, 'checkpoint_every_steps': 10})
    config.num_train_steps = 12  # Events at 5 and 10, and the end at 12.
    state = train.train_and_evaluate(config, str(tmp_path / name))
    with open(tmp_path / name / 'metrics.jsonl', encoding='utf-8') as f:
      logged = [json.loads(line) for line in f]
    return jax.device_get(state), logged

  state_1, logged_1 = run(1, 'single')
  state_4, logged_4 = run(4, 'multi')
  assert int(state_1.step) == int(state_4.step) == 12
  assert _tree_max_diff(state_1, state_4) < 1e-5  # Every leaf: weights, Adam, step, key.
  # K = 4 does not divide 5 or 10: the loop must still log and checkpoint at those steps,
  # the same values as one step per call.
  assert [l['step'] for l in logged_1] == [l['step'] for l in logged_4] == [5, 10, 12]
  for single, multi in zip(logged_1, logged_4):
    assert set(single) == set(multi)
    for name in set(single) - {'step', 'steps_per_sec'}:
      assert multi[name] == pytest.approx(single[name], rel=1e-5, abs=1e-6), name
  for name in ('single', 'multi'):
    assert sorted(os.listdir(tmp_path / name / 'checkpoints'), key=int) == ['10', '12'], name
