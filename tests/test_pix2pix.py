"""pix2pix: U-Net and PatchGAN shapes and receptive field, the losses by hand, a run that translates."""

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gan_jax
from gan_jax import evaluate as evaluate_lib
from gan_jax import evaluation
from gan_jax import games
from gan_jax import models
from gan_jax import train
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.models import translation
from tiny_configs import tiny_config

PIX2PIX = {'game.name': 'pix2pix', 'model.name': 'unet', 'data.pairs': 'edges',
           'model.patch_layers': 1}
SHAPE = (8, 8, 1)


@pytest.mark.parametrize('shape, depth', [((28, 28, 1), 5), ((32, 32, 3), 5), ((8, 8, 1), 3),
                                          ((64, 48, 3), 6)])
@pytest.mark.slow
def test_unet_maps_any_size_to_the_same_size(shape, depth):
  assert translation.unet_depth(shape) == depth
  generator = translation.UNetGenerator(out_channels=3, depth=depth, features=4)
  # Jitted: one compiled program instead of op-by-op dispatch of every layer.
  apply = jax.jit(generator.apply, static_argnames=('train', 'mutable'))
  src = jax.random.uniform(jax.random.PRNGKey(0), (2, *shape), minval=-1, maxval=1)
  variables = jax.jit(generator.init, static_argnames='train')(jax.random.PRNGKey(1), src,
                                                               train=False)
  out = apply(variables, src, train=False)
  assert out.shape == (2, *shape[:2], 3) and float(jnp.max(jnp.abs(out))) <= 1
  # Dropout makes train-mode outputs depend on the dropout key, and only on it.
  run = lambda key: apply(variables, src, train=True, rngs={'dropout': key},
                          mutable='batch_stats')[0]
  np.testing.assert_array_equal(run(jax.random.PRNGKey(2)), run(jax.random.PRNGKey(2)))
  assert not np.allclose(run(jax.random.PRNGKey(2)), run(jax.random.PRNGKey(3)))
  assert translation.unet_depth((256, 256, 3)) == 8


@pytest.mark.slow
def test_unet_skips_reach_the_output():
  # Cutting the encoder at level k (zeroing down_k's weights) leaves only the skips of
  # levels < k to carry the source: the output must still depend on it, and with only
  # the outermost skip (k = 1) it must depend on nearby source pixels alone. A plain
  # encoder-decoder, or a U-Net that dropped a skip, fails one of these.
  generator = translation.UNetGenerator(out_channels=1, depth=3, features=4, norm='none',
                                        dropout=0.0)
  src = jax.random.uniform(jax.random.PRNGKey(3), (1, 8, 8, 1), minval=-1, maxval=1)
  variables = generator.init(jax.random.PRNGKey(0), src, train=False)

  @functools.partial(jax.jit, static_argnums=(1, 2))
  def grads_of_pixel(variables, row, col):
    return jax.grad(lambda s: generator.apply(variables, s, train=False)[0, row, col, 0])(src)

  def cut(level):
    params = dict(variables['params'])
    params[f'down_{level}'] = jax.tree.map(jnp.zeros_like, params[f'down_{level}'])
    return {**variables, 'params': params}

  for level in (1, 2):
    grads = grads_of_pixel(cut(level), 3, 3)
    assert float(jnp.abs(grads[0, 3, 3, 0])) > 0, level
  # Only skip 0 left: one stride-2 4x4 conv down and one 4x4 transposed conv up see at
  # most a few pixels around the output pixel, never the far corner.
  grads = np.asarray(grads_of_pixel(cut(1), 0, 0))[0, :, :, 0]
  assert np.abs(grads[:3, :3]).max() > 0 and np.abs(grads[4:, 4:]).max() == 0
  # The intact network sees the far corner through the bottleneck.
  assert np.abs(np.asarray(grads_of_pixel(variables, 0, 0))[0, 4:, 4:]).max() > 0


def test_too_small_images_are_a_clear_error():
  generator = translation.UNetGenerator(out_channels=1, depth=5, features=4)
  with pytest.raises(ValueError, match='multiples of 32'):
    generator.init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 1)), train=False)


@pytest.mark.slow
@pytest.mark.parametrize('patch_layers, size', [(1, 32), (2, 48), (3, 96)])
def test_patchgan_receptive_field(patch_layers, size):
  discriminator = translation.PatchDiscriminator(patch_layers, features=2, norm='none')
  x = jax.random.normal(jax.random.PRNGKey(0), (1, size, size, 1))
  variables = discriminator.init(jax.random.PRNGKey(1), x, train=False)
  logits = jax.jit(discriminator.apply, static_argnames='train')(variables, x, train=False)
  height = size // 2 ** patch_layers - 2  # Two stride-1 4x4 convolutions with padding 1.
  assert logits.shape == (1, height, height)
  centre = height // 2
  grads = jax.jit(jax.grad(
      lambda v: discriminator.apply(variables, v, train=False)[0, centre, centre]))(x)
  rows, cols = np.nonzero(np.abs(np.asarray(grads[0, ..., 0])) > 0)
  field = translation.receptive_field(patch_layers)
  assert rows.max() - rows.min() + 1 == field and cols.max() - cols.min() + 1 == field
  assert translation.receptive_field(3) == 70  # The paper's 70x70 PatchGAN.


