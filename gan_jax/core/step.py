"""The compiled training step and the compiled sampler, the same for every game.

`make_train_step` returns ONE jitted XLA program per step: `n_critic` updates of the
game's discriminator side (a `lax.scan`), then one update of its generator side, then
the EMAs and the game's extra state. What the players are, what they see and their
losses come from the game (`config.game.name`, see `gan_jax/games/`); nothing here
branches on the family. Randomness comes from `fold_in(state.key, state.step)`, so a
step is a pure function of (state, batch) and a resumed run replays exactly. The state
is donated.
"""

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from gan_jax import games
from gan_jax import losses
from gan_jax.core import optim
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.data import on_device
from gan_jax.core.state import GameState


def ema_decay_at(step: jax.Array, decay: float) -> jax.Array:
  """The EMA decay used at `step`: min(decay, (1 + step) / (10 + step)).

  The ramp (TF's ExponentialMovingAverage `num_updates` rule) keeps early averages from
  being dominated by the random initialisation.
  """
  step = step.astype(jnp.float32)
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def make_apply_gradients(config, optimizers: dict):
  """`apply_gradients(side, params, opt_state, grads) -> (params, opt_state)`: one update.

  `params` is the side's {player: params}. The discriminator side's weights are then
  clipped when `loss.clip_weights` is set (WGAN).
  """
  clip = float(config.loss.clip_weights)

  def apply_gradients(side: str, params: dict, opt_state, grads: dict):
    updates, opt_state = optimizers[side].update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    if side == 'd' and clip > 0:
      params = losses.clip_weights(params, clip)
    return params, opt_state

  return apply_gradients


def make_context(config) -> games.Context:
  """The optimizers of a run and their update rule, as the games' losses receive them."""
  optimizers = optim.make_optimizers(config)
  return games.Context(optimizers=optimizers,
                       apply_gradients=make_apply_gradients(config, optimizers))


def make_train_step_fn(config, data_shape: tuple, data_sharding=None, num_classes: int = 0):
  """The un-jitted step `(state, batch) -> (state, metrics)`, for composing in user code.

  Every array of `batch` (`'x'`, and `'y'` for labelled data) holds `n_critic * B`
  examples: critic update i uses the examples whose index is i modulo n_critic.
  Grouping them that way keeps every device's rows on that device when the batch is
  sharded along its leading axis. For data drawn on device (`config.data.draw_on_device`,
  fresh-sample 2-D mixtures) the step draws its own examples from (key, step) and
  ignores `batch`, which may be None. `data_sharding`, when given, lays out those drawn
  examples as a loaded batch would be. `num_classes` is the data's (conditional games).

  The step is the same for every game (`config.game.name`): `n_critic` updates of the
  discriminator side, one of the generator side, the EMAs, the game's extra state.
  """
  game = games.make_game(config, data_shape, num_classes)
  ctx = make_context(config)
  n_critic = int(config.loss.n_critic)
  batch_size = int(config.batch_size)
  ema_decay = float(config.optim.ema_decay)
  device_sampler = on_device.make_device_sampler(config.data)

  def side_update(side: str, state: GameState, batch: dict, key: jax.Array):
    """One optimizer update of `side`'s players on `batch`; returns (state, metrics,
    the loss's outputs for `update_extra`, {} when it has none)."""
    players = game.sides[side]
    draw_key, loss_key = jax.random.split(key)
    batch = game.draw(side, batch, draw_key)
    params = state_lib.side_params(state.params, players)
    grads, aux = jax.grad(game.loss, argnums=1, has_aux=True)(
        side, params, state, batch, loss_key, ctx)
    new_stats, metrics, *outputs = aux
    params, opt_state = ctx.apply_gradients(side, params, state.opt[side], grads)
    state = state.replace(params={**state.params, **params},
                          batch_stats={**state.batch_stats, **new_stats},
                          opt={**state.opt, side: opt_state})
    return state, metrics, (outputs[0] if outputs else {})

  def train_step(state: GameState, batch: dict | None):
    key = jax.random.fold_in(state.key, state.step)
    d_key, g_key, data_key = jax.random.split(key, 3)
    if device_sampler is not None:
      batch = device_sampler(data_key, n_critic * batch_size)
      if data_sharding is not None:
        batch = jax.lax.with_sharding_constraint(batch, data_sharding)
    # Every array of the batch ('x', 'y'; 'src'; 'a', 'b'; ...) has the same leading size.
    per_update = jax.tree.leaves(batch)[0].shape[0] // n_critic
    # (n_critic * B, ...) -> (n_critic, B, ...) with row j going to update j % n_critic.
    batches = {name: jnp.swapaxes(v.reshape(per_update, n_critic, *v.shape[1:]), 0, 1)
               for name, v in batch.items()}

    d_players = game.sides['d']

    def d_update(carry, inputs):
      # Only the discriminator side's players and optimizer change inside the scan, so
      # only they are carried; the rest of the state is read from the closure.
      params, batch_stats, opt_state = carry
      real, update_key = inputs
      inner = state.replace(params={**state.params, **params},
                            batch_stats={**state.batch_stats, **batch_stats},
                            opt={**state.opt, 'd': opt_state})
      inner, metrics, _ = side_update('d', inner, real, update_key)
      return (state_lib.side_params(inner.params, d_players),
              state_lib.side_params(inner.batch_stats, d_players), inner.opt['d']), metrics

    carry = (state_lib.side_params(state.params, d_players),
             state_lib.side_params(state.batch_stats, d_players), state.opt['d'])
    carry, d_metrics = jax.lax.scan(d_update, carry,
                                    (batches, jax.random.split(d_key, n_critic)))
    params, batch_stats, d_opt = carry
    state = state.replace(params={**state.params, **params},
                          batch_stats={**state.batch_stats, **batch_stats},
                          opt={**state.opt, 'd': d_opt})
    # The generator side's update (and unrolling's look-ahead) uses the real batch of
    # the last critic update.
    last = {name: v[-1] for name, v in batches.items()}
    state, g_metrics, g_outputs = side_update('g', state, last, g_key)
    if ema_decay > 0:
      decay = ema_decay_at(state.step, ema_decay)
      ema = {name: jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p,
                                state.ema[name], state.params[name])
             for name in game.ema_players}
    else:
      ema = {name: state.params[name] for name in game.ema_players}
    # Its own key: fold_in gives one that none of the splits above can equal.
    extra = game.update_extra(state, last, g_outputs, jax.random.fold_in(key, 1))
    state = state.replace(step=state.step + 1, ema=ema, extra=extra)
    # Metrics of the last critic update: the one the generator update responded to.
    metrics = {k: v[-1] for k, v in d_metrics.items()}
    metrics.update(g_metrics)
    return state, metrics

  return train_step


