"""The unconditional GAN (Goodfellow et al. 2014; DCGAN, SNGAN, WGAN, ...): G(z) against D(x).

The generator maps Gaussian noise to examples; the discriminator scores what `view`
(DiffAugment, PacGAN packing) shows it of real and generated batches. The adversarial
loss is `config.loss.name`; WGAN-GP, R1 and weight clipping act on the critic, and
`stabilize.unroll_steps` makes the generator's loss look ahead k discriminator updates.

Conditional games subclass this one and override only what the label changes: which
inputs each player takes (`g_inputs`, `d_inputs`), what an update draws (`draw`), the
logit the adversarial loss reads (`adversarial_logits`) and extra loss terms
(`d_extra_loss`, `g_extra_loss`).
"""

import jax
import jax.numpy as jnp

from gan_jax import losses
from gan_jax import models as models_lib
from gan_jax import noise
from gan_jax.stabilize import packing
from gan_jax.games import base
from gan_jax.stabilize import unrolling
from gan_jax.stabilize.view import make_view


class Unconditional(base.Game):
  """G(z) -> x and D(x) -> logit, with every stabilizer of `config.stabilize` and `config.loss`."""
  name = 'unconditional'

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    super().__init__(config, data_shape, num_classes)
    self.view = make_view(config.stabilize, self.data_shape)
    self.latent_dim = int(config.model.latent_dim)

  # --- players and their inputs ---------------------------------------------------------
  def make_players(self) -> dict:
    generator, discriminator = models_lib.make_models(self.config.model, self.data_shape)
    return {'g': generator, 'd': discriminator}

  def init_inputs(self) -> dict:
    z = base.zeros_like_inputs((self.latent_dim,))
    # The discriminator judges packs of `stabilize.pack` examples (PacGAN).
    x = base.zeros_like_inputs(packing.packed_shape(self.data_shape, self.config.stabilize.pack))
    return {'g': self.g_inputs(z, jnp.zeros((2,), jnp.int32)),
            'd': self.d_inputs(x, jnp.zeros((2,), jnp.int32))}

  def g_inputs(self, z: jax.Array, labels: jax.Array) -> dict:
    """The generator's keyword arguments for noise `z` and requested `labels`."""
    del labels
    return {'z': z}

  def d_inputs(self, x: jax.Array, labels: jax.Array) -> dict:
    """The discriminator's keyword arguments for (viewed) examples `x` with `labels`."""
    del labels
    return {'x': x}

  def adversarial_logits(self, outputs) -> jax.Array:
    """The real-vs-fake logits in the discriminator's outputs."""
    return outputs

  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """Noise z for as many fakes as the update has real examples."""
    del side
    return dict(batch, z=noise.latent_normal(key, (batch['x'].shape[0], self.latent_dim)))

  def fake_labels(self, batch: dict) -> jax.Array | None:
    """The labels the fakes of an update are asked for (none here)."""
    del batch
    return None

  # --- losses ----------------------------------------------------------------------------
  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    if side == 'd':
      return self.discriminator_loss(params['d'], state, batch, key)
    return self.generator_loss(params['g'], state, batch, key, ctx)

  def generate(self, g_params, g_batch_stats, batch: dict, train: bool = True):
    """(fakes, new generator batch stats) for the update's z and fake labels."""
    inputs = self.g_inputs(batch['z'], self.fake_labels(batch))
    return base.apply(self.modules['g'], g_params, g_batch_stats, inputs, train=train)

  def discriminator_loss(self, d_params, state, batch: dict, key: jax.Array):
    """The discriminator side's loss on a real batch and the fakes of its z."""
    # The generator runs in train mode as it does in its own update, but its batch
    # statistics only move in the generator update.
    fake, _ = self.generate(state.params['g'], state.batch_stats['g'], batch)
    d_stats, metrics = self.d_loss_on(d_params, state.batch_stats['d'], batch,
                                      jax.lax.stop_gradient(fake), key)
    return metrics['d_loss'], ({'d': d_stats}, metrics)

  def d_loss_on(self, d_params, d_batch_stats, batch: dict, fake: jax.Array, key: jax.Array):
    """(new D batch stats, metrics with 'd_loss') of D on `batch`'s reals and `fake`."""
    real_key, fake_key, gp_key = jax.random.split(key, 3)
    real_labels, fake_labels = batch.get('y'), self.fake_labels(batch)
    discriminator = self.modules['d']
    real_in, fake_in = self.view(batch['x'], real_key), self.view(fake, fake_key)
    real_out, stats = base.apply(discriminator, d_params, d_batch_stats,
                                 self.d_inputs(real_in, real_labels), train=True)
    fake_out, stats = base.apply(discriminator, d_params, stats,
                                 self.d_inputs(fake_in, fake_labels), train=True)
    real_logits, fake_logits = self.adversarial_logits(real_out), self.adversarial_logits(fake_out)
    loss_cfg = self.config.loss
    adv = losses.discriminator_loss(loss_cfg.name, real_logits, fake_logits)
    # Penalties differentiate the critic per example, which needs a function that does
    # not mix examples: eval mode (running BatchNorm statistics, current spectral-norm
    # estimate). Without BatchNorm the two modes compute the same function. Interpolates
    # are judged under the real examples' labels.
    def critic(x):
      outputs = base.apply(discriminator, d_params, stats, self.d_inputs(x, real_labels),
                           train=False)[0]
      return self.adversarial_logits(outputs)

    gp = (losses.gradient_penalty(critic, real_in, fake_in, gp_key)
          if loss_cfg.gradient_penalty > 0 else jnp.zeros(()))
    r1 = losses.r1_penalty(critic, real_in) if loss_cfg.r1 > 0 else jnp.zeros(())
    total = adv + loss_cfg.gradient_penalty * gp + 0.5 * loss_cfg.r1 * r1
    metrics = {'d_adv': adv, 'd_gp': gp, 'd_r1': r1,
               'd_real_logit': jnp.mean(real_logits), 'd_fake_logit': jnp.mean(fake_logits)}
    extra = self.d_extra_loss(real_out, fake_out, batch)
    if extra is not None:
      term, extra_metrics = extra
      total = total + term
      metrics.update(extra_metrics)
    # Its own key stream (folded in), so games without the term draw what they always drew.
    on_fakes = self.fakes_extra_loss('d', d_params, stats, fake, batch,
                                     jax.random.fold_in(key, 1))
    if on_fakes is not None:
      term, extra_metrics = on_fakes
      total = total + term
      metrics.update(extra_metrics)
    metrics['d_loss'] = total
    return stats, metrics

  def generator_loss(self, g_params, state, batch: dict, key: jax.Array, ctx: base.Context):
    """The generator side's loss: D's verdict on G(z), after k look-ahead updates if unrolled."""
    unroll_key, view_key = jax.random.split(key)
    fake, g_stats = self.generate(g_params, state.batch_stats['g'], batch)
    d_params, d_stats = state.params['d'], state.batch_stats['d']
    unroll_steps = int(self.config.stabilize.unroll_steps)
    if unroll_steps:
      def d_loss_fn(params, stats, step_key):
        new_stats, metrics = self.d_loss_on(params, stats, batch, fake, step_key)
        return metrics['d_loss'], (new_stats, metrics)

      def apply_gradients(params, opt_state, grads):
        new_params, new_opt = ctx.apply_gradients('d', {'d': params}, opt_state, {'d': grads})
        return new_params['d'], new_opt

      d_params, d_stats = unrolling.look_ahead(d_loss_fn, apply_gradients, d_params, d_stats,
                                               state.opt['d'], unroll_steps, unroll_key)
    # The discriminator sees the fake batch in train mode, as in its own update; the
    # statistics it would collect here are discarded (they describe fakes only).
    fake_out, _ = base.apply(self.modules['d'], d_params, d_stats,
                             self.d_inputs(self.view(fake, view_key), self.fake_labels(batch)),
                             train=True)
    g_loss = losses.generator_loss(self.config.loss.name, self.adversarial_logits(fake_out))
    metrics = {}
    extra = self.g_extra_loss(fake_out, batch)
    if extra is not None:
      term, metrics = extra
      g_loss = g_loss + term
    on_fakes = self.fakes_extra_loss('g', d_params, d_stats, fake, batch,
                                     jax.random.fold_in(key, 1))
    if on_fakes is not None:
      term, extra_metrics = on_fakes
      g_loss = g_loss + term
      metrics = {**metrics, **extra_metrics}
    metrics['g_loss'] = g_loss
    return g_loss, ({'g': g_stats}, metrics)

  def d_extra_loss(self, real_out, fake_out, batch: dict):
    """An extra discriminator term and its metrics, or None (AC-GAN's class loss)."""
    del real_out, fake_out, batch
    return None

  def g_extra_loss(self, fake_out, batch: dict):
    """An extra generator term and its metrics, or None."""
    del fake_out, batch
    return None

  def fakes_extra_loss(self, side: str, d_params, d_batch_stats, fake: jax.Array, batch: dict,
                       key: jax.Array):
    """An extra term of either side ('d' or 'g') that runs D again on what it makes of
    the fakes themselves (before `view`), and its metrics, or None (InfoGAN's codes read
    from warped fakes). D's batch statistics from such a pass are discarded."""
    del side, d_params, d_batch_stats, fake, batch, key
    return None

  # --- sampling ----------------------------------------------------------------------------
  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    params = state.ema['g'] if use_ema else state.params['g']
    inputs = self.g_inputs(z, labels)
    return base.apply(self.modules['g'], params, state.batch_stats['g'], inputs, train=False)[0]
