"""The compiled training step and the compiled sampler.

`make_train_step` returns ONE jitted XLA program per step: `n_critic` discriminator
updates (a `lax.scan`), then one generator update, then the EMA of the generator's
weights. Randomness comes from `fold_in(state.key, state.step)`, so a step is a pure
function of (state, batch) and a resumed run replays exactly. The state is donated.
"""

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from gan_jax import augment
from gan_jax import losses
from gan_jax import models as models_lib
from gan_jax import noise
from gan_jax import optim
from gan_jax import packing
from gan_jax import parallel
from gan_jax.data import on_device
from gan_jax.state import GANState

def ema_decay_at(step: jax.Array, decay: float) -> jax.Array:
  """The EMA decay used at `step`: min(decay, (1 + step) / (10 + step)).

  The ramp (TF's ExponentialMovingAverage `num_updates` rule) keeps early averages from
  being dominated by the random initialisation.
  """
  step = step.astype(jnp.float32)
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def _apply(module, params, batch_stats, inputs, train: bool):
  """Applies a module; returns (outputs, new batch_stats). Eval mode leaves stats as they are."""
  variables = {'params': params, 'batch_stats': batch_stats}
  if not train:
    return module.apply(variables, inputs, train=False), batch_stats
  outputs, updates = module.apply(variables, inputs, train=True, mutable=['batch_stats'])
  return outputs, updates.get('batch_stats', batch_stats)


class LossFns(NamedTuple):
  """The two players' losses as pure functions, for the step and for user code.

  discriminator(d_params, d_batch_stats, g_params, g_batch_stats, real, z, key)
      -> (loss, (new d_batch_stats, parts)); the fake batch G(z) is not differentiated.
  generator(g_params, g_batch_stats, d_params, d_batch_stats, d_opt_state, real, z, key)
      -> (loss, new g_batch_stats); with `stabilize.unroll_steps` = k > 0 the
      discriminator in this loss is the one after k look-ahead updates on (real, G(z)),
      differentiated through (Metz et al. 2016); `real` and `d_opt_state` serve only those.
  """
  discriminator: Callable
  generator: Callable


def make_loss_fns(config, data_shape: tuple) -> LossFns:
  """The discriminator and generator losses of `config`, with every stabilizer applied.

  What the discriminator sees is `view(x)`: DiffAugment (`stabilize.diffaugment`, with
  independent draws for the real and the fake batch, as in Zhao et al.), then PacGAN
  packing (`stabilize.pack`). Penalties (GP, R1) act on the viewed inputs, the inputs
  the critic actually judges.
  """
  generator, discriminator = models_lib.make_models(config.model, tuple(data_shape))
  _, d_tx = optim.make_optimizers(config)
  loss_cfg = config.loss
  pack_size = int(config.stabilize.pack)
  unroll_steps = int(config.stabilize.unroll_steps)
  policy = augment.parse_policy(config.stabilize.diffaugment)
  if policy and len(data_shape) != 3:
    raise ValueError(f'config.stabilize.diffaugment={config.stabilize.diffaugment!r} needs '
                     f'images (H, W, C), but the data has examples of shape {tuple(data_shape)}.')

  def view(x: jax.Array, key: jax.Array) -> jax.Array:
    if policy:
      x = augment.diff_augment(x, key, policy)
    return packing.pack(x, pack_size)

  def d_loss_fn(d_params, d_batch_stats, g_params, g_batch_stats, real, z, key):
    real_key, fake_key, gp_key = jax.random.split(key, 3)
    # The generator runs in train mode as it does in its own update, but its batch
    # statistics only move in the generator update.
    fake, _ = _apply(generator, g_params, g_batch_stats, z, train=True)
    return _d_loss_on(d_params, d_batch_stats, real, jax.lax.stop_gradient(fake),
                      (real_key, fake_key, gp_key))

  def _d_loss_on(d_params, d_batch_stats, real, fake, keys):
    real_key, fake_key, gp_key = keys
    real_in, fake_in = view(real, real_key), view(fake, fake_key)
    real_logits, stats = _apply(discriminator, d_params, d_batch_stats, real_in, train=True)
    fake_logits, stats = _apply(discriminator, d_params, stats, fake_in, train=True)
    adv = losses.discriminator_loss(loss_cfg.name, real_logits, fake_logits)
    # Penalties differentiate the critic per example, which needs a function that
    # does not mix examples: eval mode (running BatchNorm statistics, current
    # spectral-norm estimate). Without BatchNorm the two modes compute the same function.
    critic = lambda x: _apply(discriminator, d_params, stats, x, train=False)[0]
    gp = (losses.gradient_penalty(critic, real_in, fake_in, gp_key)
          if loss_cfg.gradient_penalty > 0 else jnp.zeros(()))
    r1 = losses.r1_penalty(critic, real_in) if loss_cfg.r1 > 0 else jnp.zeros(())
    total = adv + loss_cfg.gradient_penalty * gp + 0.5 * loss_cfg.r1 * r1
    parts = {'d_loss': total, 'd_adv': adv, 'd_gp': gp, 'd_r1': r1,
             'd_real_logit': jnp.mean(real_logits), 'd_fake_logit': jnp.mean(fake_logits)}
    return total, (stats, parts)

  def g_loss_fn(g_params, g_batch_stats, d_params, d_batch_stats, d_opt_state, real, z, key):
    unroll_key, view_key = jax.random.split(key)
    fake, new_g_batch_stats = _apply(generator, g_params, g_batch_stats, z, train=True)
    if unroll_steps:
      # Look ahead: k discriminator updates against this very fake batch, kept in the
      # graph so that the generator's gradient anticipates how D would respond.
      def look_ahead(carry, step_key):
        params, stats, opt_state = carry
        grads, (stats, _) = jax.grad(_d_loss_on, has_aux=True)(
            params, stats, real, fake, tuple(jax.random.split(step_key, 3)))
        params, opt_state = apply_d_gradients(d_tx, loss_cfg, params, opt_state, grads)
        return (params, stats, opt_state), None

      (d_params, d_batch_stats, _), _ = jax.lax.scan(
          look_ahead, (d_params, d_batch_stats, d_opt_state),
          jax.random.split(unroll_key, unroll_steps))
    # The discriminator sees the fake batch in train mode, as in its own update; the
    # statistics it would collect here are discarded (they describe fakes only).
    fake_logits, _ = _apply(discriminator, d_params, d_batch_stats, view(fake, view_key),
                            train=True)
    return losses.generator_loss(loss_cfg.name, fake_logits), new_g_batch_stats

  return LossFns(discriminator=d_loss_fn, generator=g_loss_fn)


