"""A whole MLP GAN training step against NumPy written from the equations (no torch needed).

tests/test_compare_torch.py checks full steps against torch, which CI does not install.
This reference always runs: a tiny unconditional MLP GAN (z 4 -> 8 -> 2, x 2 -> 8 -> 1,
LeakyReLU(0.2), no BatchNorm), the non-saturating loss, Adam and the generator's EMA,
written out in float64 NumPy: forward passes, hand-derived backward passes (checked
against central finite differences below), Adam as in Kingma & Ba (2015, Algorithm 1,
with epsilon outside the square root, as optax has it) and the EMA with its documented
ramp, min(decay, (1 + t) / (10 + t)) at step t. Two gan_jax steps are compared with it,
every leaf of the state, at float32 precision.

The only thing taken from gan_jax is the noise z each update draws: the test wraps the
function the game draws it with (`gan_jax.noise.latent_normal`) to record its output,
so the reference neither replays the key derivation nor depends on it.
"""

import jax
import numpy as np
import pytest

from gan_jax import noise
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from tiny_configs import tiny_config

LATENT, HIDDEN, DIM, BATCH = 4, 8, 2, 16
# Different rates for the two players, so that swapping them cannot pass; large enough
# that an update is far above float32 rounding of the weights it moves.
G_LR, D_LR = 1e-2, 3e-2
# Adam. eps is optax's default, added outside the square root. B2 = 1 - 2**-10 rather than
# 0.999: float32 rounds 0.999 by 1.3e-8, which the bias correction 1 - B2**t magnifies
# a thousandfold (every first update comes out 6.4e-6 too small); this B2 and its
# powers are exact in float32, so the comparison measures the step, not that rounding.
B1, B2, EPS = 0.5, 1 - 2 ** -10, 1e-8
EMA_DECAY = 0.999
SLOPE = 0.2  # The negative slope of 'leaky_relu' (DCGAN's choice).


def _config():
  return tiny_config(**{
      'model.name': 'mlp', 'model.latent_dim': LATENT, 'model.hidden_dims': (HIDDEN,),
      'model.activation': 'leaky_relu', 'data.name': 'ring', 'batch_size': BATCH,
      'loss.name': 'non_saturating', 'loss.n_critic': 1, 'optim.name': 'adam',
      'optim.g_lr': G_LR, 'optim.d_lr': D_LR, 'optim.b1': B1, 'optim.b2': B2,
      'optim.schedule': 'constant', 'optim.warmup_steps': 0, 'optim.ema_decay': EMA_DECAY,
      'num_train_steps': 10})


# --- the reference, in float64 ---------------------------------------------------------
def _lrelu(a):
  return np.where(a > 0, a, SLOPE * a)


def _lrelu_grad(a):
  return np.where(a > 0, 1.0, SLOPE)


def _softplus(t):
  return np.logaddexp(0.0, t)


def _sigmoid(t):
  return 1.0 / (1.0 + np.exp(-t))


def _generator(p, z):
  """(x, cache): x = lrelu(z W0 + b0) W1 + b1, linear output for points."""
  pre = z @ p['W0'] + p['b0']
  h = _lrelu(pre)
  return h @ p['W1'] + p['b1'], (z, pre, h)


def _generator_backward(p, cache, dx):
  z, pre, h = cache
  dpre = (dx @ p['W1'].T) * _lrelu_grad(pre)
  return {'W0': z.T @ dpre, 'b0': dpre.sum(0), 'W1': h.T @ dx, 'b1': dx.sum(0)}


def _discriminator(p, x):
  """(logits (B,), cache): logit = lrelu(x V0 + c0) V1 + c1."""
  pre = x @ p['W0'] + p['b0']
  h = _lrelu(pre)
  return (h @ p['W1'] + p['b1'])[:, 0], (x, pre, h)


def _discriminator_backward(p, cache, dlogits):
  """(grads of D's params, grad of its input) for the upstream gradient dlogits (B,)."""
  x, pre, h = cache
  dout = dlogits[:, None]
  dpre = (dout @ p['W1'].T) * _lrelu_grad(pre)
  grads = {'W0': x.T @ dpre, 'b0': dpre.sum(0), 'W1': h.T @ dout, 'b1': dout.sum(0)}
  return grads, dpre @ p['W0'].T


