"""The SNGAN ResNet family: shapes, blocks against numpy, spectral norm, errors, a step, bf16."""

import functools

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.default_config import get_base_config
from gan_jax.models import resnet
from tiny_configs import tiny_config
import spectral_reference

SHAPE = (32, 32, 3)
# For the tests that compile whole networks or a step: 1 G block; D: one pooling block,
# then two at 4x4.
TINY = (8, 8, 3)
LATENT = 8
BATCH = 4


def _model_config(**fields):
  """The base `config.model` as a tiny resnet, with `fields` overridden."""
  config = get_base_config().model
  config.name = 'resnet'
  config.latent_dim = LATENT
  config.g_features = 16
  config.d_features = 8
  for name, value in fields.items():
    config[name] = value
  return config


def _init(module, *inputs):
  # Jitted, with the 'rbg' generator: eager initialisation dispatches every op of the
  # network one by one, and threefry compiles slowly on a CPU.
  return jax.jit(lambda key, *args: module.init(key, *args, train=False))(
      jax.random.key(0, impl='rbg'), *inputs)


def _noise(batch=BATCH):
  return jnp.asarray(np.random.default_rng(1).normal(size=(batch, LATENT)), jnp.float32)


def _data(shape, batch=BATCH, seed=2):
  return jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (batch, *shape)), jnp.float32)


# Compilation dominates these tests' time on a CPU, so each variant is built once.
@functools.lru_cache(maxsize=None)
def _generator(shape, compute_dtype='float32'):
  generator, _ = models.make_models(_model_config(compute_dtype=compute_dtype), shape)
  return generator, _init(generator, _noise())


@functools.lru_cache(maxsize=None)
def _discriminator(shape, spectral_norm=True, compute_dtype='float32'):
  _, discriminator = models.make_models(
      _model_config(spectral_norm=spectral_norm, compute_dtype=compute_dtype), shape)
  return discriminator, _init(discriminator, _data(shape))


def _spectral_stats(batch_stats):
  """{'<path>/<layer>/kernel/<u|sigma>': value} over a (nested) batch_stats tree."""
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(batch_stats), sep='/')
  return {key: value for key, value in flat.items() if '/SpectralNorm_' in f'/{key}'}


# Independent numpy references (float64), written from the definitions.


def _np_upsample(x):
  return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)


def _np_pool(x):
  return (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) / 4


def _np_conv(x, kernel, bias=None):
  """Stride-1 'SAME' cross-correlation of x (B, H, W, C) with an odd (k, k, C, F) kernel."""
  k = kernel.shape[0]
  padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)))
  height, width = x.shape[1:3]
  out = np.zeros((*x.shape[:3], kernel.shape[-1]))
  for i in range(k):
    for j in range(k):
      out += padded[:, i:i + height, j:j + width] @ kernel[i, j]
  return out if bias is None else out + bias


def _np_batch_norm(x, scale, bias, eps=1e-5):
  """Train-mode BatchNorm: biased batch variance over (B, H, W)."""
  mean = x.mean(axis=(0, 1, 2))
  var = x.var(axis=(0, 1, 2))
  return (x - mean) / np.sqrt(var + eps) * scale + bias


def _relu(x):
  return np.maximum(x, 0)


def _np(tree):
  return jax.tree.map(lambda a: np.asarray(a, np.float64), flax.core.unfreeze(tree))


def _perturb(params, seed=5):
  """Every parameter moved by noise, so BatchNorm scales/biases and biases are not 1 / 0."""
  leaves, treedef = jax.tree.flatten(params)
  rng = np.random.default_rng(seed)
  return jax.tree.unflatten(treedef, [np.asarray(p) + 0.3 * rng.normal(size=p.shape).astype(
      np.float32) for p in leaves])