def apply_d_gradients(d_tx, loss_cfg, d_params, d_opt_state, grads):
  """One discriminator optimizer update, then weight clipping when configured (WGAN)."""
  updates, d_opt_state = d_tx.update(grads, d_opt_state, d_params)
  d_params = optax.apply_updates(d_params, updates)
  if loss_cfg.clip_weights > 0:
    d_params = losses.clip_weights(d_params, loss_cfg.clip_weights)
  return d_params, d_opt_state


def make_train_step_fn(config, data_shape: tuple, data_sharding=None):
  """The un-jitted step `(state, batch) -> (state, metrics)`, for composing in user code.

  `batch['x']` holds `n_critic * B` examples: critic update i uses the examples whose
  index is i modulo n_critic. Grouping them that way keeps every device's rows on that
  device when the batch is sharded along its leading axis. For data drawn on device
  (`config.data.draw_on_device`, fresh-sample 2-D mixtures) the step draws its own examples
  from (key, step) and ignores `batch`, which may be None. `data_sharding`, when given,
  lays out those drawn examples as a loaded batch would be.
  """
  loss_fns = make_loss_fns(config, data_shape)
  g_tx, d_tx = optim.make_optimizers(config)
  loss_cfg = config.loss
  n_critic = int(loss_cfg.n_critic)
  latent_dim = int(config.model.latent_dim)
  batch_size = int(config.batch_size)
  ema_decay = float(config.optim.ema_decay)
  device_sampler = on_device.make_device_sampler(config.data)

  def d_update(state: GANState, carry, inputs):
    d_params, d_batch_stats, d_opt_state = carry
    real, key = inputs
    z_key, loss_key = jax.random.split(key)
    z = noise.latent_normal(z_key, (real.shape[0], latent_dim))
    grads, (d_batch_stats, parts) = jax.grad(loss_fns.discriminator, has_aux=True)(
        d_params, d_batch_stats, state.g_params, state.g_batch_stats, real, z, loss_key)
    d_params, d_opt_state = apply_d_gradients(d_tx, loss_cfg, d_params, d_opt_state, grads)
    return (d_params, d_batch_stats, d_opt_state), parts

  def g_update(state: GANState, real, key):
    z_key, loss_key = jax.random.split(key)
    z = noise.latent_normal(z_key, (batch_size, latent_dim))
    (g_loss, g_batch_stats), grads = jax.value_and_grad(loss_fns.generator, has_aux=True)(
        state.g_params, state.g_batch_stats, state.d_params, state.d_batch_stats,
        state.d_opt_state, real, z, loss_key)
    updates, g_opt_state = g_tx.update(grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    return g_params, g_batch_stats, g_opt_state, g_loss

  def train_step(state: GANState, batch: dict | None):
    key = jax.random.fold_in(state.key, state.step)
    d_key, g_key, data_key = jax.random.split(key, 3)
    if device_sampler is not None:
      x = device_sampler(data_key, n_critic * batch_size)
      if data_sharding is not None:
        x = jax.lax.with_sharding_constraint(x, data_sharding)
    else:
      x = batch['x']
    per_update = x.shape[0] // n_critic
    # (n_critic * B, ...) -> (n_critic, B, ...) with row j going to update j % n_critic.
    reals = jnp.swapaxes(x.reshape(per_update, n_critic, *x.shape[1:]), 0, 1)
    carry = (state.d_params, state.d_batch_stats, state.d_opt_state)
    carry, d_parts = jax.lax.scan(functools.partial(d_update, state), carry,
                                  (reals, jax.random.split(d_key, n_critic)))
    d_params, d_batch_stats, d_opt_state = carry
    state = state.replace(d_params=d_params, d_batch_stats=d_batch_stats,
                          d_opt_state=d_opt_state)

    # Unrolling looks ahead on the real batch of the last critic update.
    g_params, g_batch_stats, g_opt_state, g_loss = g_update(state, reals[-1], g_key)
    if ema_decay > 0:
      decay = ema_decay_at(state.step, ema_decay)
      ema_params = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p,
                                state.ema_params, g_params)
    else:
      ema_params = g_params
    state = state.replace(step=state.step + 1, g_params=g_params, g_batch_stats=g_batch_stats,
                          g_opt_state=g_opt_state, ema_params=ema_params)
    # Metrics of the last critic update: the one the generator update responded to.
    metrics = {k: v[-1] for k, v in d_parts.items()}
    metrics['g_loss'] = g_loss
    return state, metrics

  return train_step


