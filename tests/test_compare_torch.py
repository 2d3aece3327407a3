"""benchmarks/torch_dcgan.py, torch_mlp.py and torch_resnet.py: gan_jax's DCGAN, MLP GAN and
SNGAN ResNet in torch, and the torch step that trains them.

Skipped where torch (the `bench` extra) is not installed.
"""

import jax
import numpy as np
import pytest

from by_path import load_benchmark
from gan_jax import models as models_lib
from gan_jax.stabilize import packing
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.models import layers
from by_path import EXPERIMENTS
from tiny_configs import load_experiment
from tiny_configs import tiny_config

torch = pytest.importorskip('torch')

# 8x8 images: two stride-2 layers per player, as for MNIST (28x28), at a tiny size.
SHAPES = [(8, 8, 1), (8, 8, 3)]
POINTS = (2,)

torch_dcgan = load_benchmark('torch_dcgan')
torch_mlp = load_benchmark('torch_mlp')
torch_resnet = load_benchmark('torch_resnet')


@pytest.fixture(autouse=True)
def _one_torch_thread():
  """Runs each test's torch ops on one thread, then restores torch's setting.

  The models here are tiny, so one thread is as fast as several; and on cores shared
  with other jobs, OpenMP's threads wait for each other at every op (a 4x8x8x8 conv took
  24 ms on two busy cores, 0.05 ms on one thread).
  """
  threads = torch.get_num_threads()
  torch.set_num_threads(1)
  yield
  torch.set_num_threads(threads)


def _config(**fields):
  """The tiny DCGAN config: latent 8, 8 features per player, batch 4."""
  return tiny_config(batch_size=4, **fields)


def _mlp_config(**fields):
  """A tiny MLP config: latent 8, one hidden layer of 16 per player, batch 8."""
  return tiny_config(**{'model.name': 'mlp', 'batch_size': 8, **fields})


def _resnet_config(**fields):
  """experiments/cifar10_sngan.py's choices at a tiny size: latent 8, 8 features, batch 4.

  Hinge loss, spectral norm in D, Adam (0, 0.9) at a linearly decaying rate, no EMA;
  n_critic 2 rather than 5, enough for a decaying rate within one step.
  """
  return tiny_config(**{'model.name': 'resnet', 'batch_size': 4, 'model.spectral_norm': True,
                        'loss.name': 'hinge', 'loss.n_critic': 2, 'optim.b1': 0.0,
                        'optim.b2': 0.9, 'optim.schedule': 'linear', 'optim.ema_decay': 0.0,
                        **fields})


# PacGAN's networks (mixture_study.pacgan_setting) at a tiny size: G with BatchNorm,
# maxout D, packs of 2.
PACGAN_FIELDS = {'model.g_hidden_dims': (16, 16), 'model.g_batch_norm': True,
                 'model.activation': 'relu', 'model.d_hidden_dims': (12, 12),
                 'model.d_activation': 'maxout', 'model.maxout_pieces': 3,
                 'stabilize.pack': 2}


@pytest.mark.parametrize('shape', SHAPES)
def test_param_counts_equal(shape):
  jax_counts, torch_counts = torch_dcgan.param_counts_match(_config(), shape)
  assert jax_counts == torch_counts
  assert jax_counts['generator'] > 0 and jax_counts['discriminator'] > 0


@pytest.mark.parametrize('fields, shape', [
    ({'model.activation': 'relu'}, POINTS),
    (PACGAN_FIELDS, POINTS),
    ({'model.g_hidden_dims': (16, 8), 'model.d_hidden_dims': (8,)}, (4, 4, 3)),
])
def test_mlp_param_counts_equal(fields, shape):
  jax_counts, torch_counts = torch_dcgan.param_counts_match(
      _mlp_config(**fields), shape, torch_mlp.make_models)
  assert jax_counts == torch_counts
  assert jax_counts['generator'] > 0 and jax_counts['discriminator'] > 0


def test_unsupported_fields_are_named():
  with pytest.raises(ValueError, match='config.model.name'):
    torch_mlp.check_supported(_config())
  with pytest.raises(ValueError, match='config.model.spectral_norm'):
    torch_mlp.check_supported(_mlp_config(**{'model.spectral_norm': True}))
  with pytest.raises(ValueError, match='config.stabilize.pack'):
    torch_dcgan.check_supported(_config(**{'stabilize.pack': 2}))
  torch_mlp.check_supported(_mlp_config(**PACGAN_FIELDS))


