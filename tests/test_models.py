"""Generators and discriminators: shapes, ranges, collections, spectral norm, BatchNorm, errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.default_config import get_base_config
from gan_jax.models import dcgan
from gan_jax.models import layers as layers_lib
import spectral_reference

IMAGE_SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3)]
LATENT = 8
BATCH = 3


def _model_config(**fields):
  """The base `config.model` made tiny, with `fields` overridden."""
  config = get_base_config().model
  config.latent_dim = LATENT
  config.g_features = 8
  config.d_features = 8
  config.hidden_dims = (16,)
  for name, value in fields.items():
    config[name] = value
  return config


def _init(module, inputs):
  # The 'rbg' generator compiles several times faster on a CPU than the default
  # threefry, and initialisation compiles one sampler per parameter shape.
  return module.init(jax.random.key(0, impl='rbg'), inputs, train=False)


def _noise(batch=BATCH):
  # numpy inputs: every jax.random shape costs a compilation on the first call.
  return jnp.asarray(np.random.default_rng(1).normal(size=(batch, LATENT)), jnp.float32)


def _data(shape, batch=BATCH):
  return jnp.asarray(np.random.default_rng(2).uniform(-1, 1, (batch, *shape)), jnp.float32)


# Initialisation dominates these tests' time on a CPU, so each variant is built once.
@functools.lru_cache(maxsize=None)
def _generator(name, shape):
  generator, _ = models.make_models(_model_config(name=name), shape)
  return generator, _init(generator, _noise())


@functools.lru_cache(maxsize=None)
def _discriminator(name, shape, spectral_norm):
  _, discriminator = models.make_models(
      _model_config(name=name, spectral_norm=spectral_norm), shape)
  return discriminator, _init(discriminator, _data(shape))


def _spectral_stats(batch_stats):
  """{(wrapper, variable): value} of every spectral-norm u / sigma in a batch_stats tree."""
  return {(outer, inner): value for outer, group in batch_stats.items()
          if outer.startswith('SpectralNorm') for inner, value in group.items()}


# DCGAN beyond 8x8 compiles for seconds: those variants are left to the full suite.
ALL_SHAPES = [('mlp', (2,))] + [
    pytest.param(name, shape, marks=pytest.mark.slow) if name == 'dcgan' and shape != (8, 8, 1)
    else (name, shape) for name in ('mlp', 'dcgan') for shape in IMAGE_SHAPES]


@pytest.mark.parametrize('name, shape', ALL_SHAPES)
def test_generator_shapes_and_range(name, shape):
  generator, variables = _generator(name, shape)
  assert set(variables) <= {'params', 'batch_stats'}
  z = _noise()
  fake, updates = generator.apply(variables, z, train=True, mutable=['batch_stats'])
  assert set(updates) == ({'batch_stats'} if name == 'dcgan' else set())
  for x in (fake, generator.apply(variables, z, train=False)):
    assert x.shape == (BATCH, *shape) and x.dtype == jnp.float32
    assert np.all(np.isfinite(x))
    if len(shape) == 3:
      assert np.all(np.abs(x) <= 1.0) and np.std(x) > 0
  if shape == (2,):
    assert np.max(np.abs(fake)) > 0  # Linear output: not squashed, not all zero.


@pytest.mark.parametrize('spectral_norm', [False, True])
@pytest.mark.parametrize('name, shape', ALL_SHAPES)
def test_discriminator_shapes_and_collections(name, shape, spectral_norm):
  _, discriminator = models.make_models(
      _model_config(name=name, spectral_norm=spectral_norm), shape)

  def run(x):
    # Traced only (jax.eval_shape): the shapes, dtypes and collections are what is
    # checked here; values are checked on a few variants in the tests below.
    variables = _init(discriminator, x)
    logits, updates = discriminator.apply(variables, x, train=True, mutable=['batch_stats'])
    return variables, logits, updates, discriminator.apply(variables, x, train=False)

  variables, logits, updates, eval_logits = jax.eval_shape(run, _data(shape))
  assert set(variables) <= {'params', 'batch_stats'}
  for out in (logits, eval_logits):
    assert out.shape == (BATCH,) and out.dtype == jnp.float32
  batch_stats = variables.get('batch_stats', {})
  # Spectral norm keeps its u and sigma in 'batch_stats' only, and the train-mode update
  # returns the whole collection.
  assert bool(_spectral_stats(batch_stats)) == spectral_norm
  assert jax.tree.structure(updates.get('batch_stats', {})) == jax.tree.structure(batch_stats)


@pytest.mark.parametrize('shape, layers', [((8, 8, 1), 2), ((28, 28, 1), 2), ((32, 32, 3), 3),
                                           ((64, 64, 3), 4), ((12, 12, 1), 2), ((6, 6, 1), 1),
                                           ((32, 16, 3), 2)])
def test_dcgan_depth_follows_resolution(shape, layers):
  assert dcgan.num_resamplings(shape) == layers
  generator, discriminator = models.make_models(
      _model_config(name='dcgan', spectral_norm=True), shape)
  g_params = jax.eval_shape(lambda z: _init(generator, z), jnp.zeros((2, LATENT)))['params']
  d_vars = jax.eval_shape(lambda x: _init(discriminator, x), jnp.zeros((2, *shape)))
  assert sum(k.startswith('ConvTranspose') for k in g_params) == layers
  assert sum(k.startswith('Conv_') for k in d_vars['params']) == layers
  # Base map of g_features * 2^(n-1) channels at H / 2^n; last hidden layer g_features.
  base = g_params['Dense_0']['kernel'].shape[1]
  assert base == (shape[0] >> layers) * (shape[1] >> layers) * 8 * 2 ** (layers - 1)
  assert g_params[f'ConvTranspose_{layers - 1}']['kernel'].shape[2:] == (8, shape[2])
  # The discriminator doubles from d_features; every conv and the Dense are normalised.
  assert d_vars['params'][f'Conv_{layers - 1}']['kernel'].shape[-1] == 8 * 2 ** (layers - 1)
  assert len(_spectral_stats(d_vars['batch_stats'])) == 2 * (layers + 1)


@pytest.mark.slow
def test_dcgan_initialisation():
  g_params = _generator('dcgan', (64, 64, 3))[1]['params']
  kernel = np.asarray(g_params['ConvTranspose_0']['kernel'])  # 4*4*32*16 weights.
  assert abs(kernel.mean()) < 0.002 and abs(kernel.std() - 0.02) < 0.002
  scales = np.concatenate([np.asarray(v['scale']) for k, v in g_params.items()
                           if k.startswith('BatchNorm')])
  assert abs(scales.mean() - 1.0) < 0.01 and 0.01 < scales.std() < 0.03


@pytest.mark.parametrize('name, shape, layer', [('mlp', (8, 8, 1), 'Dense_0'),
                                                ('dcgan', (8, 8, 1), 'Conv_0')])
def test_spectral_norm_bounds_largest_singular_value(name, shape, layer):
  discriminator, variables = _discriminator(name, shape, True)
  x = _data(shape)
  # flax stores the kernel already normalised at init; scaling it up makes the raw
  # weight's largest singular value far from 1, so the check below is not vacuous.
  params = jax.tree.map(lambda p: 5.0 * p, variables['params'])

  @jax.jit
  def advance(batch_stats):
    _, updates = discriminator.apply({'params': params, 'batch_stats': batch_stats},
                                     x, train=True, mutable=['batch_stats'])
    return updates['batch_stats']

  batch_stats = variables['batch_stats']
  for _ in range(100):
    batch_stats = advance(batch_stats)
  kernel = np.asarray(params[layer]['kernel'])
  (u,) = [np.asarray(value, np.float64) for (_, key), value in
          _spectral_stats(batch_stats).items() if key == f'{layer}/kernel/u']
  sigma = spectral_reference.power_iteration_sigma(kernel, u)
  singular_values = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)
  # The layer's effective weight is kernel / sigma: its largest singular value is ~1.
  assert singular_values[0] > 4.0
  assert singular_values[0] / sigma == pytest.approx(1.0, abs=1e-3)


def test_spectral_norm_makes_linear_critic_one_lipschitz():
  # With no hidden layer the MLP critic is x -> w.x + b; its input gradient is the
  # normalised weight, whose norm must be 1 once the power iteration has run.
  _, discriminator = models.make_models(
      _model_config(name='mlp', hidden_dims=(), spectral_norm=True), (4, 4, 1))
  x = _data((4, 4, 1))
  variables = _init(discriminator, x)
  _, updates = discriminator.apply(variables, x, train=True, mutable=['batch_stats'])
  variables = {'params': variables['params'], **updates}
  grads = jax.grad(lambda inputs: jnp.sum(discriminator.apply(variables, inputs, train=False)))(x)
  norms = np.linalg.norm(np.asarray(grads).reshape(BATCH, -1), axis=1)
  np.testing.assert_allclose(norms, 1.0, rtol=1e-5)


def test_batch_norm_statistics_update_only_when_mutable():
  generator, g_vars = _generator('dcgan', (28, 28, 1))
  z = _noise()
  fake, g_updates = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
  for before, after in zip(jax.tree.leaves(g_vars['batch_stats']),
                           jax.tree.leaves(g_updates['batch_stats'])):
    assert not np.allclose(before, after)
  # Eval mode normalises with the running statistics, so it computes something else.
  assert not np.allclose(generator.apply(g_vars, z, train=False), fake)

  discriminator, d_vars = _discriminator('dcgan', (28, 28, 1), False)
  assert 'BatchNorm_0' in d_vars['batch_stats']  # On the second conv; not on the first.
  logits, d_updates = discriminator.apply(d_vars, fake, train=True, mutable=['batch_stats'])
  assert logits.shape == (BATCH,) and np.all(np.isfinite(logits))
  mean = d_updates['batch_stats']['BatchNorm_0']['mean']
  assert not np.allclose(mean, d_vars['batch_stats']['BatchNorm_0']['mean'])
  _, no_bn = models.make_models(_model_config(name='dcgan', d_batch_norm=False), (28, 28, 1))
  assert 'batch_stats' not in jax.eval_shape(lambda x: _init(no_bn, x), fake)


def test_models_are_jittable():
  generator, g_vars = _generator('mlp', (2,))
  discriminator, d_vars = _discriminator('mlp', (2,), False)
  z = _noise()
  score = jax.jit(lambda z: discriminator.apply(d_vars, generator.apply(g_vars, z, train=False),
                                                train=False))
  eager = discriminator.apply(d_vars, generator.apply(g_vars, z, train=False), train=False)
  np.testing.assert_allclose(score(z), eager, rtol=1e-6)


def test_unknown_model_name():
  with pytest.raises(ValueError, match=r"model\.name='gan'.*dcgan, mlp"):
    models.make_models(_model_config(name='gan'), (8, 8, 1))


def test_unknown_activation():
  with pytest.raises(ValueError, match=r"model\.activation='swish'.*leaky_relu"):
    models.make_models(_model_config(name='mlp', activation='swish'), (2,))


def test_dcgan_on_points_points_to_mlp():
  with pytest.raises(ValueError, match=r'point data.*model\.name=mlp'):
    models.make_models(_model_config(name='dcgan'), (2,))


@pytest.mark.parametrize('shape', [(7, 7, 1), (5, 5, 3), (8, 5, 1), (2, 2, 1)])
def test_dcgan_rejects_sizes_it_cannot_fit(shape):
  with pytest.raises(ValueError, match=r'cannot fit images of shape'):
    models.make_models(_model_config(name='dcgan'), shape)


@pytest.mark.parametrize('name', ['mlp', 'dcgan'])
@pytest.mark.parametrize('shape', [(8, 8), (0,), (1, 8, 8, 1)])
def test_rejects_shapes_that_are_neither_images_nor_points(name, shape):
  with pytest.raises(ValueError, match=r'neither an image'):
    models.make_models(_model_config(name=name), shape)


# PacGAN 2-D options (Lin et al. 2018) and ProGAN's minibatch standard deviation.


@pytest.mark.parametrize('spectral_norm', [False, True])
def test_maxout_matches_numpy_reference(spectral_norm):
  maxout = layers_lib.Maxout(3, pieces=4, spectral_norm=spectral_norm)
  x = _data((6,), batch=5)
  variables = _init(maxout, x)
  out = np.asarray(maxout.apply(variables, x, train=False))
  dense = variables['params']['Dense_0']
  kernel, bias = np.asarray(dense['kernel']), np.asarray(dense['bias'])
  assert kernel.shape == (6, 12)
  if spectral_norm:
    # The stored kernel is divided by the stored sigma estimate in eval mode.
    (sigma,) = [np.asarray(v) for k, v in variables['batch_stats']['SpectralNorm_0'].items()
                if k.endswith('sigma')]
    kernel = kernel / sigma
  # Unit j is the max over Dense outputs j*4 .. j*4 + 3.
  expected = (np.asarray(x) @ kernel + bias).reshape(5, 3, 4).max(axis=-1)
  assert out.shape == (5, 3)
  np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def _minibatch_stddev_reference(h, group_size):
  """ProGAN's feature, example by example: group members are B / group_size apart."""
  h = np.asarray(h, np.float64)
  batch = h.shape[0]
  group_size = min(group_size, batch)
  stride = batch // group_size
  values = np.empty(batch)
  for b in range(batch):
    members = [b % stride + g * stride for g in range(group_size)]
    values[b] = np.mean(np.sqrt(np.var(h[members], axis=0) + 1e-8))
  column = np.broadcast_to(values.reshape((batch,) + (1,) * (h.ndim - 1)), (*h.shape[:-1], 1))
  return np.concatenate([h, column], axis=-1)


