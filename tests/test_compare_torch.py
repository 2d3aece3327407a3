"""benchmarks/torch_dcgan.py: the same DCGAN as gan_jax's, and a torch step that trains it.

Skipped where torch (the `bench` extra) is not installed.
"""

import importlib.util
import pathlib

import jax
import numpy as np
import pytest

from gan_jax import models as models_lib
from tiny_configs import tiny_config

torch = pytest.importorskip('torch')

_TORCH_DCGAN = pathlib.Path(__file__).resolve().parents[1] / 'benchmarks' / 'torch_dcgan.py'
# 8x8 images: two stride-2 layers per player, as for MNIST (28x28), at a tiny size.
SHAPES = [(8, 8, 1), (8, 8, 3)]


def _load_torch_dcgan():
  """benchmarks/torch_dcgan.py as a module (the folder is not a package)."""
  spec = importlib.util.spec_from_file_location('torch_dcgan', _TORCH_DCGAN)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


torch_dcgan = _load_torch_dcgan()


def _config(**fields):
  """The tiny DCGAN config: latent 8, 8 features per player, batch 4."""
  return tiny_config(batch_size=4, **fields)


@pytest.mark.parametrize('shape', SHAPES)
def test_param_counts_equal(shape):
  jax_counts, torch_counts = torch_dcgan.param_counts_match(_config(), shape)
  assert jax_counts == torch_counts
  assert jax_counts['generator'] > 0 and jax_counts['discriminator'] > 0


def _random_variables(module, inputs, rng):
  """Random 'params' and 'batch_stats' of the shapes `module.init` gives.

  Used rather than flax's init, whose compilation takes seconds on a CPU: any values
  serve to compare two functions.
  """
  shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), inputs, train=False))
  return jax.tree.map(lambda s: rng.normal(0, 0.1, s.shape).astype(np.float32), shapes)


def test_same_functions_with_gan_jax_params():
  """With gan_jax's parameters loaded, both players compute what the flax modules do."""
  config = _config()
  shape = SHAPES[1]
  generator, discriminator = models_lib.make_models(config.model, shape)
  z = np.random.default_rng(0).normal(size=(4, config.model.latent_dim)).astype(np.float32)
  x = np.random.default_rng(1).uniform(-1, 1, (4, *shape)).astype(np.float32)

  rng = np.random.default_rng(2)
  g_vars, d_vars = _random_variables(generator, z, rng), _random_variables(discriminator, x, rng)

  @jax.jit
  def flax_outputs(g_vars, d_vars, z, x):
    # Train mode on both sides: batch statistics, as in the train step.
    fake, _ = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
    logits, _ = discriminator.apply(d_vars, x, train=True, mutable=['batch_stats'])
    return fake, logits

  fake, logits = flax_outputs(g_vars, d_vars, z, x)
  torch_g, torch_d = torch_dcgan.make_models(config.model, shape)
  torch_dcgan.load_gan_jax_params_(torch_g, torch_d, g_vars['params'], d_vars['params'])
  with torch.no_grad():
    torch_fake = torch_g(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    torch_logits = torch_d(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
  np.testing.assert_allclose(torch_fake, np.asarray(fake), atol=1e-5)
  np.testing.assert_allclose(torch_logits, np.asarray(logits), atol=1e-5)


@pytest.mark.parametrize('n_critic', [1, 2])
def test_one_step_updates_every_parameter(n_critic):
  config = _config(**{'loss.n_critic': n_critic})
  shape = SHAPES[0]
  step = torch_dcgan.TorchGANStep(config, shape)
  before = [p.detach().clone() for p in step.g_params + step.d_params]
  ema_before = [e.clone() for e in step.ema_params]
  x = torch.from_numpy(np.random.default_rng(0).uniform(
      -1, 1, (n_critic * config.batch_size, 1, 8, 8)).astype(np.float32))
  metrics = step(x)
  assert all(bool(torch.isfinite(v)) for v in metrics.values())
  after = step.g_params + step.d_params
  assert all(not torch.equal(a, b) for a, b in zip(before, after))
  # The EMA moved towards the new generator parameters.
  assert all(not torch.equal(a, b) for a, b in zip(ema_before, step.ema_params))
  assert step.step == 1