def _random_variables(module, inputs, rng):
  """Random 'params' and 'batch_stats' of the shapes `module.init` gives.

  Used rather than flax's init, whose compilation takes seconds on a CPU: any values
  serve to compare two functions.
  """
  shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), inputs, train=False))
  return jax.tree.map(lambda s: rng.normal(0, 0.1, s.shape).astype(np.float32), shapes)


def _flax_and_torch_outputs(port, config, shape):
  """(flax, torch) (fakes, logits) of the same random weights in train mode.

  Both in gan_jax's layout; the flax discriminator judges the packed batch, the torch
  one packs it itself.
  """
  generator, discriminator = models_lib.make_models(config.model, shape)
  z = np.random.default_rng(0).normal(size=(4, config.model.latent_dim)).astype(np.float32)
  x = np.random.default_rng(1).uniform(-1, 1, (4, *shape)).astype(np.float32)
  packed = np.asarray(packing.pack(x, int(config.stabilize.pack)))

  rng = np.random.default_rng(2)
  g_vars = _random_variables(generator, z, rng)
  d_vars = _random_variables(discriminator, packed, rng)

  @jax.jit
  def flax_outputs(g_vars, d_vars, z, x):
    # Train mode on both sides: batch statistics, as in the train step.
    fake, _ = generator.apply(g_vars, z, train=True, mutable=['batch_stats'])
    logits, _ = discriminator.apply(d_vars, x, train=True, mutable=['batch_stats'])
    return fake, logits

  fake, logits = flax_outputs(g_vars, d_vars, z, packed)
  torch_g, torch_d = port.make_models(config, shape)
  port.load_gan_jax_params_(torch_g, torch_d, g_vars['params'], d_vars['params'])
  with torch.no_grad():
    torch_fake = torch_g(torch.from_numpy(z)).numpy()
    torch_logits = torch_d(port.to_torch(x)).numpy()
  return (np.asarray(fake), np.asarray(logits)), (torch_fake, torch_logits)


def test_same_functions_with_gan_jax_params():
  """With gan_jax's parameters loaded, both players compute what the flax modules do."""
  (fake, logits), (torch_fake, torch_logits) = _flax_and_torch_outputs(
      torch_dcgan, _config(), SHAPES[1])
  np.testing.assert_allclose(torch_fake.transpose(0, 2, 3, 1), fake, atol=1e-5)
  np.testing.assert_allclose(torch_logits, logits, atol=1e-5)


@pytest.mark.parametrize('fields, shape', [
    *[({'model.activation': name}, POINTS) for name in layers.ACTIVATIONS],
    (PACGAN_FIELDS, POINTS),
    ({**PACGAN_FIELDS, 'model.activation': 'leaky_relu'}, (4, 4, 3)),
])
def test_mlp_same_functions_with_gan_jax_params(fields, shape):
  """Every activation, and BN + maxout + packing, on points and on NHWC images."""
  (fake, logits), (torch_fake, torch_logits) = _flax_and_torch_outputs(
      torch_mlp, _mlp_config(**fields), shape)
  np.testing.assert_allclose(torch_fake, fake, atol=1e-5)
  np.testing.assert_allclose(torch_logits, logits, atol=1e-5)


def _torch_step(port, config, shape):
  """A TorchGANStep on a fresh pair of `port`'s models, seeded."""
  torch.manual_seed(0)
  return torch_dcgan.TorchGANStep(config, *port.make_models(config, shape))


@pytest.mark.parametrize('n_critic', [1, 2])
def test_one_step_updates_every_parameter(n_critic):
  config = _config(**{'loss.n_critic': n_critic})
  shape = SHAPES[0]
  step = _torch_step(torch_dcgan, config, shape)
  before = [p.detach().clone() for p in step.g_params + step.d_params]
  ema_before = [e.clone() for e in step.ema_params]
  x = torch_dcgan.to_torch(np.random.default_rng(0).uniform(
      -1, 1, (n_critic * config.batch_size, *shape)).astype(np.float32))
  metrics = step(x)
  assert all(bool(torch.isfinite(v)) for v in metrics.values())
  after = step.g_params + step.d_params
  assert all(not torch.equal(a, b) for a, b in zip(before, after))
  # The EMA moved towards the new generator parameters.
  assert all(not torch.equal(a, b) for a, b in zip(ema_before, step.ema_params))
  assert step.step == 1