@pytest.mark.parametrize('group_size', [2, 4, 16])
@pytest.mark.parametrize('shape', [(5,), (3, 3, 4)])
def test_minibatch_stddev_matches_numpy(shape, group_size):
  h = _data(shape, batch=8) * jnp.arange(1, 9, dtype=jnp.float32).reshape(
      (8,) + (1,) * len(shape))  # Different spreads per example, so groups differ.
  out = np.asarray(layers_lib.minibatch_stddev(h, group_size))
  assert out.shape == (8, *shape[:-1], shape[-1] + 1)
  np.testing.assert_array_equal(out[..., :-1], h)
  np.testing.assert_allclose(out, _minibatch_stddev_reference(h, group_size), rtol=1e-5)
  # One value per group of 8 / group_size, broadcast over the group and any H, W.
  assert len(np.unique(np.round(out[..., -1], 5))) == 8 // min(group_size, 8)


def test_minibatch_stddev_single_example_and_bad_group():
  # Per-example calls (penalties) shrink the group to the batch: no variation at all.
  out = np.asarray(layers_lib.minibatch_stddev(_data((4,), batch=1), 4))
  np.testing.assert_allclose(out[:, -1], 1e-4, rtol=1e-3)
  with pytest.raises(ValueError, match=r'model\.minibatch_std_group=4.*batch of size 6'):
    layers_lib.minibatch_stddev(_data((4,), batch=6), 4)
  with pytest.raises(ValueError, match=r'model\.minibatch_std_group=-1'):
    models.make_models(_model_config(name='dcgan', minibatch_std_group=-1), (8, 8, 1))


