"""gan_jax/core/optim.py: every schedule and every optimizer against hand-written formulas.

The expected values are written here in float64 NumPy from the definitions, never taken
from optax or from `make_schedule` itself:

  constant  lr
  linear    lr for the first round(constant_fraction * S) updates (H of them), then
            lr * (1 - (k - H) / (S - H)) at update k, reaching 0 at k = S and staying there
  cosine    lr * (1 + cos(pi * k / S)) / 2 for k <= S, then 0
  warmup    lr * k / W for the first W updates, then the schedule above over S = N - W
            updates, counted from the end of the warm-up

with k the player's update count (from 0) and N its number of updates. The optimizers:

  sgd       p -= lr_k g; with momentum mu, t = mu t + g, p -= lr_k t
  rmsprop   s = 0.9 s + 0.1 g^2, p -= lr_k g / sqrt(s + 1e-8) (Tieleman & Hinton's RMSProp
            with optax's constants: decay 0.9, epsilon under the square root)
  adam      m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
            p -= lr_k (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t) + eps_root) + 1e-8)
            (Kingma & Ba 2015, t = k + 1), eps_root = 1e-8 when differentiable, else 0
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.core import optim
from tiny_configs import tiny_config

LR = 0.1


def _optim_config(**fields):
  config = tiny_config().optim
  config.update(fields)
  return config


def _schedule_values(config, num_steps, counts):
  schedule = optim.make_schedule(config, LR, num_steps)
  return np.array([float(schedule(k)) for k in counts])


def _linear(k, hold, span):
  """The hand-written linear decay at update k after `hold` updates at LR."""
  if k < hold:
    return LR
  return LR * max(0.0, 1.0 - (k - hold) / span)


def _cosine(k, span):
  return LR * (1.0 + math.cos(math.pi * min(k, span) / span)) / 2.0


# (fields, N, expected rate of update k for k = 0..N+2)
SCHEDULES = {
    'constant': ({'schedule': 'constant'}, 10, lambda k: LR),
    'linear': ({'schedule': 'linear'}, 10, lambda k: _linear(k, 0, 10)),
    # CycleGAN's: held for half the updates (5 of 10), then down to 0 over the other 5.
    'linear_half_constant': ({'schedule': 'linear', 'constant_fraction': 0.5}, 10,
                             lambda k: _linear(k, 5, 5)),
    # round(0.37 * 10) = 4 held (not 3: rounded, not truncated), then 6 decaying.
    'linear_rounded_fraction': ({'schedule': 'linear', 'constant_fraction': 0.37}, 10,
                                lambda k: _linear(k, 4, 6)),
    'cosine': ({'schedule': 'cosine'}, 10, lambda k: _cosine(k, 10)),
    'constant_warmup': ({'schedule': 'constant', 'warmup_steps': 4}, 10,
                        lambda k: LR * k / 4 if k < 4 else LR),
    # 4 warm-up updates, then 6: round(0.5 * 6) = 3 held and 3 decaying.
    'linear_warmup_half_constant': (
        {'schedule': 'linear', 'warmup_steps': 4, 'constant_fraction': 0.5}, 10,
        lambda k: LR * k / 4 if k < 4 else _linear(k - 4, 3, 3)),
    'cosine_warmup': ({'schedule': 'cosine', 'warmup_steps': 4}, 10,
                      lambda k: LR * k / 4 if k < 4 else _cosine(k - 4, 6)),
}


@pytest.mark.parametrize('name', sorted(SCHEDULES))
def test_schedule_follows_its_formula(name):
  fields, num_steps, expected = SCHEDULES[name]
  counts = range(num_steps + 3)  # Past the end too: the rate must stay at its last value.
  np.testing.assert_allclose(_schedule_values(_optim_config(**fields), num_steps, counts),
                             [expected(k) for k in counts], rtol=1e-6, atol=1e-9)


def test_schedules_reach_zero_at_the_last_update_count():
  # A spot check of the formulas' end points, by hand: the decaying schedules are at 0
  # after N updates, the linear one at LR / 5 before its last update (5 decaying updates).
  half = _schedule_values(_optim_config(schedule='linear', constant_fraction=0.5), 10,
                          [4, 5, 9, 10])
  np.testing.assert_allclose(half, [LR, LR, LR / 5, 0.0], rtol=1e-6, atol=1e-9)
  assert _schedule_values(_optim_config(schedule='cosine'), 10, [10])[0] == pytest.approx(0.0)


def test_bad_schedule_fields_are_errors_that_name_them():
  with pytest.raises(ValueError, match="config.optim.schedule='step'.*constant, linear, cosine"):
    optim.make_schedule(_optim_config(schedule='step'), LR, 10)
  with pytest.raises(ValueError, match='config.optim.constant_fraction=1.0'):
    optim.make_schedule(_optim_config(schedule='linear', constant_fraction=1.0), LR, 10)


# --- optimizers -----------------------------------------------------------------------
# Three updates of a 4-vector with gradients of different signs and sizes, some tiny
# (where Adam's epsilons matter) and one zero.
PARAMS = np.array([0.5, -1.0, 2.0, 0.0])
GRADS = np.array([[0.3, -2.0, 1e-4, 0.0],
                  [-0.1, -1.0, 3e-4, 0.0],
                  [0.2, 0.5, -2e-4, 0.0]])


def _run(tx, grads=GRADS):
  """The params after each update of `tx` from PARAMS (float32, as training runs)."""
  params = jnp.asarray(PARAMS, jnp.float32)
  state = tx.init(params)
  trajectory = []
  for g in grads:
    updates, state = tx.update(jnp.asarray(g, jnp.float32), state, params)
    params = params + updates
    trajectory.append(np.asarray(params, np.float64))
  return np.array(trajectory)


def _sgd(momentum, rates):
  p, t, out = PARAMS.copy(), np.zeros(4), []
  for g, lr in zip(GRADS, rates):
    t = momentum * t + g
    p = p - lr * t
    out.append(p.copy())
  return np.array(out)


def _rmsprop(rates):
  p, s, out = PARAMS.copy(), np.zeros(4), []
  for g, lr in zip(GRADS, rates):
    s = 0.9 * s + 0.1 * g ** 2
    p = p - lr * g / np.sqrt(s + 1e-8)
    out.append(p.copy())
  return np.array(out)


def _adam(b1, b2, eps_root, rates):
  p, m, v, out = PARAMS.copy(), np.zeros(4), np.zeros(4), []
  for t, (g, lr) in enumerate(zip(GRADS, rates), start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t) + eps_root) + 1e-8)
    out.append(p.copy())
  return np.array(out)


CONSTANT = [LR] * 3
# DCGAN's b2 = 0.999 is rounded by 1.3e-8 in float32, and the bias correction 1 - b2^t
# magnifies that a thousandfold (updates 6e-6 too small, beyond float32 precision of the
# rest); 1 - 2^-10 and its powers are exact in float32, so the formulas are compared.
B2 = 1 - 2 ** -10
# Linear over 3 updates: LR, 2/3 LR, 1/3 LR.
LINEAR = [LR, 2 * LR / 3, LR / 3]


@pytest.mark.parametrize('fields, rates, expected', [
    ({'name': 'sgd', 'momentum': 0.0}, CONSTANT, lambda: _sgd(0.0, CONSTANT)),
    ({'name': 'sgd', 'momentum': 0.9}, CONSTANT, lambda: _sgd(0.9, CONSTANT)),
    ({'name': 'sgd', 'momentum': 0.5, 'schedule': 'linear'}, LINEAR, lambda: _sgd(0.5, LINEAR)),
    ({'name': 'rmsprop'}, CONSTANT, lambda: _rmsprop(CONSTANT)),
    ({'name': 'rmsprop', 'schedule': 'linear'}, LINEAR, lambda: _rmsprop(LINEAR)),
    # b1, b2 are the config's (DCGAN's 0.5, and SNGAN's 0 / 0.9), not optax's defaults.
    ({'name': 'adam', 'b1': 0.5, 'b2': B2}, CONSTANT, lambda: _adam(0.5, B2, 0.0, CONSTANT)),
    ({'name': 'adam', 'b1': 0.0, 'b2': 0.9, 'schedule': 'linear'}, LINEAR,
     lambda: _adam(0.0, 0.9, 0.0, LINEAR)),
], ids=['sgd', 'sgd_momentum', 'sgd_momentum_linear', 'rmsprop', 'rmsprop_linear', 'adam',
        'adam_sngan_linear'])
def test_optimizer_follows_its_formula(fields, rates, expected):
  got = _run(optim.make_optimizer(_optim_config(**fields), LR, len(rates)))
  # float32 training against float64 formulas; the zero gradient must leave p[3] at 0.
  np.testing.assert_allclose(got, expected(), rtol=2e-6, atol=1e-7)
  assert np.all(got[:, 3] == 0.0)


def test_differentiable_adam_adds_eps_root_under_the_square_root():
  config = _optim_config(name='adam', b1=0.5, b2=B2)
  got = _run(optim.make_optimizer(config, LR, 3, differentiable=True))
  np.testing.assert_allclose(got, _adam(0.5, B2, 1e-8, CONSTANT), rtol=2e-6, atol=1e-7)
  # The 1e-4 gradients are where eps_root shows: sqrt(1e-8 + 1e-8) against sqrt(1e-8),
  # so their first update shrinks by about 1/sqrt(2) (this also checks the NumPy above).
  plain = _run(optim.make_optimizer(config, LR, 3))
  ratio = (got[0, 2] - PARAMS[2]) / (plain[0, 2] - PARAMS[2])
  assert ratio == pytest.approx(1e-4 / (math.sqrt(2e-8) + 1e-8), rel=1e-3)


def test_differentiable_adam_has_a_finite_derivative_at_a_zero_gradient():
  """d(update)/dg at g = 0 on the first update: -lr / (sqrt(eps_root) + eps) by hand.

  Without eps_root it is 0 * inf = NaN (the derivative of sqrt at 0), which is why
  unrolled GANs, which differentiate through the discriminator's updates, need it.
  """
  config = _optim_config(name='adam', b1=0.5, b2=0.999)

  def first_update(tx, g):
    params = jnp.zeros(3)
    return tx.update(g, tx.init(params), params)[0]

  zero = jnp.zeros(3)
  smooth = jax.jacobian(lambda g: first_update(
      optim.make_optimizer(config, LR, 3, differentiable=True), g))(zero)
  np.testing.assert_allclose(np.diag(smooth), -LR / (1e-4 + 1e-8), rtol=1e-5)
  plain = jax.jacobian(lambda g: first_update(optim.make_optimizer(config, LR, 3), g))(zero)
  assert not np.all(np.isfinite(plain))


def test_unknown_optimizer_is_an_error_that_names_it():
  with pytest.raises(ValueError, match="config.optim.name='lamb'.*adam, rmsprop, sgd"):
    optim.make_optimizer(_optim_config(name='lamb'), LR, 3)


def test_each_side_decays_over_its_own_updates():
  """G's rate decays over num_train_steps updates, D's over n_critic times as many, and
  D's Adam is the differentiable one exactly when the GAN is unrolled."""
  config = tiny_config(**{'optim.name': 'sgd', 'optim.schedule': 'linear', 'optim.g_lr': 0.2,
                          'optim.d_lr': 0.6, 'num_train_steps': 3, 'loss.n_critic': 2})
  optimizers = optim.make_optimizers(config)
  ones = np.ones((7, 4))

  def rates(tx):  # SGD on unit gradients: each update's step is its rate.
    params = _run(tx, grads=ones)
    return -np.diff(np.concatenate([PARAMS[None], params]), axis=0)[:, 0]

  np.testing.assert_allclose(rates(optimizers['g']), [0.2, 0.4 / 3, 0.2 / 3, 0, 0, 0, 0],
                             atol=1e-7)
  np.testing.assert_allclose(rates(optimizers['d']),
                             [0.6 * (1 - k / 6) for k in range(6)] + [0.0], atol=1e-7)

  adam = tiny_config(**{'optim.name': 'adam', 'stabilize.unroll_steps': 2})
  zero = jnp.zeros(2)
  for side, finite in (('d', True), ('g', False)):
    tx = optim.make_optimizers(adam)[side]
    jac = jax.jacobian(lambda g, tx=tx: tx.update(g, tx.init(zero), zero)[0])(zero)
    assert np.all(np.isfinite(jac)) == finite, side