def test_bfloat16_step_autocasts_the_players_and_keeps_float32_state():
  config = _config(**{'model.compute_dtype': 'bfloat16'})
  shape = SHAPES[0]
  step = _torch_step(torch_dcgan, config, shape)
  with step._autocast():  # pylint: disable=protected-access
    logits = step.discriminator(step.generator(torch.randn(4, config.model.latent_dim)))
  assert logits.dtype == torch.bfloat16  # The players compute in bf16 ...
  x = torch_dcgan.to_torch(np.random.default_rng(0).uniform(
      -1, 1, (config.batch_size, *shape)).astype(np.float32))
  metrics = step(x)
  # ... while the losses, parameters and optimizer moments stay float32.
  assert all(v.dtype == torch.float32 and bool(torch.isfinite(v)) for v in metrics.values())
  assert all(p.dtype == torch.float32 for p in step.g_params + step.d_params)
  moments = [s['exp_avg'] for s in step.d_opt.state.values()]
  assert moments and all(m.dtype == torch.float32 for m in moments)


def _gan_jax_noise(config, state) -> list:
  """The noise batches gan_jax's step draws at `state.step`: critic updates', then G's.

  Mirrors the key use of `gan_jax.core.step.make_train_step_fn`: fold_in(key, step) split in
  (critic, generator, data) keys, the critic key split per update, and each update's
  key split in (noise, loss) keys.
  """
  d_key, g_key, _ = jax.random.split(jax.random.fold_in(state.key, state.step), 3)
  keys = [*jax.random.split(d_key, int(config.loss.n_critic)), g_key]
  shape = (int(config.batch_size), int(config.model.latent_dim))
  return [torch.from_numpy(np.array(jax.random.normal(jax.random.split(k)[0], shape)))
          for k in keys]


def _replay_one_step(port, config, shape: tuple, x: np.ndarray):
  """One torch step and one gan_jax step from the same weights, batch and noise.

  Asserts that both report the same losses; returns (the torch step after its update,
  gan_jax's new state) for the caller to compare parameters.
  """
  port.check_supported(config)
  state = state_lib.create_state(config, shape)
  noise = _gan_jax_noise(config, state)
  step = _torch_step(port, config, shape)
  port.load_gan_jax_params_(step.generator, step.discriminator, state.params['g'], state.params['d'])
  if step.ema_params is not None:
    # The EMA starts at the loaded generator, as gan_jax's starts at its g_params.
    step.ema_params = [p.detach().clone() for p in step.g_params]
  torch_metrics = step(port.to_torch(x), noise)
  new_state, metrics = jax.jit(step_lib.make_train_step_fn(config, shape))(state, {'x': x})
  for name in ('d_loss', 'g_loss'):
    np.testing.assert_allclose(float(torch_metrics[name]), float(metrics[name]), rtol=1e-5)
  return step, new_state


def test_mlp_step_matches_gan_jax_step():
  """One torch step and one gan_jax step, same weights, batch and noise: same parameters.

  PacGAN's tiny networks with two critic updates and the EMA: every part of the step.
  Learning rates of 1e-2 make Adam's first update (about lr * sign(gradient)) large
  against the tolerance, so a wrong update would show (the two agree to about 2e-7).
  One case only: compiling gan_jax's step is most of this file's time.
  """
  config = _mlp_config(**{'optim.g_lr': 1e-2, 'optim.d_lr': 1e-2, 'optim.ema_decay': 0.999,
                          'loss.n_critic': 2, **PACGAN_FIELDS})
  rows = int(config.batch_size) * int(config.loss.n_critic)
  x = np.random.default_rng(0).normal(size=(rows, *POINTS)).astype(np.float32)
  step, new_state = _replay_one_step(torch_mlp, config, POINTS, x)
  # gan_jax's updated parameters (and EMA) in torch's layout, to compare tensor by tensor.
  new_g, new_d = torch_mlp.make_models(config, POINTS)
  torch_mlp.load_gan_jax_params_(new_g, new_d, new_state.params['g'], new_state.params['d'])
  new_ema, _ = torch_mlp.make_models(config, POINTS)
  torch_mlp.load_gan_jax_params_(new_ema, new_d, new_state.ema['g'], new_state.params['d'])
  for got, want in ((step.g_params, new_g), (step.d_params, new_d), (step.ema_params, new_ema)):
    for a, b in zip(got, want.parameters(), strict=True):
      np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize('shape, spectral_norm', [
    ((8, 8, 3), True), ((16, 16, 1), False), ((32, 32, 3), True)])
