"""CycleGAN: the history pool, the losses by hand, unpaired domains, a run that translates both ways."""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gan_jax
from gan_jax import data
from gan_jax import evaluation
from gan_jax import games
from gan_jax import train
from gan_jax.core import state as state_lib
from gan_jax.core import validation
from gan_jax.data import photos
from gan_jax.data import unpaired
from gan_jax.games import base
from gan_jax.games import cyclegan
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.models import translation
from tiny_configs import tiny_config

CYCLEGAN = {'game.name': 'cyclegan', 'model.name': 'cyclegan', 'data.domain_b': 'mnistm',
            'loss.name': 'least_squares', 'model.patch_layers': 1, 'model.resnet_blocks': 1,
            'game.cyclegan.identity_weight': 0.0, 'game.cyclegan.pool_size': 4}
SHAPE = (8, 8, 1)


# Jitted: pool_insert is a scan, which op-by-op dispatch would compile at every call.
_pool_query = jax.jit(cyclegan.pool_query)
_pool_insert = jax.jit(cyclegan.pool_insert)


@pytest.mark.slow
def test_pool_fills_then_shows_a_stored_image_half_the_time():
  pool = jnp.zeros((4, 1))
  count = jnp.zeros((), jnp.int32)
  # Filling: the fresh fakes are shown and stored in order.
  fakes = jnp.arange(1.0, 4.0)[:, None]
  np.testing.assert_array_equal(_pool_query(pool, count, fakes, jax.random.PRNGKey(0)),
                                fakes)
  pool, count = _pool_insert(pool, count, fakes, jax.random.PRNGKey(1))
  np.testing.assert_array_equal(pool[:, 0], [1, 2, 3, 0])
  assert int(count) == 3
  # One more fills it; from then on about half the shown images are stored ones.
  pool, count = _pool_insert(pool, count, jnp.full((1, 1), 4.0), jax.random.PRNGKey(2))
  assert int(count) == 4 and sorted(np.asarray(pool[:, 0])) == [1, 2, 3, 4]
  fresh = jnp.full((4000, 1), -1.0)
  shown = np.asarray(_pool_query(pool, count, fresh, jax.random.PRNGKey(3)))[:, 0]
  stored = shown != -1
  assert abs(stored.mean() - 0.5) < 0.03
  assert set(shown[stored]) == {1, 2, 3, 4}  # Uniform over the stored images.
  assert abs(np.mean(shown[stored] == 1) - 0.25) < 0.04
  # Deterministic in the key; a full pool replaces a stored image with probability 1/2.
  again = np.asarray(_pool_query(pool, count, fresh, jax.random.PRNGKey(3)))[:, 0]
  np.testing.assert_array_equal(shown, again)
  replaced = [int(jnp.sum(_pool_insert(pool, count, jnp.full((1, 1), 9.0),
                                               jax.random.PRNGKey(k))[0] == 9.0))
              for k in range(400)]
  assert set(replaced) == {0, 1} and abs(np.mean(replaced) - 0.5) < 0.08


def test_partly_full_pool_shows_the_fakes_that_still_fill_it():
  pool, count = jnp.zeros((4, 1)), jnp.asarray(2, jnp.int32)
  fakes = jnp.full((200, 1), -1.0)
  shown = np.asarray(_pool_query(pool, count, fakes, jax.random.PRNGKey(0)))[:, 0]
  np.testing.assert_array_equal(shown[:2], [-1, -1])  # Positions 2, 3 of the pool.
  assert (shown[2:] != -1).any()


def _game_and_state(**fields):
  config = tiny_config(**{**CYCLEGAN, **fields})
  game = games.make_game(config, SHAPE)
  state = jax.jit(functools.partial(state_lib.init_state, config, SHAPE))(jax.random.PRNGKey(0))
  rng = np.random.default_rng(0)
  batch = {'a': jnp.asarray(rng.uniform(-1, 1, (4, *SHAPE)), jnp.float32),
           'b': jnp.asarray(rng.uniform(-1, 1, (4, *SHAPE[:2], game.b_shape[-1])), jnp.float32)}
  return config, game, state, batch