def test_mlp_generator_batch_norm():
  generator, discriminator = models.make_models(
      _model_config(name='mlp', g_batch_norm=True, hidden_dims=(16, 16)), (2,))
  z = _noise(batch=4)
  variables = _init(generator, z)
  assert set(variables['batch_stats']) == {'BatchNorm_0', 'BatchNorm_1'}
  assert 'bias' not in variables['params']['Dense_0']  # Cancelled by the BatchNorm.
  fake, updates = generator.apply(variables, z, train=True, mutable=['batch_stats'])
  assert not np.allclose(updates['batch_stats']['BatchNorm_0']['mean'],
                         variables['batch_stats']['BatchNorm_0']['mean'])
  assert not np.allclose(generator.apply(variables, z, train=False), fake)
  # The option is the generator's only: the discriminator has no statistics.
  assert 'batch_stats' not in jax.eval_shape(lambda x: _init(discriminator, x), fake)


def _kernel_shapes(params):
  """{layer name: kernel shape} of every top-level layer with a kernel (not BatchNorm)."""
  return {name: tuple(layer['kernel'].shape) for name, layer in params.items()
          if 'kernel' in layer}


def test_mlp_per_player_widths():
  generator, discriminator = models.make_models(
      _model_config(name='mlp', g_hidden_dims=(5, 7), d_hidden_dims=(9,)), (2,))
  g_params = jax.eval_shape(lambda z: _init(generator, z), _noise())['params']
  d_params = jax.eval_shape(lambda x: _init(discriminator, x), _data((2,)))['params']
  assert _kernel_shapes(g_params) == {'Dense_0': (LATENT, 5), 'Dense_1': (5, 7),
                                      'Dense_2': (7, 2)}
  assert _kernel_shapes(d_params) == {'Dense_0': (2, 9), 'Dense_1': (9, 1)}
  # Empty per-player widths fall back to hidden_dims: the default trees are unchanged.
  generator, discriminator = models.make_models(_model_config(name='mlp'), (2,))
  g_params = jax.eval_shape(lambda z: _init(generator, z), _noise())['params']
  d_params = jax.eval_shape(lambda x: _init(discriminator, x), _data((2,)))['params']
  assert _kernel_shapes(g_params) == {'Dense_0': (LATENT, 16), 'Dense_1': (16, 2)}
  assert _kernel_shapes(d_params) == {'Dense_0': (2, 16), 'Dense_1': (16, 1)}
  assert 'bias' in g_params['Dense_0']