def test_resnet_param_counts_equal(shape, spectral_norm):
  """Spectral norm adds no parameters on either side (torch keeps the raw weight)."""
  jax_counts, torch_counts = torch_dcgan.param_counts_match(
      _resnet_config(**{'model.spectral_norm': spectral_norm}), shape, torch_resnet.make_models)
  assert jax_counts == torch_counts
  assert jax_counts['generator'] > 0 and jax_counts['discriminator'] > 0


def test_resnet_unsupported_fields_are_named():
  torch_resnet.check_supported(load_experiment(EXPERIMENTS / 'cifar10_sngan.py'))
  for field, value in (('model.minibatch_std_group', 2), ('stabilize.pack', 2),
                       ('loss.name', 'wasserstein'), ('loss.r1', 1.0),
                       ('optim.schedule', 'cosine'), ('optim.warmup_steps', 10)):
    with pytest.raises(ValueError, match=f'config.{field}'):
      torch_resnet.check_supported(_resnet_config(**{field: value}))
  with pytest.raises(ValueError, match='config.model.name'):
    torch_resnet.check_supported(_config())
  # gan_jax's own check of the image shape.
  with pytest.raises(ValueError, match='model.name=resnet'):
    torch_resnet.make_models(_resnet_config(), (28, 28, 1))
  # Hinge and the linear rate are the step's, so every port takes them; spectral norm
  # is the ResNet port's alone.
  fields = {'loss.name': 'hinge', 'optim.schedule': 'linear'}
  torch_dcgan.check_supported(_config(**fields))
  with pytest.raises(ValueError, match='config.model.spectral_norm'):
    torch_dcgan.check_supported(_config(**fields, **{'model.spectral_norm': True}))


def test_resnet_same_functions_with_gan_jax_params():
  """32x32: every kind of block (the optimized one, a pooling one, two flat ones).

  Train mode: the generator's BatchNorms use batch statistics; D without spectral norm
  (see the next test) has no state, so both modes compute the same function.
  """
  (fake, logits), (torch_fake, torch_logits) = _flax_and_torch_outputs(
      torch_resnet, _resnet_config(**{'model.spectral_norm': False}), (32, 32, 3))
  np.testing.assert_allclose(torch_fake.transpose(0, 2, 3, 1), fake, atol=1e-5)
  np.testing.assert_allclose(torch_logits, logits, atol=1e-5)


def _converged_vectors(batch_stats: dict, params: dict) -> dict:
  """`batch_stats` with every spectral-norm u the top right singular vector of its kernel.

  flax keeps a layer's u at <scope>/SpectralNorm_<k>/'<layer>/kernel/u', its kernel at
  <scope>/<layer>/kernel.
  """
  def walk(stats, scope):
    out = {}
    for key, value in stats.items():
      if key.endswith('/kernel/u'):
        kernel = np.asarray(scope[key.split('/')[0]]['kernel'], np.float64)
        _, _, vt = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]))
        out[key] = vt[:1].astype(np.float32)
      elif key.startswith('SpectralNorm_'):
        out[key] = walk(value, scope)
      elif isinstance(value, dict):
        out[key] = walk(value, scope[key])
      else:
        out[key] = value  # sigma: flax recomputes it in every call.
    return out
  return walk(batch_stats, params)


def test_resnet_spectral_norm_matches_gan_jax():
  """Torch's spectral norm against flax's, on gan_jax's parameters and vectors.

  Eval mode: with the vectors loaded, torch computes flax's sigma exactly, from any u.
  Train mode: torch's power iteration is half a step ahead of flax's (see torch_resnet's
  docstring), so the logits agree once the estimates have converged, as here.
  """
  config = _resnet_config()
  shape = (16, 16, 3)
  _, discriminator = models_lib.make_models(config.model, shape)
  x = np.random.default_rng(0).uniform(-1, 1, (4, *shape)).astype(np.float32)
  d_vars = _random_variables(discriminator, x, np.random.default_rng(1))
  converged = {'params': d_vars['params'],
               'batch_stats': _converged_vectors(d_vars['batch_stats'], d_vars['params'])}

  @jax.jit
  def flax_logits(d_vars, x):
    # Either mode gives the same logits: flax iterates once from u in both.
    eval_logits = discriminator.apply(d_vars, x, train=False)
    train_logits, _ = discriminator.apply(d_vars, x, train=True, mutable=['batch_stats'])
    return eval_logits, train_logits

  _, torch_d = torch_resnet.make_models(config, shape)
  torch_resnet.load_gan_jax_player_params_(torch_d, d_vars['params'])
  for variables, mode in ((d_vars, 'eval'), (converged, 'train')):
    eval_logits, train_logits = flax_logits(variables, x)
    np.testing.assert_allclose(eval_logits, train_logits, rtol=1e-6)
    torch_resnet.load_gan_jax_spectral_vectors_(torch_d, variables['batch_stats'])
    torch_d.train(mode == 'train')
    with torch.no_grad():
      logits = torch_d(torch_resnet.to_torch(x)).numpy()
    np.testing.assert_allclose(logits, train_logits, rtol=1e-5, atol=1e-6, err_msg=mode)