def _run(game, state, name, x):
  apply = jax.jit(functools.partial(game._apply, name))  # One program, not op by op.
  return np.asarray(apply(state.params[name], state.batch_stats[name], x)[0], np.float64)


@pytest.mark.slow
def test_losses_equal_the_papers_formulas():
  # A pool of 4 still filling shows D the batch's 4 fresh fakes, so the formulas hold.
  config, game, state, batch = _game_and_state()
  a, b = batch['a'], batch['b']
  fake_b, fake_a = _run(game, state, 'g_ab', a), _run(game, state, 'g_ba', b)
  d_loss, (_, metrics) = jax.jit(game.loss, static_argnums=0)(
      'd', {k: state.params[k] for k in ('d_a', 'd_b')}, state, batch, jax.random.PRNGKey(1),
      None)
  expected = 0
  for name, real, fake in (('d_a', a, fake_a), ('d_b', b, fake_b)):
    expected += 0.5 * (np.mean((_run(game, state, name, real) - 1) ** 2)
                       + np.mean(_run(game, state, name, jnp.asarray(fake, jnp.float32)) ** 2))
  np.testing.assert_allclose(d_loss, expected, rtol=1e-5)
  g_loss, (_, g_metrics, outputs) = jax.jit(game.loss, static_argnums=0)(
      'g', {k: state.params[k] for k in ('g_ab', 'g_ba')}, state, batch, jax.random.PRNGKey(1),
      None)
  # The fakes it hands to the pools are the generators' outputs, in train mode.
  np.testing.assert_allclose(outputs['fake_b'], fake_b, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(outputs['fake_a'], fake_a, rtol=1e-5, atol=1e-6)
  # After the update the pools hold exactly those fakes (the pool of 4 fills).
  extra = game.update_extra(state, batch, outputs, jax.random.PRNGKey(2))
  for domain, fakes in (('a', fake_a), ('b', fake_b)):
    assert int(extra[f'count_{domain}']) == 4
    np.testing.assert_allclose(extra[f'pool_{domain}'], fakes, rtol=1e-5, atol=1e-6)
  rec_a = _run(game, state, 'g_ba', jnp.asarray(fake_b, jnp.float32))
  rec_b = _run(game, state, 'g_ab', jnp.asarray(fake_a, jnp.float32))
  cycle = np.mean(np.abs(rec_a - np.asarray(a))) + np.mean(np.abs(rec_b - np.asarray(b)))
  adversarial = (np.mean((_run(game, state, 'd_b', jnp.asarray(fake_b, jnp.float32)) - 1) ** 2)
                 + np.mean((_run(game, state, 'd_a', jnp.asarray(fake_a, jnp.float32)) - 1) ** 2))
  np.testing.assert_allclose(g_metrics['g_cycle'], cycle, rtol=1e-4)
  np.testing.assert_allclose(g_loss, adversarial + 10 * cycle, rtol=1e-4)


@pytest.mark.slow
def test_identity_term_needs_matching_channels_and_equals_its_formula():
  with pytest.raises(ValueError, match='identity_weight=0.5: the identity terms'):
    games.make_game(tiny_config(**{**CYCLEGAN, 'game.cyclegan.identity_weight': 0.5}), SHAPE)
  config, game, state, batch = _game_and_state(**{'data.domain_b': 'split',
                                                  'data.split_b': 'train',
                                                  'game.cyclegan.identity_weight': 0.5})
  _, (_, metrics, _) = jax.jit(game.loss, static_argnums=0)(
      'g', {k: state.params[k] for k in ('g_ab', 'g_ba')}, state, batch, jax.random.PRNGKey(1),
      None)
  identity = (np.mean(np.abs(_run(game, state, 'g_ab', batch['b']) - np.asarray(batch['b'])))
              + np.mean(np.abs(_run(game, state, 'g_ba', batch['a']) - np.asarray(batch['a']))))
  np.testing.assert_allclose(metrics['g_identity'], identity, rtol=1e-4)
  np.testing.assert_allclose(metrics['g_loss'], metrics['g_adv_a'] + metrics['g_adv_b']
                             + 10 * metrics['g_cycle'] + 5 * identity, rtol=1e-4)


def test_mnistm_domains_are_disjoint_blends_over_photo_patches():
  config = tiny_config(**CYCLEGAN)
  source = data.make_source(config.data, 0)
  a, b = unpaired.make_domains(source, config.data, 0, SHAPE)
  assert len(a) + len(b) == len(source)
  np.testing.assert_array_equal(a.gather(np.array([0, 1]))['x'], source.gather(np.array([0, 2]))['x'])
  blended = b.gather(np.array([0]))['x'][0]
  digit, patch = source.gather(np.array([1]))['x'][0], b.patches[0]
  np.testing.assert_array_equal(blended, np.abs(patch.astype(int) - digit.astype(int)))
  assert blended.shape == (8, 8, 3)
  # The patch is the one `random_patches` cuts for B's first example from the training photos.
  np.testing.assert_array_equal(
      patch, photos.random_patches(photos.load_train_photos(), len(b), 8,
                                   unpaired._DOMAIN_B_STREAM)[0])


def test_unpaired_pipeline_streams_both_domains_and_resumes(tmp_path):
  config = tiny_config(**CYCLEGAN)
  source = data.make_source(config.data, 0)
  pipeline = data.make_unpaired_pipeline(source, config.data, 4, seed=0)
  first = next(pipeline)
  assert first['a'].shape == (4, 8, 8, 1) and first['b'].shape == (4, 8, 8, 3)
  state = pipeline.get_state()
  expected = next(pipeline)
  again = data.make_unpaired_pipeline(source, config.data, 4, seed=0)
  again.set_state(state)
  resumed = next(again)
  for key in expected:
    np.testing.assert_array_equal(expected[key], resumed[key])


def test_style_patches_come_from_the_painting_file(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  painting = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
  Image.fromarray(painting).save(tmp_path / 'painting.png')
  config = tiny_config(**{**CYCLEGAN, 'data.domain_b': 'patches',
                          'data.path_b': str(tmp_path / 'painting.png')})
  _, b = unpaired.make_domains(data.make_source(config.data, 0), config.data, 0, SHAPE)
  patch = b.gather(np.array([0]))['x'][0]
  assert any(np.array_equal(painting[t:t + 8, l:l + 8], patch)
             for t in range(13) for l in range(23))
  with pytest.raises(FileNotFoundError, match='config.data.path_b'):
    unpaired.make_domains(data.make_source(config.data, 0),
                          tiny_config(**{**CYCLEGAN, 'data.domain_b': 'patches',
                                         'data.path_b': str(tmp_path / 'none.png')}).data,
                          0, SHAPE)


def test_cycle_metric_scores_the_way_back_against_the_sources():
  from skimage import metrics as sk_metrics  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  src = rng.uniform(-1, 1, (3, 12, 12, 3))
  fake = rng.uniform(-1, 1, (3, 12, 12, 3))
  seen = []

  def translate_back(images):  # Half way back to the sources: a known, imperfect cycle.
    seen.append(images)
    return 0.5 * images + 0.5 * src

  inputs = evaluator_lib.MetricInputs(None, fake, None, None, None,
                                      lambda: {'src': src, 'x': fake}, None, None,
                                      translate_back)
  scores = evaluator_lib.METRICS['cycle'].compute(inputs)
  np.testing.assert_array_equal(seen[0], fake)  # The fakes are what goes back.
  back = 0.5 * fake + 0.5 * src
  np.testing.assert_allclose(scores['cycle_l1'], np.mean(np.abs(back - src)), rtol=1e-6)
  unit_back, unit_src = (back + 1) / 2, (src + 1) / 2
  psnr = [sk_metrics.peak_signal_noise_ratio(x, y, data_range=1.0)
          for x, y in zip(unit_back, unit_src)]
  ssim = [sk_metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False, data_range=1.0,
                                           channel_axis=-1) for x, y in zip(unit_back, unit_src)]
  np.testing.assert_allclose(scores['cycle_psnr'], np.mean(psnr), rtol=1e-6)
  np.testing.assert_allclose(scores['cycle_ssim'], np.mean(ssim), rtol=1e-6)


def test_cycle_metric_needs_a_two_way_game():
  with pytest.raises(ValueError, match=r"\['cycle'\] map translations back"):
    validation.check_game(tiny_config(**{'game.name': 'pix2pix', 'model.name': 'unet',
                                         'data.pairs': 'edges', 'eval.metrics': ('cycle',)}))
  validation.check_game(tiny_config(**CYCLEGAN, **{'eval.metrics': ('cycle',)}))


def test_bad_configs_are_clear_errors():
  with pytest.raises(ValueError, match='learns from two unpaired domains'):
    validation.check_game(tiny_config(**{**CYCLEGAN, 'data.domain_b': ''}))
  with pytest.raises(ValueError, match="config.data.domain_b='mnistm' serves a second domain"):
    validation.check_game(tiny_config(**{'data.domain_b': 'mnistm'}))
  with pytest.raises(ValueError, match='set config.loss.name=least_squares'):
    games.make_game(tiny_config(**{**CYCLEGAN, 'loss.name': 'hinge'}), SHAPE)
  with pytest.raises(ValueError, match="config.data.domain_b='other' is unknown"):
    unpaired.domain_b_shape(tiny_config(**{**CYCLEGAN, 'data.domain_b': 'other'}).data, SHAPE)
  with pytest.raises(ValueError, match='one size'):
    translation.make_cyclegan_models(tiny_config(**CYCLEGAN).model, (8, 8, 1), (16, 16, 3))


@pytest.mark.slow
def test_run_translates_both_ways_and_previews(tmp_path):
  config = tiny_config(**CYCLEGAN, **{'num_grid_samples': 4, 'game.cyclegan.eval_direction': 'ba',
                                      'eval.metrics': ('fcn_score',),
                                      'eval.extractor': 'digits8'})
  train.train_and_evaluate(config, str(tmp_path))
  run = gan_jax.load_run(str(tmp_path))
  a = np.zeros((2, 8, 8, 1), np.float32)
  assert run.translate(a, 'ab').shape == (2, 8, 8, 3)
  assert run.translate(np.zeros((2, 8, 8, 3), np.float32), 'ba').shape == (2, 8, 8, 1)
  with pytest.raises(ValueError, match=r'shape \(N, H, W, 3\)'):
    run.translate(a, 'ba')
  assert os.path.exists(tmp_path / 'samples' / 'step_0000002.png')
  assert int(run.state.extra['count_a']) == 4  # The pool filled (batch 16 > 4) and is saved.


@pytest.mark.slow
def test_the_way_back_is_the_other_generator_in_eval_mode():
  config, _, state, batch = _game_and_state()
  for direction, back in (('ab', 'g_ba'), ('ba', 'g_ab')):
    config.game.cyclegan.eval_direction = direction  # The same players, scored either way.
    game = games.make_game(config, SHAPE)
    translated = batch['a'] if direction == 'ba' else jnp.tile(batch['a'], (1, 1, 1, 3))
    way_back = evaluation.make_translate_back(game, config)(state, np.asarray(translated))
    expected = base.apply(game.modules[back], state.ema[back], state.batch_stats[back],
                          {'x': translated}, train=False)[0]
    np.testing.assert_allclose(way_back, expected, rtol=1e-5, atol=1e-6)
  pix2pix = tiny_config(**{'game.name': 'pix2pix', 'model.name': 'unet', 'data.pairs': 'edges',
                           'model.patch_layers': 1})
  assert evaluation.make_translate_back(games.make_game(pix2pix, SHAPE), pix2pix) is None