def _game_and_state(**fields):
  config = tiny_config(**PIX2PIX, **fields)
  game = games.make_game(config, SHAPE)
  state = jax.jit(functools.partial(state_lib.init_state, config, SHAPE))(jax.random.PRNGKey(0))
  rng = np.random.default_rng(0)
  batch = {'src': jnp.asarray(rng.uniform(-1, 1, (4, *SHAPE)), jnp.float32),
           'x': jnp.asarray(rng.uniform(-1, 1, (4, *SHAPE)), jnp.float32)}
  return config, game, state, batch


def _loss(game):
  """`game.loss`, jitted (one program instead of op-by-op dispatch)."""
  return jax.jit(game.loss, static_argnums=0)


def _softplus(v):
  return np.logaddexp(0.0, np.asarray(v, np.float64))


@pytest.mark.slow
def test_losses_equal_the_papers_formulas():
  config, game, state, batch = _game_and_state()
  key = jax.random.PRNGKey(5)
  fake, _ = jax.jit(game.generate)(state.params['g'], state.batch_stats['g'], batch['src'], key)
  real_logits, stats = jax.jit(game.judge)(state.params['d'], state.batch_stats['d'], batch['src'],
                                  batch['x'])
  fake_logits, _ = jax.jit(game.judge)(state.params['d'], stats, batch['src'], fake)
  d_loss, (_, d_metrics) = _loss(game)('d', {'d': state.params['d']}, state, batch, key, None)
  expected_d = 0.5 * (_softplus(-real_logits).mean() + _softplus(fake_logits).mean())
  np.testing.assert_allclose(d_loss, expected_d, rtol=1e-5)
  g_loss, (_, g_metrics) = _loss(game)('g', {'g': state.params['g']}, state, batch, key, None)
  g_fake_logits, _ = jax.jit(game.judge)(state.params['d'], state.batch_stats['d'], batch['src'], fake)
  l1 = np.abs(np.asarray(fake, np.float64) - np.asarray(batch['x'])).mean()
  np.testing.assert_allclose(g_metrics['g_l1'], l1, rtol=1e-5)
  np.testing.assert_allclose(g_loss, 100 * l1 + _softplus(-g_fake_logits).mean(), rtol=1e-5)
  assert config.game.pix2pix.l1_weight == 100


@pytest.mark.slow
def test_ablations_drop_their_term():
  config, game, state, batch = _game_and_state(**{'game.pix2pix.adversarial_weight': 0.0})
  key = jax.random.PRNGKey(5)
  g_loss, (_, metrics) = _loss(game)('g', {'g': state.params['g']}, state, batch, key, None)
  np.testing.assert_allclose(g_loss, 100 * metrics['g_l1'], rtol=1e-6)
  assert 'g_adv' not in metrics
  # L1 only: one whole step leaves D exactly where it was.
  mesh = gan_jax.parallel.make_mesh()
  step = step_lib.make_train_step(config, mesh, SHAPE)
  batch16 = {k: jnp.tile(v, (4, 1, 1, 1)) for k, v in batch.items()}
  start = state_lib.create_state(config, SHAPE, mesh)
  d_before = jax.device_get(start.params['d'])
  after, _ = step(start, gan_jax.parallel.global_batch(jax.device_get(batch16), mesh))
  for a, b in zip(jax.tree.leaves(d_before), jax.tree.leaves(jax.device_get(after.params['d']))):
    np.testing.assert_array_equal(a, b)
  _, game, state, batch = _game_and_state(**{'game.pix2pix.l1_weight': 0.0})
  g_loss, (_, metrics) = _loss(game)('g', {'g': state.params['g']}, state, batch, key, None)
  np.testing.assert_allclose(g_loss, metrics['g_adv'], rtol=1e-6)


def test_bad_configs_are_clear_errors():
  with pytest.raises(ValueError, match='learns from paired images: set config.data.pairs'):
    validation.check_game(tiny_config(**{**PIX2PIX, 'data.pairs': ''}))
  with pytest.raises(ValueError, match="config.data.pairs='edges' makes paired images"):
    validation.check_game(tiny_config(**{'data.pairs': 'edges'}))
  with pytest.raises(ValueError, match=r"\['translation'\] compare translations"):
    validation.check_game(tiny_config(**{'eval.metrics': ('translation',)}))
  with pytest.raises(ValueError, match='pack=2 is not supported'):
    validation.check_game(tiny_config(**PIX2PIX, **{'stabilize.pack': 2}))
  with pytest.raises(ValueError, match="config.model.name='dcgan' is not a translation pair"):
    games.make_game(tiny_config(**{**PIX2PIX, 'model.name': 'dcgan'}), SHAPE)
  with pytest.raises(ValueError, match="config.model.name='unet' is a translation model"):
    games.make_game(tiny_config(**{'model.name': 'unet'}), SHAPE)
  with pytest.raises(ValueError, match='config.model.patch_layers=3'):
    games.make_game(tiny_config(**{**PIX2PIX, 'model.patch_layers': 3}), SHAPE)
  with pytest.raises(ValueError, match='one size'):
    models.make_translation_models(tiny_config(**PIX2PIX).model, (8, 8, 1), (16, 16, 3), 0.5)
  with pytest.raises(ValueError, match="config.model.norm='group' is unknown"):
    games.make_game(tiny_config(**{**PIX2PIX, 'model.norm': 'group'}), SHAPE)