def test_linear_schedule_counts_each_players_updates_as_optax():
  """The torch rates after each step are optax's at the players' update counts.

  gan_jax decays G's rate over num_train_steps updates and D's over n_critic times as
  many, one value per update (gan_jax.core.optim). Steps past the end run at rate 0. The
  tiny MLP makes four steps take milliseconds.
  """
  config = _mlp_config(**{'optim.schedule': 'linear', 'loss.name': 'hinge',
                          'loss.n_critic': 2, 'num_train_steps': 3,
                          'optim.g_lr': 1e-2, 'optim.d_lr': 3e-2})
  torch_mlp.check_supported(config)
  # The rates written out, not taken from gan_jax: G decays over 3 updates, D over 6.
  g_rate = lambda k: 1e-2 * max(0.0, 1.0 - k / 3)
  d_rate = lambda k: 3e-2 * max(0.0, 1.0 - k / 6)
  step = _torch_step(torch_mlp, config, POINTS)
  x = torch.randn(2 * config.batch_size, *POINTS)
  for i in range(4):
    for opt, rate, updates in ((step.g_opt, g_rate, i), (step.d_opt, d_rate, 2 * i)):
      # The rate the next update runs at.
      np.testing.assert_allclose(opt.param_groups[0]['lr'], rate(updates), rtol=1e-6)
    step(x)
  assert step.g_opt.param_groups[0]['lr'] == step.d_opt.param_groups[0]['lr'] == 0.0


@pytest.mark.parametrize('compute_dtype', ['float32', 'bfloat16'])
def test_resnet_step_updates_every_parameter_and_vector(compute_dtype):
  config = _resnet_config(**{'model.compute_dtype': compute_dtype})
  shape = (8, 8, 3)
  torch_resnet.check_supported(config)
  step = _torch_step(torch_resnet, config, shape)
  before = [p.detach().clone() for p in step.g_params + step.d_params]
  vectors = [b for name, b in step.discriminator.named_buffers() if name.endswith(('_u', '_v'))]
  # Three layers per pooling block, two per flat block, the Dense: (u, v) each.
  assert len(vectors) == 2 * (3 + 2 * 2 + 1)
  vectors_before = [v.clone() for v in vectors]
  x = torch_resnet.to_torch(np.random.default_rng(0).uniform(
      -1, 1, (2 * config.batch_size, *shape)).astype(np.float32))
  metrics = step(x)
  assert all(v.dtype == torch.float32 and bool(torch.isfinite(v)) for v in metrics.values())
  after = step.g_params + step.d_params
  assert all(not torch.equal(a, b) for a, b in zip(before, after))
  # The Dense's u has one element, +-1: only its v moves.
  assert sum(not torch.equal(a, b) for a, b in zip(vectors_before, vectors)) >= len(vectors) - 1


def test_resnet_step_matches_gan_jax_step():
  """One torch step and one gan_jax step, same weights, batch and noise: same parameters.

  Hinge loss, two critic updates at a linearly decaying rate (num_train_steps 1: D's
  second update runs at half the rate), Adam (0, 0.9), on the tiny ResNet without
  spectral norm: torch's power iteration runs half a step ahead of flax's (see
  test_resnet_spectral_norm_matches_gan_jax), which one step of training does not
  converge. Rates of 1e-2 make Adam's updates large against the tolerance.
  """
  config = _resnet_config(**{'model.spectral_norm': False, 'num_train_steps': 1,
                             'optim.g_lr': 1e-2, 'optim.d_lr': 1e-2})
  shape = (8, 8, 3)
  rows = int(config.batch_size) * int(config.loss.n_critic)
  x = np.random.default_rng(0).uniform(-1, 1, (rows, *shape)).astype(np.float32)
  step, new_state = _replay_one_step(torch_resnet, config, shape, x)
  new_g, new_d = torch_resnet.make_models(config, shape)
  torch_resnet.load_gan_jax_params_(new_g, new_d, new_state.params['g'], new_state.params['d'])
  for got, want in ((step.g_params, new_g), (step.d_params, new_d)):
    for a, b in zip(got, want.parameters(), strict=True):
      np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)