def test_resampling_matches_numpy():
  x = np.random.default_rng(0).normal(size=(2, 4, 6, 3)).astype(np.float32)
  np.testing.assert_array_equal(resnet.upsample_nearest(jnp.asarray(x)), _np_upsample(x))
  np.testing.assert_allclose(resnet.avg_pool_2x2(jnp.asarray(x)), _np_pool(x), rtol=1e-6,
                             atol=1e-7)
  # Pooling an upsampled map gives the map back.
  np.testing.assert_allclose(resnet.avg_pool_2x2(resnet.upsample_nearest(x)), x, rtol=1e-6,
                             atol=1e-7)


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_conv_same_matches_xla_convolution(kernel_size):
  rng = np.random.default_rng(3)
  x = jnp.asarray(rng.normal(size=(2, 6, 6, 3)), jnp.float32)
  kernel = jnp.asarray(rng.normal(size=(kernel_size, kernel_size, 3, 5)), jnp.float32)
  xla = lambda x, k: jax.lax.conv_general_dilated(  # noqa: E731
      x, k, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  ours = lambda x, k: resnet.conv_same(x, k, (1, 1), 'SAME')  # noqa: E731
  loss = lambda conv: lambda x, k: jnp.sum(jnp.sin(conv(x, k)))  # noqa: E731
  # The second order is what the gradient penalty and R1 differentiate.
  penalty = lambda conv: lambda x, k: jnp.sum(jax.grad(loss(conv))(x, k) ** 2)  # noqa: E731

  @jax.jit
  def outputs(x, kernel):
    return [(conv(x, kernel), jax.grad(loss(conv), (0, 1))(x, kernel),
             jax.grad(penalty(conv), 1)(x, kernel)) for conv in (ours, xla)]

  got, expected = outputs(x, kernel)
  np.testing.assert_allclose(got[0], np.asarray(_np_conv(np.asarray(x, np.float64),
                                                         np.asarray(kernel, np.float64))),
                             rtol=1e-4, atol=1e-4)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  with pytest.raises(ValueError, match=r'only stride-1.*strides \(2, 2\)'):
    resnet.conv_same(x, kernel, (2, 2), 'SAME')


def test_generator_block_matches_numpy():
  block = resnet.GeneratorBlock(features=5)
  x = _data((4, 4, 3), batch=3)
  variables = _init(block, x)
  params = _perturb(variables['params'])
  out, updates = jax.jit(lambda p, x: block.apply(
      {'params': p, 'batch_stats': variables['batch_stats']}, x, train=True,
      mutable=['batch_stats']))(params, x)
  p, xn = _np(params), np.asarray(x, np.float64)
  h = _relu(_np_batch_norm(xn, p['bn1']['scale'], p['bn1']['bias']))
  h = _np_conv(_np_upsample(h), p['conv1']['kernel'])  # No bias: a BatchNorm follows.
  h = _relu(_np_batch_norm(h, p['bn2']['scale'], p['bn2']['bias']))
  h = _np_conv(h, p['conv2']['kernel'], p['conv2']['bias'])
  shortcut = _np_conv(_np_upsample(xn), p['shortcut']['kernel'], p['shortcut']['bias'])
  assert out.shape == (3, 8, 8, 5)
  np.testing.assert_allclose(out, h + shortcut, rtol=1e-4, atol=1e-4)
  # Train mode moved the running statistics towards the batch's.
  np.testing.assert_allclose(updates['batch_stats']['bn1']['mean'],
                             0.1 * xn.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('optimized, downsample, in_channels', [
    (True, True, 3), (False, True, 6), (False, False, 6), (False, False, 4)])
def test_discriminator_block_matches_numpy(optimized, downsample, in_channels):
  block = resnet.DiscriminatorBlock(features=6, downsample=downsample, optimized=optimized)
  x = _data((8, 8, in_channels), batch=2)
  params = _perturb(_init(block, x)['params'])
  out = np.asarray(jax.jit(lambda p, x: block.apply({'params': p}, x, train=True))(params, x))
  p, xn = _np(params), np.asarray(x, np.float64)
  h = xn if optimized else _relu(xn)
  h = _np_conv(_relu(_np_conv(h, p['conv1']['kernel'], p['conv1']['bias'])),
               p['conv2']['kernel'], p['conv2']['bias'])
  learnable = downsample or in_channels != 6
  shortcut = (_np_conv(xn, p['shortcut']['kernel'], p['shortcut']['bias']) if learnable
              else xn)
  if downsample:  # SNGAN's order: conv, then pool (the module pools first).
    h, shortcut = _np_pool(h), _np_pool(shortcut)
  assert ('shortcut' in p) == learnable
  assert out.shape == (2, 4 if downsample else 8, 4 if downsample else 8, 6)
  np.testing.assert_allclose(out, h + shortcut, rtol=1e-4, atol=1e-4)


def _abstract_run(generator, discriminator, shape):
  """Traced only (jax.eval_shape): variables and outputs of both players, train and eval."""
  def run(z, x):
    g_vars = generator.init(jax.random.key(0), z, train=False)
    d_vars = discriminator.init(jax.random.key(1), x, train=False)
    fake, g_updates = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
    logits, d_updates = discriminator.apply(d_vars, x, train=True, mutable=['batch_stats'])
    return (g_vars, d_vars, fake, g_updates, generator.apply(g_vars, z, train=False),
            logits, d_updates, discriminator.apply(d_vars, x, train=False))
  return jax.eval_shape(run, _noise(), _data(shape))


@pytest.mark.parametrize('spectral_norm', [False, True])
def test_shapes_dtypes_and_architecture(spectral_norm):
  generator, discriminator = models.make_models(_model_config(spectral_norm=spectral_norm),
                                                SHAPE)
  (g_vars, d_vars, fake, g_updates, eval_fake, logits, d_updates,
   eval_logits) = _abstract_run(generator, discriminator, SHAPE)
  for images in (fake, eval_fake):
    assert images.shape == (BATCH, *SHAPE) and images.dtype == jnp.float32
  for out in (logits, eval_logits):
    assert out.shape == (BATCH,) and out.dtype == jnp.float32
  assert set(g_vars) == {'params', 'batch_stats'} and set(g_updates) == {'batch_stats'}
  assert jax.tree.structure(g_updates['batch_stats']) == jax.tree.structure(
      g_vars['batch_stats'])
  # D has no BatchNorm: 'batch_stats' holds only the spectral-norm u and sigma.
  assert set(d_vars) == ({'params', 'batch_stats'} if spectral_norm else {'params'})
  assert set(d_updates) == ({'batch_stats'} if spectral_norm else set())
  # SNGAN's CIFAR networks: 3 up-blocks of g_features from a 4x4 map; 4 D blocks of
  # d_features, pooling in the first two, identity shortcuts in the last two.
  g_params = g_vars['params']
  assert g_params['dense']['kernel'].shape == (LATENT, 4 * 4 * 16)
  assert sorted(k for k in g_params if k.startswith('block')) == ['block_0', 'block_1',
                                                                 'block_2']
  assert g_params['block_0']['conv1']['kernel'].shape == (3, 3, 16, 16)
  # Only the last block's biases would be cancelled by the BatchNorm after it.
  assert ['bias' in g_params[f'block_{i}']['conv2'] for i in range(3)] == [True, True, False]
  assert g_params['conv_out']['kernel'].shape == (3, 3, 16, 3)
  d_params = d_vars['params']
  assert sorted(d_params) == ['block_0', 'block_1', 'block_2', 'block_3', 'dense']
  assert ['shortcut' in d_params[f'block_{i}'] for i in range(4)] == [True, True, False, False]
  assert d_params['block_0']['conv1']['kernel'].shape == (3, 3, 3, 8)
  assert d_params['dense']['kernel'].shape == (8, 1)


@pytest.mark.slow
def test_outputs_are_finite_and_in_range():
  generator, g_vars = _generator(TINY)
  discriminator, d_vars = _discriminator(TINY)
  z, x = _noise(), _data(TINY)

  @jax.jit
  def run(g_vars, d_vars, z, x):
    fake, g_updates = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
    return fake, g_updates, generator.apply(g_vars, z, train=False), discriminator.apply(
        d_vars, fake, train=False)

  fake, g_updates, eval_fake, logits = run(g_vars, d_vars, z, x)
  for images in (fake, eval_fake):
    assert np.all(np.abs(images) <= 1) and np.std(images) > 0
  # Train mode normalises with the batch's statistics and moves the running ones.
  assert not np.allclose(fake, eval_fake)
  for before, after in zip(jax.tree.leaves(g_vars['batch_stats']),
                           jax.tree.leaves(g_updates['batch_stats'])):
    assert not np.allclose(before, after)
  assert np.all(np.isfinite(logits)) and np.std(logits) > 0


@pytest.mark.parametrize('side, g_blocks, d_pooling', [(8, 1, 1), (16, 2, 1), (64, 4, 3)])
def test_depth_follows_resolution(side, g_blocks, d_pooling):
  shape = (side, side, 1)
  generator, discriminator = models.make_models(_model_config(), shape)
  g_params = jax.eval_shape(lambda z: generator.init(jax.random.key(0), z), _noise())['params']
  d_params = jax.eval_shape(lambda x: discriminator.init(jax.random.key(0), x),
                            _data(shape))['params']
  assert sum(k.startswith('block') for k in g_params) == g_blocks
  # Pooling blocks down to 8x8 (4x4 for 8x8 images), then two without pooling.
  assert sum(k.startswith('block') for k in d_params) == d_pooling + 2
  assert sum('shortcut' in d_params[f'block_{i}'] for i in range(d_pooling + 2)) == d_pooling
  out = jax.eval_shape(lambda z: generator.apply(generator.init(jax.random.key(0), z), z,
                                                 train=False), _noise())
  assert out.shape == (BATCH, *shape)


@pytest.mark.slow
def test_spectral_norm_is_applied_to_every_layer():
  discriminator, variables = _discriminator(SHAPE)
  x = _data(SHAPE)
  # flax stores the kernel already normalised at init; scaling it up makes the raw
  # weights' largest singular values far from 1, so the checks are not vacuous.
  params = jax.tree.map(lambda p: 5.0 * p, variables['params'])

  @jax.jit
  def advance(batch_stats):
    def body(_, stats):
      _, updates = discriminator.apply({'params': params, 'batch_stats': stats}, x,
                                       train=True, mutable=['batch_stats'])
      return updates['batch_stats']
    return jax.lax.fori_loop(0, 100, body, batch_stats)

  batch_stats = advance(variables['batch_stats'])
  stats = _spectral_stats(batch_stats)
  kernels = {'/'.join(path[:-1]): np.asarray(value) for path, value in
             flax.traverse_util.flatten_dict(flax.core.unfreeze(params)).items()
             if path[-1] == 'kernel'}
  # Every conv (shortcuts included) and the Dense: 3 + 3 + 2 + 2 + 1 kernels, a u and a
  # sigma each, in 'batch_stats' only.
  assert len(kernels) == 11 and len(stats) == 22
  sigmas = {}
  for name, kernel in kernels.items():
    block, layer = name.rsplit('/', 1) if '/' in name else ('', name)
    (u,) = [np.asarray(v, np.float64) for k, v in stats.items()
            if k.startswith(block) and k.endswith(f'/{layer}/kernel/u')]
    sigmas[name] = spectral_reference.power_iteration_sigma(kernel, u)
    top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert top > 4.0, name
    # The layer's effective kernel is kernel / sigma: its top singular value is ~1.
    assert top / sigmas[name] == pytest.approx(1.0, abs=2e-3), name
  # And it is what the network computes with: the same network without spectral norm,
  # given the kernels divided by those sigmas, scores the batch identically.
  _, plain = models.make_models(_model_config(spectral_norm=False), SHAPE)
  normalised = flax.traverse_util.unflatten_dict({
      path: (value / sigmas['/'.join(path[:-1])] if path[-1] == 'kernel' else value)
      for path, value in flax.traverse_util.flatten_dict(flax.core.unfreeze(params)).items()})
  got, expected = jax.jit(lambda: (
      discriminator.apply({'params': params, 'batch_stats': batch_stats}, x, train=False),
      plain.apply({'params': normalised}, x, train=False)))()
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('shape', [(30, 30, 3), (32, 16, 3), (24, 24, 3), (4, 4, 1),
                                   (48, 48, 3), (28, 28, 1)])
def test_rejects_shapes_it_cannot_fit(shape):
  pattern = r'model\.name=resnet cannot fit images of shape \(%s\).*4 \* 2\^k' % ', '.join(
      map(str, shape))
  with pytest.raises(ValueError, match=pattern):
    models.make_models(_model_config(), shape)
  # The modules check too, before building a layer.
  with pytest.raises(ValueError, match=r'cannot fit images of shape'):
    resnet.ResNetGenerator(data_shape=shape).init(jax.random.key(0), _noise(), train=False)


def test_rejects_points_and_bad_fields():
  with pytest.raises(ValueError, match=r'data_shape=\(2,\) is point data.*model\.name=mlp'):
    models.make_models(_model_config(), (2,))
  with pytest.raises(ValueError, match=r'model\.minibatch_std_group=-1'):
    models.make_models(_model_config(minibatch_std_group=-1), SHAPE)
  with pytest.raises(ValueError, match=r"model\.compute_dtype='float16'.*bfloat16, float32"):
    models.make_models(_model_config(compute_dtype='float16'), SHAPE)


def test_minibatch_stddev_channel():
  _, discriminator = models.make_models(_model_config(minibatch_std_group=2), (8, 8, 1))
  x = _data((8, 8, 1))
  variables = _init(discriminator, x)
  assert variables['params']['dense']['kernel'].shape == (8 + 1, 1)
  score = jax.jit(lambda x: discriminator.apply(variables, x, train=False))
  before, after = np.asarray(score(x)), np.asarray(score(x.at[0].multiply(-3.0)))
  # Groups {0, 2} and {1, 3}: changing example 0 moves logits 0 and 2 only.
  np.testing.assert_array_equal(~np.isclose(before, after, rtol=1e-6, atol=1e-7),
                                [True, False, True, False])


@pytest.mark.slow
def test_train_step_changes_parameters():
  config = tiny_config(**{'model.name': 'resnet', 'model.spectral_norm': True,
                          'loss.name': 'hinge', 'loss.n_critic': 2, 'batch_size': BATCH,
                          'optim.b1': 0.0, 'optim.b2': 0.9})
  mesh = parallel.make_mesh(jax.devices()[:1])
  # state_lib.init_state as create_state runs it, but from an 'rbg' key, whose random
  # numbers compile several times faster on a CPU than threefry's.
  state = jax.jit(lambda key: state_lib.init_state(config, TINY, key))(
      jax.random.key(config.seed, impl='rbg'))
  initial = jax.device_get(state)  # A host copy: the step donates `state`.
  rng = np.random.default_rng(0)
  batch = {'x': rng.uniform(-1, 1, (2 * BATCH, *TINY)).astype(np.float32),
           'y': np.zeros((2 * BATCH,), np.int32)}
  train_step = step_lib.make_train_step(config, mesh, TINY)
  state, metrics = train_step(state, parallel.global_batch(batch, mesh))
  state, metrics = jax.device_get((state, metrics))
  assert int(state.step) == 1
  for name, value in metrics.items():
    assert np.all(np.isfinite(value)), name
  for part, player in (('params', 'g'), ('params', 'd'), ('batch_stats', 'g'),
                       ('batch_stats', 'd')):
    name = f'{player}_{part}'
    before = flax.traverse_util.flatten_dict(flax.core.unfreeze(getattr(initial, part)[player]))
    after = flax.traverse_util.flatten_dict(flax.core.unfreeze(getattr(state, part)[player]))
    unchanged = [k for k in before if np.array_equal(before[k], after[k])]
    # Every parameter gets a gradient and every statistic (BatchNorm, u, sigma) moves, but
    # D's output bias may not: while every logit is inside (-1, 1) its hinge gradient is
    # -1 (reals) + 1 (fakes) = 0.
    allowed = {('dense', 'bias')} if name == 'd_params' else set()
    assert set(unchanged) <= allowed, (name, unchanged)


@pytest.mark.slow
def test_bfloat16_computes_in_bfloat16_and_returns_float32():
  generator, discriminator = models.make_models(
      _model_config(spectral_norm=True, compute_dtype='bfloat16'), TINY)
  g_vars, d_vars = _abstract_run(generator, discriminator, TINY)[:2]
  # Parameters, BatchNorm statistics and spectral-norm vectors are float32.
  for tree in (g_vars, d_vars):
    assert {leaf.dtype for leaf in jax.tree.leaves(tree)} == {jnp.dtype(jnp.float32)}
  # Run on the float32 networks' variables (the same tree), to compare the two.
  g32, g_vars = _generator(TINY)
  d32, d_vars = _discriminator(TINY)
  z, x = _noise(), _data(TINY)

  @jax.jit
  def run(g_vars, d_vars, z, x):
    fake, g_state = generator.apply(g_vars, z, train=True, capture_intermediates=True,
                                    mutable=['batch_stats', 'intermediates'])
    logits, d_state = discriminator.apply(d_vars, x, train=True, capture_intermediates=True,
                                          mutable=['batch_stats', 'intermediates'])
    evals = [(g.apply(g_vars, z, train=False), d.apply(d_vars, x, train=False))
             for g, d in ((generator, discriminator), (g32, d32))]
    return fake, logits, g_state, d_state, evals

  fake, logits, g_state, d_state, evals = run(g_vars, d_vars, z, x)
  assert fake.dtype == jnp.float32 and logits.dtype == jnp.float32
  for state in (g_state, d_state):
    assert {leaf.dtype for leaf in jax.tree.leaves(state['batch_stats'])} == {
        jnp.dtype(jnp.float32)}
  # Every layer's output, from capture_intermediates: {'<path>': value}.
  activations = {}
  for prefix, state in (('', g_state), ('D/', d_state)):
    for path, value in flax.traverse_util.flatten_dict(
        flax.core.unfreeze(state['intermediates'])).items():
      activations[prefix + '/'.join(path[:-1])] = value[0]
  inner = {k: v.dtype for k, v in activations.items() if k not in ('', 'D/')}
  assert {'block_0/conv1', 'block_0/bn2', 'dense', 'D/block_1/conv2', 'D/dense'} <= set(inner)
  assert set(inner.values()) == {jnp.dtype(jnp.bfloat16)}, inner
  # Same variables in float32: bfloat16 changes the numbers only by rounding.
  (fake16, logits16), (fake32, logits32) = evals
  assert fake16.dtype == logits16.dtype == jnp.float32
  assert np.max(np.abs(fake16 - fake32)) < 0.1
  assert np.corrcoef(np.ravel(fake16), np.ravel(fake32))[0, 1] > 0.99
  np.testing.assert_allclose(logits16, logits32, rtol=0.05, atol=0.05 * np.std(logits32))