def _d_loss(d, g, real, z):
  """-mean log D(x) - mean log(1 - D(G(z))) with D = sigmoid(logit), and its gradients."""
  fake, _ = _generator(g, z)
  real_logits, real_cache = _discriminator(d, real)
  fake_logits, fake_cache = _discriminator(d, fake)
  loss = np.mean(_softplus(-real_logits)) + np.mean(_softplus(fake_logits))
  # d/dl softplus(-l) = -sigmoid(-l); d/dl softplus(l) = sigmoid(l); 1/B from the means.
  real_grads, _ = _discriminator_backward(d, real_cache, -_sigmoid(-real_logits) / len(real))
  fake_grads, _ = _discriminator_backward(d, fake_cache, _sigmoid(fake_logits) / len(z))
  grads = {k: real_grads[k] + fake_grads[k] for k in real_grads}
  return loss, grads, {'d_real_logit': real_logits.mean(), 'd_fake_logit': fake_logits.mean()}


def _g_loss(g, d, z):
  """The non-saturating -mean log D(G(z)) and its gradients with respect to G's params."""
  fake, g_cache = _generator(g, z)
  logits, d_cache = _discriminator(d, fake)
  loss = np.mean(_softplus(-logits))
  _, dfake = _discriminator_backward(d, d_cache, -_sigmoid(-logits) / len(z))
  return loss, _generator_backward(g, g_cache, dfake)


def _adam(params, grads, m, v, t, lr):
  """Kingma & Ba's Algorithm 1 at update t (from 1); returns (params, m, v)."""
  m = {k: B1 * m[k] + (1 - B1) * grads[k] for k in params}
  v = {k: B2 * v[k] + (1 - B2) * grads[k] ** 2 for k in params}
  new = {}
  for k in params:
    m_hat, v_hat = m[k] / (1 - B1 ** t), v[k] / (1 - B2 ** t)
    new[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + EPS)
  return new, m, v


def _reference_step(ref, real, z_d, z_g):
  """One step (one D update, one G update on D's new weights, the EMA) of the dict `ref`."""
  t = ref['step'] + 1
  d_loss, d_grads, metrics = _d_loss(ref['d'], ref['g'], real, z_d)
  d, d_m, d_v = _adam(ref['d'], d_grads, ref['d_m'], ref['d_v'], t, D_LR)
  g_loss, g_grads = _g_loss(ref['g'], d, z_g)
  g, g_m, g_v = _adam(ref['g'], g_grads, ref['g_m'], ref['g_v'], t, G_LR)
  decay = min(EMA_DECAY, (1 + ref['step']) / (10 + ref['step']))
  ema = {k: decay * ref['ema'][k] + (1 - decay) * g[k] for k in g}
  return ({'step': t, 'd': d, 'g': g, 'd_m': d_m, 'd_v': d_v, 'g_m': g_m, 'g_v': g_v,
           'ema': ema}, {'d_loss': d_loss, 'g_loss': g_loss, **metrics})


# --- gan_jax's trees <-> the reference's dicts -----------------------------------------
def _flat(player_params):
  """Flax's {'Dense_0': {'kernel', 'bias'}, 'Dense_1': ...} as float64 {'W0', 'b0', ...}."""
  return {f'{w}{i}': np.asarray(player_params[f'Dense_{i}'][leaf], np.float64)
          for i in (0, 1) for w, leaf in (('W', 'kernel'), ('b', 'bias'))}


def _from_state(state):
  adam = {side: state.opt[side][0] for side in ('d', 'g')}
  return {'step': int(state.step), 'd': _flat(state.params['d']), 'g': _flat(state.params['g']),
          'd_m': _flat(adam['d'].mu['d']), 'd_v': _flat(adam['d'].nu['d']),
          'g_m': _flat(adam['g'].mu['g']), 'g_v': _flat(adam['g'].nu['g']),
          'ema': _flat(state.ema['g'])}


def _random_player(shapes, rng, scale):
  return jax.tree.map(lambda s: rng.normal(0, scale, np.shape(s)).astype(np.float32), shapes)


@pytest.fixture
def recorded_noise(monkeypatch):
  """{update index at trace time: [z of each call]}: what `noise.latent_normal` returned.

  The step draws z for the discriminator update (traced first, inside its scan) and for
  the generator update; the index given at trace time tells them apart whatever order the
  callbacks arrive in.
  """
  drawn, original = {}, noise.latent_normal

  def recording(key, shape):
    z = original(key, shape)
    index = len(drawn)
    drawn[index] = []
    jax.debug.callback(lambda value: drawn[index].append(np.asarray(value, np.float64)), z)
    return z

  monkeypatch.setattr(noise, 'latent_normal', recording)
  return drawn