@pytest.mark.slow
def test_pacgan_sized_mlps_run_on_points():
  config = _model_config(name='mlp', latent_dim=2, activation='relu',
                         g_hidden_dims=(400,) * 4, g_batch_norm=True,
                         d_hidden_dims=(200,) * 3, d_activation='maxout', maxout_pieces=5)
  generator, discriminator = models.make_models(config, (2,))
  z = jnp.asarray(np.random.default_rng(3).normal(size=(8, 2)), jnp.float32)
  g_vars = _init(generator, z)
  assert _kernel_shapes(g_vars['params']) == {'Dense_0': (2, 400), 'Dense_1': (400, 400),
                                              'Dense_2': (400, 400), 'Dense_3': (400, 400),
                                              'Dense_4': (400, 2)}
  assert len(g_vars['batch_stats']) == 4
  fake, _ = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
  assert fake.shape == (8, 2)
  d_vars = _init(discriminator, fake)
  params = d_vars['params']
  assert {k: tuple(v['Dense_0']['kernel'].shape) for k, v in params.items()
          if k.startswith('Maxout')} == {'Maxout_0': (2, 1000), 'Maxout_1': (200, 1000),
                                         'Maxout_2': (200, 1000)}
  assert params['Dense_0']['kernel'].shape == (200, 1)
  logits = discriminator.apply(d_vars, fake, train=True)
  assert logits.shape == (8,) and np.all(np.isfinite(logits))


