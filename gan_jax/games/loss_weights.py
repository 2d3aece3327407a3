"""Loss weights that follow the training step, computed inside the compiled step.

SRGAN ramps its adversarial weight up from 0 (`game.srgan.adversarial_warmup_steps`);
InfoGAN holds its continuous codes' weight at 0 until a step, then ramps it
(`game.infogan.continuous_start_step`, `continuous_ramp_steps`). Both are this ramp.
"""

import jax
import jax.numpy as jnp


def ramped_weight(step: jax.Array, weight: float, start_step: int, ramp_steps: int) -> jax.Array:
  """`weight` at `step`: 0 before `start_step`, then linear up to `weight` over
  `ramp_steps` steps (all of it from `start_step` on when `ramp_steps` is 0)."""
  step = jnp.asarray(step).astype(jnp.float32)
  if ramp_steps <= 0:
    return jnp.where(step >= start_step, weight, 0.0).astype(jnp.float32)
  return weight * jnp.clip((step - start_step) / float(ramp_steps), 0.0, 1.0)