def test_two_steps_match_numpy_from_the_equations(recorded_noise):
  config = _config()
  shape = (DIM,)
  mesh = parallel.make_mesh(jax.devices()[:1])  # One device: each callback runs once.
  state = state_lib.create_state(config, shape, mesh)
  # Random weights and biases (flax starts biases at 0, which would hide a missing bias
  # term), and an EMA that differs from the weights, so every term of every formula counts.
  rng = np.random.default_rng(0)
  params = {'g': _random_player(state.params['g'], rng, 0.5),
            'd': _random_player(state.params['d'], rng, 0.5)}
  state = state.replace(params=params, ema={'g': _random_player(state.params['g'], rng, 0.5)})
  # Laid out as the step returns it, so that its second call reuses the first's trace.
  state = jax.device_put(state, parallel.replicated(mesh))
  ref = _from_state(jax.device_get(state))
  assert ref['step'] == 0 and all(np.all(v == 0) for v in ref['g_m'].values())

  train_step = step_lib.make_train_step(config, mesh, shape)
  for step in range(2):
    real = rng.normal(0, 1, (BATCH, DIM)).astype(np.float32)
    state, metrics = train_step(state, parallel.global_batch({'x': real}, mesh))
    got = jax.device_get(state)
    assert sorted(recorded_noise) == [0, 1], 'expected one z for D and one for G'
    z_d, z_g = recorded_noise[0][step], recorded_noise[1][step]
    assert z_d.shape == z_g.shape == (BATCH, LATENT)
    before = ref
    ref, ref_metrics = _reference_step(before, real.astype(np.float64), z_d, z_g)

    assert int(got.step) == ref['step'] == step + 1
    for side in ('d', 'g'):
      # optax counts updates twice: Adam's bias correction and the schedule.
      counts = [int(c) for c in jax.tree.leaves(got.opt[side]) if np.ndim(c) == 0]
      assert counts == [step + 1] * 2, side
    got_flat = _from_state(got)
    for part in ('d', 'g', 'd_m', 'd_v', 'g_m', 'g_v', 'ema'):
      for leaf in ref[part]:
        np.testing.assert_allclose(got_flat[part][leaf], ref[part][leaf], rtol=1e-5, atol=1e-7,
                                   err_msg=f'step {step + 1}: {part}.{leaf}')
    # The weights' changes too, each to 1e-4 of its size: an update off by less than the
    # weights' float32 rounding would hide inside the comparison above, while that
    # rounding (3e-8 at 0.5) is only a few 1e-6 of a 1e-2 update.
    for side in ('d', 'g'):
      for leaf in ref[side]:
        was = before[side][leaf]
        np.testing.assert_allclose(got_flat[side][leaf] - was, ref[side][leaf] - was,
                                   rtol=1e-4, atol=1e-7,
                                   err_msg=f'step {step + 1}: {side}.{leaf} update')
    for name, value in ref_metrics.items():
      np.testing.assert_allclose(float(metrics[name]), value, rtol=1e-5, err_msg=name)


def test_reference_gradients_match_finite_differences():
  """The hand-derived backward passes above against central differences of the losses."""
  rng = np.random.default_rng(1)
  shapes = {'W0': (LATENT, HIDDEN), 'b0': (HIDDEN,), 'W1': (HIDDEN, DIM), 'b1': (DIM,)}
  g = {k: rng.normal(0, 0.5, s) for k, s in shapes.items()}
  d = {k: rng.normal(0, 0.5, s) for k, s in
       {'W0': (DIM, HIDDEN), 'b0': (HIDDEN,), 'W1': (HIDDEN, 1), 'b1': (1,)}.items()}
  real, z = rng.normal(size=(5, DIM)), rng.normal(size=(5, LATENT))

  def check(loss_fn, params, grads):
    h = 1e-6
    for k, value in params.items():
      numeric = np.zeros_like(value)
      for i in np.ndindex(value.shape):
        plus, minus = dict(params), dict(params)
        plus[k], minus[k] = value.copy(), value.copy()
        plus[k][i] += h
        minus[k][i] -= h
        numeric[i] = (loss_fn(plus) - loss_fn(minus)) / (2 * h)
      np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-9, err_msg=k)

  check(lambda p: _d_loss(p, g, real, z)[0], d, _d_loss(d, g, real, z)[1])
  check(lambda p: _g_loss(p, d, z)[0], g, _g_loss(g, d, z)[1])
