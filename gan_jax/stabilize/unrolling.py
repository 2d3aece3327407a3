"""Unrolled GANs (Metz et al. 2016): the generator's loss sees D after k look-ahead updates.

The k discriminator updates are made on the very batch the generator is judged on and
kept in the graph, so the generator's gradient anticipates how D would respond to it.
"""

from typing import Callable

import jax


def look_ahead(d_loss_fn: Callable, apply_gradients: Callable, d_params, d_batch_stats,
               d_opt_state, steps: int, key: jax.Array):
  """(d_params, d_batch_stats) after `steps` differentiable discriminator updates.

  Args:
    d_loss_fn: `(d_params, d_batch_stats, key) -> (loss, (d_batch_stats, metrics))`, the
      discriminator's loss on the fixed real and fake batch.
    apply_gradients: `(params, opt_state, grads) -> (params, opt_state)`, the update the
      step itself makes (so Adam's moments and weight clipping are looked ahead too).
    steps: k, the number of look-ahead updates.
    key: split into one key per update.
  """
  def update(carry, step_key):
    params, stats, opt_state = carry
    grads, (stats, _) = jax.grad(d_loss_fn, has_aux=True)(params, stats, step_key)
    params, opt_state = apply_gradients(params, opt_state, grads)
    return (params, stats, opt_state), None

  (d_params, d_batch_stats, _), _ = jax.lax.scan(
      update, (d_params, d_batch_stats, d_opt_state), jax.random.split(key, steps))
  return d_params, d_batch_stats
