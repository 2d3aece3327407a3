"""bfloat16 mixed precision (`model.compute_dtype`): what computes in bfloat16, what stays float32.

Layers compute in bfloat16 from float32 parameters; samples, logits, BatchNorm statistics,
spectral-norm vectors, the optimizer states and the EMA stay float32; a bfloat16 network
computes what the float32 one does to bfloat16 precision.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.default_config import get_base_config
from gan_jax.models import layers
from tiny_configs import tiny_config

LATENT = 8
BATCH = 4

# (model name, data shape, extra model fields): the plain MLP on points, the MLP with
# every optional layer it has (BatchNorm, maxout, minibatch std) on images, and DCGAN.
VARIANTS = [
    ('mlp', (2,), {}),
    ('mlp', (8, 8, 1), {'g_batch_norm': True, 'd_activation': 'maxout', 'maxout_pieces': 3,
                        'minibatch_std_group': 2}),
    ('dcgan', (8, 8, 1), {}),
]
VARIANT_IDS = ['mlp-points', 'mlp-images-bn-maxout-mbstd', 'dcgan']


def _model_config(name, compute_dtype, **fields):
  """A tiny `config.model` with `compute_dtype` and `fields` set."""
  config = get_base_config().model
  config.name = name
  config.latent_dim = LATENT
  config.g_features = 8
  config.d_features = 8
  config.hidden_dims = (16,)
  config.compute_dtype = compute_dtype
  for field, value in fields.items():
    config[field] = value
  return config


def _models(name, shape, compute_dtype, **fields):
  return models.make_models(_model_config(name, compute_dtype, **fields), shape)


def _noise():
  # NumPy inputs: every jax.random shape would cost a compilation.
  return jnp.asarray(np.random.default_rng(1).normal(size=(BATCH, LATENT)), jnp.float32)


def _data(shape):
  return jnp.asarray(np.random.default_rng(2).uniform(-1, 1, (BATCH, *shape)), jnp.float32)


def _init(module, inputs):
  # Jitted, with 'rbg' keys: on a CPU, op-by-op initialisation of a DCGAN takes seconds
  # and threefry compiles slower (see tests/test_models.py).
  return jax.jit(lambda x: module.init(jax.random.key(0, impl='rbg'), x, train=False))(inputs)


def _float_dtypes(tree):
  """The set of dtype names of the floating-point leaves of `tree`."""
  return {str(leaf.dtype) for leaf in jax.tree.leaves(tree)
          if jnp.issubdtype(leaf.dtype, jnp.floating)}


def _relative_error(actual, expected):
  actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
  return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


def _eqns(jaxpr):
  """Every equation of `jaxpr` and of the jaxprs nested in its equations (jit, grad, ...)."""
  for eqn in jaxpr.eqns:
    yield eqn
    for param in eqn.params.values():
      for sub in (param if isinstance(param, (tuple, list)) else (param,)):
        inner = getattr(sub, 'jaxpr', sub)  # ClosedJaxpr -> Jaxpr.
        if hasattr(inner, 'eqns'):
          yield from _eqns(inner)


def _matmul_dtypes(fn, *args):
  """The operand dtypes of every dot_general that `fn(*args)` traces to."""
  jaxpr = jax.make_jaxpr(fn)(*args).jaxpr
  return {tuple(str(v.aval.dtype) for v in eqn.invars)
          for eqn in _eqns(jaxpr) if eqn.primitive.name == 'dot_general'}


def test_unknown_compute_dtype_is_an_error_naming_the_field():
  config = get_base_config()
  config.model.compute_dtype = 'float16'
  with pytest.raises(ValueError, match=r"model\.compute_dtype='float16'.*bfloat16, float32"):
    validation.validate_config(config)
  # Building the models without validation (notebooks) fails the same way.
  with pytest.raises(ValueError, match=r"model\.compute_dtype='float16'.*bfloat16, float32"):
    models.make_models(config.model, (8, 8, 1))
  assert layers.get_compute_dtype('bfloat16') == jnp.bfloat16
  assert layers.get_compute_dtype('float32') == jnp.float32


@pytest.mark.slow
@pytest.mark.parametrize('name, shape, fields', VARIANTS, ids=VARIANT_IDS)
def test_bfloat16_models_match_float32_with_float32_outputs(name, shape, fields):
  g32, d32 = _models(name, shape, 'float32', **fields)
  g16, d16 = _models(name, shape, 'bfloat16', **fields)
  z, x = _noise(), _data(shape)
  g_vars, d_vars = _init(g32, z), _init(d32, x)
  # The variables do not depend on the compute dtype: same tree, shapes and float32
  # (traced only, as a second initialisation would cost a compilation).
  for mine, theirs in ((jax.eval_shape(lambda i: _init(g16, i), z), g_vars),
                       (jax.eval_shape(lambda i: _init(d16, i), x), d_vars)):
    assert _float_dtypes(mine) == {'float32'}
    assert jax.tree.map(lambda a: (a.shape, a.dtype), mine) == jax.tree.map(
        lambda a: (a.shape, a.dtype), theirs)

  @jax.jit  # One compilation for all of them: op-by-op dispatch is slower on a CPU.
  def outputs(g_vars, d_vars, z):
    result = {}
    for train in (True, False):
      fake32, _ = g32.apply(g_vars, z, train=train, mutable=['batch_stats'])
      fake16, _ = g16.apply(g_vars, z, train=train, mutable=['batch_stats'])
      logits32, _ = d32.apply(d_vars, fake32, train=train, mutable=['batch_stats'])
      logits16, _ = d16.apply(d_vars, fake32, train=train, mutable=['batch_stats'])
      result[train] = fake32, fake16, logits32, logits16
    return result

  for fake32, fake16, logits32, logits16 in outputs(g_vars, d_vars, z).values():
    assert fake16.dtype == jnp.float32 and fake16.shape == fake32.shape
    assert logits16.dtype == jnp.float32 and logits16.shape == (BATCH,)
    # bfloat16 keeps 8 significant bits (relative rounding 2^-9 = 0.2%); a few layers
    # of rounded activations and weights stay well inside 2%.
    assert _relative_error(fake16, fake32) < 2e-2
    assert _relative_error(logits16, logits32) < 2e-2
    # ... and they are not secretly float32: rounding leaves a visible difference.
    assert not np.array_equal(fake16, fake32)


@pytest.mark.parametrize('name, shape, fields', VARIANTS, ids=VARIANT_IDS)
def test_layers_compute_in_bfloat16(name, shape, fields):
  generator, discriminator = _models(name, shape, 'bfloat16', **fields)
  z, x = _noise(), _data(shape)
  for module, inputs in ((generator, z), (discriminator, x)):
    variables = _init(module, inputs)
    out, captured = jax.jit(lambda v, i, m=module: m.apply(
        v, i, train=True, mutable=['batch_stats', 'intermediates'],
        capture_intermediates=True))(variables, inputs)
    intermediates = dict(captured['intermediates'])
    top = intermediates.pop('__call__')  # The network's own output.
    assert jax.tree.leaves(top)[0].dtype == jnp.float32 == out.dtype
    # Every sublayer (Dense, DownConv/UpConv, BatchNorm, Maxout) outputs bfloat16.
    assert intermediates and _float_dtypes(intermediates) == {'bfloat16'}, intermediates.keys()
    # And every matrix product, im2col resampling included, multiplies bfloat16 operands.
    apply = lambda v, i, m=module: m.apply(v, i, train=True, mutable=['batch_stats'])
    assert _matmul_dtypes(apply, variables, inputs) == {('bfloat16', 'bfloat16')}


def test_batch_norm_statistics_are_float32():
  # Values exactly representable in bfloat16, with a large offset: a mean or variance
  # reduced in bfloat16 would be off in the third digit; flax reduces in float32.
  x = (300.0 + jnp.asarray(np.random.default_rng(3).normal(size=(64, 5)))).astype(jnp.bfloat16)
  norm16, norm32 = layers.batch_norm(True, jnp.bfloat16), layers.batch_norm(True)
  variables = norm32.init(jax.random.key(0, impl='rbg'), x.astype(jnp.float32))
  y16, stats16 = norm16.apply(variables, x, mutable=['batch_stats'])
  y32, stats32 = norm32.apply(variables, x.astype(jnp.float32), mutable=['batch_stats'])
  assert y16.dtype == jnp.bfloat16 and _float_dtypes(stats16) == {'float32'}
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), stats16, stats32)
  # The normalised output is the float32 one rounded to bfloat16.
  np.testing.assert_allclose(y16.astype(jnp.float32), y32, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize('name', ['mlp', 'dcgan'])
def test_spectral_norm_power_iteration_is_float32(name):
  shape = (8, 8, 1)
  _, d32 = _models(name, shape, 'float32', spectral_norm=True)
  _, d16 = _models(name, shape, 'bfloat16', spectral_norm=True)
  x = _data(shape)
  variables = _init(d32, x)
  stats16, stats32 = jax.jit(lambda v, x: [d.apply(v, x, train=True, mutable=['batch_stats'])[1]
                                           for d in (d16, d32)])(variables, x)
  assert _float_dtypes(stats16) == {'float32'}
  # u and sigma depend only on the float32 kernel: computed in float32, they match the
  # float32 model's to float32 rounding (bfloat16 would be off by about 1e-3). (DCGAN's
  # BatchNorm statistics in the same collection see bfloat16 activations, so they differ.)
  spectral = lambda stats: {k: v for k, v in stats['batch_stats'].items()
                            if k.startswith('SpectralNorm')}
  assert spectral(stats16)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
               spectral(stats16), spectral(stats32))


@pytest.mark.parametrize('fields, shape', [
    ({'model.name': 'dcgan', 'loss.name': 'hinge', 'loss.r1': 1.0}, (8, 8, 1)),
    ({'model.name': 'mlp', 'loss.name': 'wasserstein', 'loss.gradient_penalty': 10.0,
      'model.minibatch_std_group': 2}, (2,)),
], ids=['dcgan-r1', 'mlp-gp-mbstd'])
@pytest.mark.slow
def test_train_step_keeps_state_float32(fields, shape):
  config = tiny_config(**{'model.compute_dtype': 'bfloat16', **fields})
  validation.validate_config(config)
  mesh = parallel.make_mesh(jax.devices()[:1])  # One device: the dtypes do not depend on it.
  state = state_lib.create_state(config, shape, mesh)
  train_step = step_lib.make_train_step(config, mesh, shape)
  batch = {'x': np.random.default_rng(4).uniform(-1, 1, (config.batch_size, *shape))
                  .astype(np.float32)}
  state, metrics = train_step(state, parallel.global_batch(batch, mesh))
  state, metrics = jax.device_get((state, metrics))
  # Parameters, BatchNorm statistics, spectral-norm vectors, both optimizers' moments
  # and the EMA copy: all float32.
  for part in ('params', 'batch_stats', 'opt', 'ema'):
    assert _float_dtypes(getattr(state, part)) <= {'float32'}, part
  assert _float_dtypes(state.params['d']) == {'float32'}
  for name, value in metrics.items():
    assert value.dtype == np.float32 and np.isfinite(value), name
  # Penalties were on and computed something.
  assert metrics['d_r1' if 'loss.r1' in fields else 'd_gp'] > 0
  samples = step_lib.make_sample_fn(config, shape)(state, _noise())
  assert samples.dtype == jnp.float32 and samples.shape == (BATCH, *shape)
  assert np.all(np.isfinite(samples))