def test_fcn_score_counts_translations_against_the_originals_labels():
  labels = np.array([0, 1, 2, 1])
  fake_logits = np.eye(3)[[0, 1, 1, 1]]  # 3 of 4 translations keep their class.
  reference = {'logits': np.eye(3)[[0, 1, 2, 0]], 'labels': labels}
  rgb_sources = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
  seen = []

  def extract(images):  # The classifier on the sources as they are: 2 of 4 right.
    seen.append(images)
    return {'logits': np.eye(3)[[0, 2, 0, 1]]}

  def scores(sources):
    inputs = evaluator_lib.MetricInputs(None, np.zeros((4, 8, 8, 1)), None,
                                        {'logits': fake_logits}, reference,
                                        lambda: {'x': None, 'y': labels, 'src': sources},
                                        None, None, None, extract)
    return evaluator_lib.METRICS['fcn_score'].compute(inputs)

  assert scores(rgb_sources) == {'fcn_accuracy': 0.75, 'fcn_accuracy_real': 0.75,
                                 'fcn_accuracy_source': 0.5}
  # RGB sources reach the grey classifier as their BT.601 luma.
  luma = 0.299 * rgb_sources[..., :1] + 0.587 * rgb_sources[..., 1:2] + 0.114 * rgb_sources[..., 2:]
  np.testing.assert_allclose(seen[0], luma, rtol=1e-6, atol=1e-6)
  # Sources of another size (super-resolution's LR) are not the classifier's input.
  assert np.isnan(scores(np.zeros((4, 4, 4, 1)))['fcn_accuracy_source'])


@pytest.fixture(scope='module')
def pix2pix_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('pix2pix'))
  # 16x16 digits: SSIM's 11x11 window needs at least 11 pixels a side.
  config = tiny_config(**PIX2PIX, **{'data.image_size': 16, 'num_grid_samples': 6,
                                     'eval.metrics': ('translation',)})
  train.train_and_evaluate(config, workdir)
  return workdir


@pytest.mark.slow
def test_run_translates_previews_and_scores(pix2pix_run):
  run = gan_jax.load_run(pix2pix_run)
  src = np.random.default_rng(0).uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32)
  out = run.translate(src)
  assert out.shape == (5, 16, 16, 1) and np.abs(out).max() <= 1
  np.testing.assert_array_equal(out, run.translate(src))  # Eval mode: no dropout.
  # Batches of 2: the last (1 image) is padded to 2; the translations do not change.
  in_pairs = evaluation.make_translate(run.game, 'ab', batch_size=2)(run.state, src)
  np.testing.assert_allclose(in_pairs, out, rtol=1e-5, atol=1e-6)
  # Fully convolutional: another size that the U-Net (depth 4, multiples of 16) pads.
  assert run.translate(src[:, :12, :12]).shape == (5, 12, 12, 1)
  with pytest.raises(ValueError, match=r'shape \(N, H, W, 1\)'):
    run.translate(np.zeros((2, 16, 16, 3), np.float32))
  with pytest.raises(ValueError, match="direction='ba' is not one"):
    run.translate(src, direction='ba')
  with pytest.raises(ValueError, match='does not sample from noise'):
    run.sample(4)
  # The preview: 6 triplets (src | translated | target), 4 to a row: 2 rows of 12 images.
  from PIL import Image  # pylint: disable=g-import-not-at-top
  grid = Image.open(os.path.join(pix2pix_run, 'samples', 'step_0000002.png'))
  assert grid.width > 3 * grid.height
  with open(os.path.join(pix2pix_run, 'metrics.jsonl'), encoding='utf-8') as f:
    records = [json.loads(line) for line in f]
  scores = [r for r in records if 'eval/psnr' in r][-1]
  assert 0 < scores['eval/l1'] < 2 and scores['eval/psnr'] > 0 and -1 < scores['eval/ssim'] < 1
  report = evaluate_lib.evaluate_run(pix2pix_run)
  np.testing.assert_allclose(report['metrics']['psnr'], scores['eval/psnr'], rtol=1e-5)


@pytest.mark.slow
def test_translate_on_a_sampling_run_is_a_clear_error(tmp_path):
  train.train_and_evaluate(tiny_config(), str(tmp_path))
  with pytest.raises(ValueError, match='does not translate images'):
    gan_jax.load_run(str(tmp_path)).translate(np.zeros((1, 8, 8, 1), np.float32))