def make_multi_step_fn(step_fn: Callable, steps: int) -> Callable:
  """`steps` steps in one program: `(state, batches) -> (state, metrics stacked over steps)`.

  `batches['x']` has a leading axis of `steps` (one batch per step), or `batches` is None
  when the data is drawn on device. The result equals `steps` calls of `step_fn`,
  without a dispatch from Python per step.
  """
  def multi_step(state: GameState, batches: dict | None):
    return jax.lax.scan(step_fn, state, batches, length=steps)

  return multi_step


def make_train_step(config, mesh, data_shape: tuple, steps_per_call: int = 1,
                    num_classes: int = 0):
  """The jitted training step over `mesh`: state replicated, batch sharded, state donated.

  Args:
    config: the run's ConfigDict.
    mesh: a 1-D `data` mesh (see `parallel.make_mesh`); one device gives a 1-device run.
    data_shape: the shape of one example, (H, W, C) for images or (D,) for points.
    steps_per_call: K > 1 runs K steps per call in one `lax.scan` (see
      `make_multi_step_fn`): batches then carry a leading axis of K and the metrics
      come back stacked over K.
    num_classes: the data's number of classes (conditional games need it).
  Returns:
    `train_step(state, batch) -> (state, metrics)`; `batch` is `{'x': (n_critic * B, ...),
    'y': (n_critic * B,)}` with B = config.batch_size, laid out as `parallel.global_batch` makes it, or None
    when the data is drawn on device.
  """
  parallel.check_batch_size(config.batch_size, mesh)
  replicated = parallel.replicated(mesh)
  batch_sharded = parallel.batch_sharded(mesh)
  step_fn = make_train_step_fn(config, data_shape, data_sharding=batch_sharded,
                               num_classes=num_classes)
  if steps_per_call == 1:
    return jax.jit(step_fn, in_shardings=(replicated, batch_sharded),
                   out_shardings=(replicated, replicated), donate_argnums=0)
  return jax.jit(make_multi_step_fn(step_fn, steps_per_call),
                 in_shardings=(replicated, parallel.stacked_batch_sharded(mesh)),
                 out_shardings=(replicated, replicated), donate_argnums=0)


def make_sample_fn(config, data_shape: tuple, use_ema: bool | None = None,
                   num_classes: int = 0):
  """Jitted `sample(state, z, labels=None) -> samples` from the generator in eval mode.

  Uses the EMA weights when EMA is on (`config.optim.ema_decay > 0`) unless `use_ema`
  says otherwise; BatchNorm uses the generator's running statistics. Samples are in data
  space: images NHWC in [-1, 1], points (N, D). `labels` (int, (N,)) are the requested
  classes of a conditional game; unconditional games ignore them.
  """
  game = games.make_game(config, data_shape, num_classes)
  if use_ema is None:
    use_ema = config.optim.ema_decay > 0

  @jax.jit
  def sample(state: GameState, z: jax.Array, labels: jax.Array | None = None) -> jax.Array:
    return game.sample(state, z, labels, use_ema=use_ema)

  return sample
