"""DownConv / UpConv: the same function, gradients and parameters as nn.Conv / nn.ConvTranspose."""

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import layers
from gan_jax.models import resampling

# (batch, height, width, in channels, out channels); the DCGAN shapes and odd corners.
SHAPES = [(2, 4, 4, 3, 5), (3, 2, 6, 8, 4), (2, 8, 8, 1, 16), (1, 14, 10, 6, 3)]


def _reference(module_cls, features, use_bias):
  """The flax layer that `module_cls` stands in for."""
  if module_cls is resampling.DownConv:
    return nn.Conv(features, (4, 4), strides=(2, 2), padding='SAME', use_bias=use_bias)
  return nn.ConvTranspose(features, (4, 4), strides=(2, 2), padding='SAME', use_bias=use_bias)


def _inputs(shape, module_cls):
  batch, height, width, channels, _ = shape
  if module_cls is resampling.UpConv:
    # Upsampling starts from small maps; also checks a 1-pixel-high one.
    height, width = max(height // 2, 1), width // 2
  rng = np.random.default_rng(0)
  return jnp.asarray(rng.normal(size=(batch, height, width, channels)), jnp.float32)


@pytest.mark.slow
@pytest.mark.parametrize('use_bias', [True, False])
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('module_cls', [resampling.DownConv, resampling.UpConv])
def test_matches_flax_layer(module_cls, shape, use_bias):
  features = shape[-1]
  x = _inputs(shape, module_cls)
  layer = module_cls(features, use_bias=use_bias)
  reference = _reference(module_cls, features, use_bias)
  key = jax.random.key(0, impl='rbg')
  params = layer.init(key, x)['params']
  # Same names, shapes and initial values, so checkpoints and initialisation carry over.
  reference_params = reference.init(key, x)['params']
  assert jax.tree.structure(params) == jax.tree.structure(reference_params)
  for ours, theirs in zip(jax.tree.leaves(params), jax.tree.leaves(reference_params)):
    np.testing.assert_array_equal(ours, theirs)
  if use_bias:  # A non-zero bias, so that its gradient and its addition are checked.
    params = {**params, 'bias': jnp.linspace(-1.0, 1.0, features)}

  # A loss that weights every output differently, so that any misplaced pixel shows.
  weights = jnp.asarray(np.random.default_rng(1).normal(size=reference.apply(
      {'params': params}, x).shape), jnp.float32)

  def loss(module, params, x):
    return jnp.sum(weights * module.apply({'params': params}, x))

  np.testing.assert_allclose(layer.apply({'params': params}, x),
                             reference.apply({'params': params}, x), rtol=1e-5, atol=1e-5)
  ours = jax.grad(loss, argnums=(1, 2))(layer, params, x)
  theirs = jax.grad(loss, argnums=(1, 2))(reference, params, x)
  for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('module_cls', [resampling.DownConv, resampling.UpConv])
def test_gradients_use_no_convolutions(module_cls):
  # XLA's CPU backend is slow on the input-dilated convolutions that strided and
  # transposed convolutions differentiate into; the layers avoid convolutions entirely.
  x = _inputs(SHAPES[0], module_cls)
  layer = module_cls(SHAPES[0][-1])
  params = jax.eval_shape(layer.init, jax.random.key(0), x)['params']
  grad = jax.grad(lambda p, x: jnp.sum(layer.apply({'params': p}, x)), argnums=(0, 1))
  jaxpr = str(jax.make_jaxpr(grad)(jax.tree.map(jnp.zeros_like, params), x))
  assert 'conv_general_dilated' not in jaxpr and 'dot_general' in jaxpr


class _SpectrallyNormalised(nn.Module):
  """One layer wrapped as the DCGAN discriminator wraps its convolutions."""
  make_layer: Callable[[], nn.Module]

  @nn.compact
  def __call__(self, x, train):
    return layers.apply_layer(self.make_layer(), x, spectral_norm=True, train=train)


def test_spectral_norm_matches_flax_layer():
  x = _inputs(SHAPES[0], resampling.DownConv)
  layer = _SpectrallyNormalised(lambda: resampling.DownConv(5, name='Conv_0'))
  reference = _SpectrallyNormalised(lambda: _reference(resampling.DownConv, 5, True))
  variables = layer.init(jax.random.key(0), x, train=False)
  reference_variables = reference.init(jax.random.key(0), x, train=False)
  # The same kernel (stored divided by its first sigma estimate), u and sigma.
  assert jax.tree.structure(variables) == jax.tree.structure(reference_variables)
  for ours, theirs in zip(jax.tree.leaves(variables), jax.tree.leaves(reference_variables)):
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
  ours, our_stats = layer.apply(variables, x, train=True, mutable=['batch_stats'])
  theirs, their_stats = reference.apply(variables, x, train=True, mutable=['batch_stats'])
  np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
  assert set(our_stats['batch_stats']['SpectralNorm_0']) == {'Conv_0/kernel/u',
                                                             'Conv_0/kernel/sigma'}
  for a, b in zip(jax.tree.leaves(our_stats), jax.tree.leaves(their_stats)):
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_downsampling_needs_even_sizes():
  with pytest.raises(ValueError, match='even height and width'):
    resampling.downsample_conv(jnp.zeros((1, 5, 4, 1)), jnp.zeros((4, 4, 1, 2)))


@pytest.mark.parametrize('kernel_size,stride,padding,size', [
    (3, 1, 1, (7, 7)), (3, 2, 1, (7, 6)), (3, 1, 0, (5, 5)), (3, 2, 0, (8, 9)), (1, 1, 0, (4, 3)),
    (4, 2, 1, (8, 8))])
def test_conv_as_matmul_is_lax_convolution_with_its_gradients(kernel_size, stride, padding, size):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(2, *size, 3)), jnp.float32)
  kernel = jnp.asarray(rng.normal(size=(kernel_size, kernel_size, 3, 4)), jnp.float32)

  def reference(x, kernel):
    return jax.lax.conv_general_dilated(x, kernel, (stride, stride), [(padding, padding)] * 2,
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

  ours = lambda x, kernel: resampling.conv_as_matmul(x, kernel, stride, padding)  # noqa: E731
  np.testing.assert_allclose(ours(x, kernel), reference(x, kernel), rtol=1e-5, atol=1e-5)
  cotangent = jnp.asarray(rng.normal(size=reference(x, kernel).shape), jnp.float32)
  loss = lambda fn: lambda x, k: jnp.sum(fn(x, k) * cotangent)  # noqa: E731
  for got, want in zip(jax.grad(loss(ours), argnums=(0, 1))(x, kernel),
                       jax.grad(loss(reference), argnums=(0, 1))(x, kernel)):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_conv_as_matmul_refuses_a_kernel_larger_than_its_input():
  with pytest.raises(ValueError, match='does not fit inputs of shape'):
    resampling.conv_as_matmul(jnp.zeros((1, 2, 2, 1)), jnp.zeros((3, 3, 1, 1)))