def make_multi_step_fn(step_fn: Callable, steps: int) -> Callable:
  """`steps` steps in one program: `(state, batches) -> (state, metrics stacked over steps)`.

  `batches['x']` has a leading axis of `steps` (one batch per step), or `batches` is None
  when the data is drawn on device. The result equals `steps` calls of `step_fn`,
  without a dispatch from Python per step.
  """
  def multi_step(state: GANState, batches: dict | None):
    return jax.lax.scan(step_fn, state, batches, length=steps)

  return multi_step


def make_train_step(config, mesh, data_shape: tuple, steps_per_call: int = 1):
  """The jitted training step over `mesh`: state replicated, batch sharded, state donated.

  Args:
    config: the run's ConfigDict.
    mesh: a 1-D `data` mesh (see `parallel.make_mesh`); one device gives a 1-device run.
    data_shape: the shape of one example, (H, W, C) for images or (D,) for points.
    steps_per_call: K > 1 runs K steps per call in one `lax.scan` (see
      `make_multi_step_fn`): batches then carry a leading axis of K and the metrics
      come back stacked over K.
  Returns:
    `train_step(state, batch) -> (state, metrics)`; `batch` is `{'x': (n_critic * B, ...)}`
    with B = config.batch_size, laid out as `parallel.global_batch` makes it, or None
    when the data is drawn on device.
  """
  parallel.check_batch_size(config.batch_size, mesh)
  replicated = parallel.replicated(mesh)
  batch_sharded = parallel.batch_sharded(mesh)
  step_fn = make_train_step_fn(config, data_shape, data_sharding=batch_sharded)
  if steps_per_call == 1:
    return jax.jit(step_fn, in_shardings=(replicated, batch_sharded),
                   out_shardings=(replicated, replicated), donate_argnums=0)
  return jax.jit(make_multi_step_fn(step_fn, steps_per_call),
                 in_shardings=(replicated, parallel.stacked_batch_sharded(mesh)),
                 out_shardings=(replicated, replicated), donate_argnums=0)


def make_sample_fn(config, data_shape: tuple, use_ema: bool | None = None):
  """Jitted `sample(state, z) -> samples` from the generator in eval mode.

  Uses the EMA weights when EMA is on (`config.optim.ema_decay > 0`) unless `use_ema`
  says otherwise; BatchNorm uses the generator's running statistics. Samples are in data
  space: images NHWC in [-1, 1], points (N, D).
  """
  generator, _ = models_lib.make_models(config.model, tuple(data_shape))
  if use_ema is None:
    use_ema = config.optim.ema_decay > 0

  @jax.jit
  def sample(state: GANState, z: jax.Array) -> jax.Array:
    params = state.ema_params if use_ema else state.g_params
    return _apply(generator, params, state.g_batch_stats, z, train=False)[0]

  return sample