def test_unknown_discriminator_activation():
  with pytest.raises(ValueError, match=r"model\.d_activation='swish'.*maxout"):
    models.make_models(_model_config(name='mlp', d_activation='swish'), (2,))
  # Maxout is a discriminator layer only.
  with pytest.raises(ValueError, match=r"model\.activation='maxout'"):
    models.make_models(_model_config(name='mlp', activation='maxout'), (2,))


def _changed_logits(discriminator, variables, x):
  """Which examples' eval-mode logits move when example 0 alone is changed."""
  before = np.asarray(discriminator.apply(variables, x, train=False))
  after = np.asarray(discriminator.apply(variables, x.at[0].multiply(-3.0), train=False))
  return ~np.isclose(before, after, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('name, shape', [
    ('mlp', (2,)), pytest.param('dcgan', (8, 8, 1), marks=pytest.mark.slow)])
def test_minibatch_stddev_discriminator_sees_the_batch(name, shape):
  _, discriminator = models.make_models(_model_config(name=name, minibatch_std_group=2), shape)
  x = _data(shape, batch=4)
  variables = _init(discriminator, x)
  dense = variables['params']['Dense_1' if name == 'mlp' else 'Dense_0']['kernel']
  # One more input to the output Dense: a column, or a channel of the 2x2x16 last map.
  assert dense.shape == ((16 + 1, 1) if name == 'mlp' else (2 * 2 * (16 + 1), 1))
  # Eval mode (running BatchNorm statistics), so only the stddev couples the examples:
  # groups are {0, 2} and {1, 3}, so changing example 0 moves logits 0 and 2 only.
  np.testing.assert_array_equal(_changed_logits(discriminator, variables, x),
                                [True, False, True, False])
  _, plain = models.make_models(_model_config(name=name), shape)
  np.testing.assert_array_equal(_changed_logits(plain, _init(plain, x), x),
                                [True, False, False, False])
  # A single example (a per-example penalty) runs; a batch of 3 does not split into 2s.
  assert discriminator.apply(variables, x[:1], train=False).shape == (1,)
  with pytest.raises(ValueError, match=r'minibatch_std_group=2.*size 3'):
    discriminator.apply(variables, x[:3], train=False)


# Minibatch discrimination (Salimans et al. 2016).


def _minibatch_discrimination_reference(h, theta, log_scale, bias):
  """The paper's formula by loops in float64: o_k(i) = sum_{j != i} exp(-|M_i,k - M_j,k|_1) + b_k."""
  h, theta = np.asarray(h, np.float64), np.asarray(theta, np.float64)
  w = theta * np.exp(np.asarray(log_scale, np.float64)) / np.sqrt((theta ** 2).sum(axis=0))
  m = np.einsum('nf,fkc->nkc', h, w)
  n, k = m.shape[:2]
  o = np.zeros((n, k))
  for i in range(n):
    for j in range(n):
      if i != j:
        o[i] += np.exp(-np.abs(m[i] - m[j]).sum(axis=-1))
  return np.concatenate([h, o + np.asarray(bias, np.float64)], axis=1)


def test_minibatch_discrimination_matches_the_papers_formula():
  layer = layers_lib.MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
  h = _data((6,), batch=5) * 0.3
  params = layer.init(jax.random.PRNGKey(0), h)['params']
  params = dict(params, log_scale=jnp.full((4, 3), 0.5), bias=jnp.arange(4.0) - 1)
  out = np.asarray(layer.apply({'params': params}, h))
  assert out.shape == (5, 6 + 4)
  np.testing.assert_allclose(out, _minibatch_discrimination_reference(
      h, params['kernel'], params['log_scale'], params['bias']), rtol=1e-5, atol=1e-6)
  # Duplicates are close neighbours: two equal examples add exp(0) = 1 to each other.
  twins = jnp.concatenate([h[:1], h[:1], h[2:]])
  o = np.asarray(layer.apply({'params': params}, twins))[:, 6:] - np.asarray(params['bias'])
  assert np.all(o[:2] >= 1.0 - 1e-6)
  # Alone in its batch (a per-example penalty) an example has no neighbour: o = b.
  np.testing.assert_allclose(np.asarray(layer.apply({'params': params}, h[:1]))[0, 6:],
                             params['bias'], atol=1e-6)


def test_minibatch_discrimination_data_init_sets_the_papers_scale_and_bias():
  layer = layers_lib.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  h = _data((5,), batch=8)
  params = layer.init(jax.random.PRNGKey(1), h)['params']
  out, variables = layer.apply({'params': params}, h, data_init=True, mutable=['params'])
  new = variables['params']
  # The code's init: log scale - log(half the mean nearest-neighbour distance); b = -mean o.
  w = (np.asarray(params['kernel'], np.float64)
       / np.sqrt((np.asarray(params['kernel'], np.float64) ** 2).sum(axis=0)))
  m = np.einsum('nf,fkc->nkc', np.asarray(h, np.float64), w)
  distance = np.abs(m[:, None] - m[None, :]).sum(-1) + 1e6 * np.eye(8)[:, :, None]
  half_nearest = 0.5 * distance.min(axis=1).mean(axis=0)
  np.testing.assert_allclose(new['log_scale'], -np.log(half_nearest)[:, None] * np.ones((3, 2)),
                             rtol=1e-5)
  features = np.exp(-distance / half_nearest).sum(axis=1)
  np.testing.assert_allclose(new['bias'], -features.mean(axis=0), rtol=1e-5)
  np.testing.assert_allclose(np.asarray(out)[:, 5:].mean(axis=0), 0, atol=1e-5)
  np.testing.assert_allclose(out, layer.apply({'params': new}, h), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name, shape', [
    ('mlp', (2,)), pytest.param('dcgan', (8, 8, 1), marks=pytest.mark.slow),
    pytest.param('resnet', (8, 8, 1), marks=pytest.mark.slow)])
def test_minibatch_discrimination_discriminator_sees_the_batch(name, shape):
  _, discriminator = models.make_models(_model_config(name=name, minibatch_kernels=3), shape)
  x = _data(shape, batch=4)
  variables = _init(discriminator, x)
  # Every example's logit moves when example 0 alone changes (all pairs are compared).
  np.testing.assert_array_equal(_changed_logits(discriminator, variables, x), [True] * 4)
  assert discriminator.apply(variables, x[:1], train=False).shape == (1,)
  with pytest.raises(ValueError, match=r'model\.minibatch_kernels=-1'):
    models.make_models(_model_config(name=name, minibatch_kernels=-1), shape)
  with pytest.raises(ValueError, match=r'model\.minibatch_kernel_dim=0'):
    models.make_models(_model_config(name=name, minibatch_kernels=2, minibatch_kernel_dim=0),
                       shape)
