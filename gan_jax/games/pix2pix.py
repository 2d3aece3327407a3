"""pix2pix (Isola et al. 2017): paired image-to-image translation, G(src) -> dst against D(src, dst).

The generator is a U-Net whose only noise is dropout (drawn from the step's key, so a
resumed run replays exactly); the discriminator is a conditional PatchGAN that judges
the source and a target (real or translated) stacked along the channels, one logit per
patch. Losses, with `config.loss.name` the adversarial loss (the paper: the
non-saturating GAN loss):

  D:  0.5 * [loss(D(src, dst), real) + loss(D(src, G(src)), fake)]   (halved, as the paper)
  G:  adversarial_weight * loss(D(src, G(src)), real) + l1_weight * mean |G(src) - dst|

with the loss averaged over every patch of every example. `game.pix2pix.l1_weight=0`
is the paper's "cGAN only" ablation and `adversarial_weight=0` its "L1 only" (D is then
not trained at all). Batches carry 'src' and 'x' (the target; see `data/paired.py`).
Loaded runs translate (`load_run(wd).translate(src)`) with the EMA generator in eval
mode: running BatchNorm statistics and no dropout, so a translation is deterministic
(the paper kept dropout at test time; call the module in train mode for that).
"""

import jax
import jax.numpy as jnp

from gan_jax import losses
from gan_jax import models
from gan_jax.data import paired
from gan_jax.games import base


class Pix2Pix(base.TranslationGame):
  """U-Net G(src) -> dst and conditional PatchGAN D(src, dst), with an L1 term."""
  name = 'pix2pix'
  reads_pairs = True

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    self.check_image_data(data_shape)
    if not config.data.pairs:
      raise ValueError('config.game.name=pix2pix needs paired data: set config.data.pairs '
                       f'({", ".join(paired.PAIRS)}).')
    if config.data.pairs in paired.DERIVED_AFTER_AUGMENTATION:
      raise ValueError(f'config.data.pairs={config.data.pairs!r} makes smaller sources, which '
                       "pix2pix's U-Net cannot map to same-size targets; use "
                       'config.game.name=srgan.')
    self.src_shape = (*data_shape[:2], paired.source_channels(config.data.pairs, data_shape[-1]))
    self.settings = config.game.pix2pix
    super().__init__(config, data_shape, num_classes)

  def make_players(self) -> dict:
    generator, discriminator = models.make_translation_models(
        self.config.model, self.src_shape, self.data_shape, float(self.settings.dropout))
    return {'g': generator, 'd': discriminator}

  def init_inputs(self) -> dict:
    src = base.zeros_like_inputs(self.src_shape)
    return {'g': {'src': src}, 'd': {'src': src, 'x': base.zeros_like_inputs(self.data_shape)}}

  def generate(self, g_params, g_batch_stats, src: jax.Array, key: jax.Array):
    """(G(src) in train mode with dropout from `key`, new generator batch stats)."""
    return base.apply(self.modules['g'], g_params, g_batch_stats, {'src': src}, train=True,
                      rngs={'dropout': key})

  def judge(self, d_params, d_batch_stats, src: jax.Array, x: jax.Array):
    """(D's patch logits for `x` given `src`, new D batch stats), in train mode."""
    return base.apply(self.modules['d'], d_params, d_batch_stats, {'src': src, 'x': x},
                      train=True)

  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    del ctx
    loss_name = self.config.loss.name
    if side == 'd':
      if self.settings.adversarial_weight == 0:
        # L1 only: D plays no part, so it is not trained (nor run).
        return base.idle_side_loss('d')
      # G runs in train mode as in its own update; its statistics move only there.
      fake, _ = self.generate(state.params['g'], state.batch_stats['g'], batch['src'], key)
      fake = jax.lax.stop_gradient(fake)
      real_logits, d_stats = self.judge(params['d'], state.batch_stats['d'], batch['src'],
                                        batch['x'])
      fake_logits, d_stats = self.judge(params['d'], d_stats, batch['src'], fake)
      d_loss = 0.5 * losses.discriminator_loss(loss_name, real_logits, fake_logits)
      return d_loss, ({'d': d_stats}, {'d_loss': d_loss,
                                       'd_real_logit': jnp.mean(real_logits),
                                       'd_fake_logit': jnp.mean(fake_logits)})
    fake, g_stats = self.generate(params['g'], state.batch_stats['g'], batch['src'], key)
    l1 = jnp.mean(jnp.abs(fake - batch['x']))
    g_loss = self.settings.l1_weight * l1
    metrics = {'g_l1': l1}
    if self.settings.adversarial_weight:
      # D judges in train mode, as in its own update; its statistics are not kept.
      fake_logits, _ = self.judge(state.params['d'], state.batch_stats['d'], batch['src'], fake)
      adversarial = losses.generator_loss(loss_name, fake_logits)
      g_loss = g_loss + self.settings.adversarial_weight * adversarial
      metrics['g_adv'] = adversarial
    metrics['g_loss'] = g_loss
    return g_loss, ({'g': g_stats}, metrics)
