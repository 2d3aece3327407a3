"""The semi-supervised GAN's convolutional networks (the paper's CIFAR-10/SVHN D) by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import games
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.games import semi_supervised
from gan_jax.models import improved_gan_conv
from tiny_configs import tiny_config

K = 10
CONV_SSGAN = {'game.name': 'semi_supervised', 'model.name': 'improved_gan_conv',
              'data.num_labeled': 20, 'model.d_conv_widths': (4,), 'model.g_features': 4}


def _conv_reference(x, w, stride, pad):
  """NHWC x HWIO cross-correlation by loops over output positions, in float64."""
  x = np.pad(np.asarray(x, np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  k = w.shape[0]
  out_h = (x.shape[1] - k) // stride + 1
  out_w = (x.shape[2] - k) // stride + 1
  out = np.zeros((x.shape[0], out_h, out_w, w.shape[-1]))
  for i in range(out_h):
    for j in range(out_w):
      patch = x[:, i * stride:i * stride + k, j * stride:j * stride + k, :]
      out[:, i, j] = np.einsum('bhwc,hwco->bo', patch, w)
  return out


@pytest.mark.parametrize('strides,pad', [(1, 1), (2, 1), (1, 0), (2, 0)])
def test_weight_norm_conv_equals_its_formula(strides, pad):
  layer = improved_gan_conv.WeightNormConv(3, strides=strides, padding=pad)
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 7, 7, 2))
  params = layer.init(jax.random.PRNGKey(1), x)['params']
  scale, bias = np.array([0.5, 2.0, -1.0]), np.array([0.1, 0.0, -0.3])
  params = dict(params, scale=jnp.asarray(scale), bias=jnp.asarray(bias))
  v = np.asarray(params['kernel'], np.float64)
  # Normalised per output channel over the kernel's spatial and input axes.
  w = v / np.sqrt((v ** 2).sum(axis=(0, 1, 2))) * scale
  expected = _conv_reference(x, w, strides, pad) + bias
  out = layer.apply({'params': params}, x)
  assert out.shape == expected.shape
  np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_weight_norm_conv_data_init_standardises_each_channel_to_init_scale():
  layer = improved_gan_conv.WeightNormConv(3, init_scale=0.1)
  x = jax.random.normal(jax.random.PRNGKey(0), (8, 6, 6, 2)) * 3 + 1
  params = layer.init(jax.random.PRNGKey(1), x)['params']
  out, variables = layer.apply({'params': params}, x, data_init=True, mutable=['params'])
  v = np.asarray(params['kernel'], np.float64)
  pre = _conv_reference(x, v / np.sqrt((v ** 2).sum(axis=(0, 1, 2))), 1, 1)
  m, s = pre.mean(axis=(0, 1, 2)), pre.std(axis=(0, 1, 2))
  new = variables['params']
  np.testing.assert_allclose(new['scale'], 0.1 / s, rtol=1e-4)
  np.testing.assert_allclose(new['bias'], -m * 0.1 / s, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(out, layer.apply({'params': new}, x), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(np.asarray(out).std(axis=(0, 1, 2)), 0.1, rtol=1e-3)
  np.testing.assert_allclose(np.asarray(out).mean(axis=(0, 1, 2)), 0, atol=1e-5)


def test_dropout_keeps_the_expected_share_rescaled_and_acts_in_training_only():
  x = jnp.ones((200, 50))
  out = np.asarray(improved_gan_conv.dropout(x, 0.5, jax.random.PRNGKey(0), True))
  kept = out != 0
  assert abs(kept.mean() - 0.5) < 0.02  # 10,000 draws: 5 standard deviations is 0.025.
  np.testing.assert_allclose(out[kept], 2.0)  # Kept units scaled by 1 / (1 - rate).
  np.testing.assert_array_equal(improved_gan_conv.dropout(x, 0.5, jax.random.PRNGKey(0), False), x)
  np.testing.assert_array_equal(improved_gan_conv.dropout(x, 0.5, None, True), x)


@pytest.mark.slow
@pytest.mark.parametrize('shape,widths', [((28, 28, 1), (4, 8)), ((32, 32, 3), (4, 8))])
def test_discriminator_is_the_papers_layout(shape, widths):
  d = improved_gan_conv.ConvClassifierDiscriminator(K, widths=widths)
  x = jax.random.uniform(jax.random.PRNGKey(0), (5, *shape), minval=-1, maxval=1)
  params = d.init(jax.random.PRNGKey(1), x, train=False)['params']
  # Three convolutions per stage, one valid convolution, two NIN layers, the output layer.
  convs = sorted(name for name in params if name.startswith('WeightNormConv'))
  assert len(convs) == 3 * len(widths) + 1
  assert params['WeightNormConv_0']['kernel'].shape == (3, 3, shape[-1], widths[0])
  assert params['WeightNormDense_2']['kernel'].shape == (widths[-1], K)
  logits, features = d.apply({'params': params}, x, train=False)
  assert logits.shape == (5, K) and features.shape == (5, widths[-1])
  # Features are the global mean pool that the output layer reads: the logits are the
  # output layer applied to them.
  p = {k: np.asarray(v, np.float64) for k, v in params['WeightNormDense_2'].items()}
  expected = (np.asarray(features, np.float64) @ (p['kernel'] / np.linalg.norm(p['kernel'], axis=0))
              * p['scale'] + p['bias'])
  np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
  # Dropout draws from the key in train mode only.
  key_a, key_b = jax.random.PRNGKey(2), jax.random.PRNGKey(3)
  np.testing.assert_array_equal(d.apply({'params': params}, x, train=False, noise_key=key_a)[0],
                                logits)
  assert not np.allclose(d.apply({'params': params}, x, train=True, noise_key=key_a)[0],
                         d.apply({'params': params}, x, train=True, noise_key=key_b)[0])


@pytest.mark.slow
def test_data_init_sets_the_output_to_std_0_1_and_fixed_scales_get_no_gradient():
  d = improved_gan_conv.ConvClassifierDiscriminator(K, widths=(4,), input_dropout=0.0,
                                                    stage_dropout=0.0, train_hidden_scale=False)
  x = jax.random.uniform(jax.random.PRNGKey(0), (64, 8, 8, 1), minval=-1, maxval=1)
  params = d.init(jax.random.PRNGKey(1), x, train=False)['params']
  (logits, _), variables = d.apply({'params': params}, x, train=True, data_init=True,
                                   mutable=['params'])
  new = variables['params']
  np.testing.assert_allclose(np.asarray(logits).std(axis=0), 0.1, rtol=1e-3)
  np.testing.assert_allclose(d.apply({'params': new}, x, train=False)[0], logits, rtol=1e-4,
                             atol=1e-5)
  grads = jax.grad(lambda p: jnp.sum(d.apply({'params': p}, x, train=False)[0] ** 2))(new)
  for name in ('WeightNormConv_0', 'WeightNormConv_3', 'WeightNormDense_0', 'WeightNormDense_1'):
    assert not np.any(grads[name]['scale']), name
    assert np.any(grads[name]['kernel']), name
  assert np.any(grads['WeightNormDense_2']['scale'])  # The output layer's scale trains.


def _game_and_state(shape, **fields):
  config = tiny_config(**CONV_SSGAN, **fields)
  game = games.make_game(config, shape, K)
  state = state_lib.init_state(config, shape, jax.random.PRNGKey(0), K)
  rng = np.random.default_rng(1)
  batch = {'x': rng.uniform(-1, 1, (12, *shape)).astype(np.float32),
           'z': rng.normal(size=(12, config.model.latent_dim)).astype(np.float32)}
  return config, game, state, batch


def test_absolute_feature_matching_is_the_cifar_codes_formula():
  real = np.random.default_rng(0).normal(size=(7, 5))
  fake = np.random.default_rng(1).normal(size=(9, 5))
  expected = np.mean(np.abs(real.mean(0) - fake.mean(0)))
  np.testing.assert_allclose(semi_supervised.feature_matching(real, fake, 'absolute'), expected,
                             rtol=1e-6)
  np.testing.assert_allclose(semi_supervised.feature_matching(real, fake),
                             np.mean((real.mean(0) - fake.mean(0)) ** 2), rtol=1e-6)


@pytest.mark.slow
def test_generator_loss_with_the_conv_d_reads_its_pooled_features():
  shape = (8, 8, 1)
  config, game, state, batch = _game_and_state(
      shape, **{'game.semi_supervised.feature_distance': 'absolute'})
  loss, _ = game.loss('g', {'g': state.params['g']}, state, batch, jax.random.PRNGKey(3),
                      step_lib.make_context(config))
  # The game's keys: the update's key split into the reals' and the fakes' dropout.
  real_key, fake_key = jax.random.split(jax.random.PRNGKey(3))
  fake = game.generate(state.params['g'], state.batch_stats['g'], batch['z'])[0]
  apply = lambda x, key: game.modules['d'].apply(  # noqa: E731
      {'params': state.params['d']}, x, train=True, noise_key=key)[1]
  real_features = np.asarray(apply(batch['x'], real_key), np.float64)
  fake_features = np.asarray(apply(fake, fake_key), np.float64)
  expected = np.mean(np.abs(real_features.mean(0) - fake_features.mean(0)))
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_config_errors_name_the_field():
  with pytest.raises(ValueError, match=r'at least 3x3 after 2 stride-2 stages'):
    games.make_game(tiny_config(**dict(CONV_SSGAN, **{'model.d_conv_widths': (4, 4)})),
                    (8, 8, 1), K)
  with pytest.raises(ValueError, match=r'config.model.d_conv_widths=\(\) must be'):
    games.make_game(tiny_config(**dict(CONV_SSGAN, **{'model.d_conv_widths': ()})),
                    (8, 8, 1), K)
  with pytest.raises(ValueError, match=r'config.model.d_dropout=1.0 must be in \[0, 1\)'):
    games.make_game(tiny_config(**CONV_SSGAN, **{'model.d_dropout': 1.0}), (8, 8, 1), K)
  with pytest.raises(ValueError, match='needs images'):
    games.make_game(tiny_config(**CONV_SSGAN), (2,), K)
  with pytest.raises(ValueError, match='config.game.semi_supervised.feature_distance'):
    games.make_game(tiny_config(**CONV_SSGAN, **{'game.semi_supervised.feature_distance': 'l3'}),
                    (8, 8, 1), K)
