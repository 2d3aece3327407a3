"""Class-conditional GANs: G(z, y) against D(x, y), with labels from the data.

The generator takes the requested class through conditional BatchNorm and/or a label
embedding joined to z (`game.conditional.g_conditioning`); the discriminator through
the projection term of Miyato & Koyama (2018) or AC-GAN's auxiliary classifier (Odena
et al. 2017) (`game.conditional.d_conditioning`). Real examples come with their labels
(`batch['y']`); the fakes of an update are asked for labels drawn uniformly, or, with
`fake_labels='data'`, for the labels of the update's real batch (so the classes follow
the data's frequencies without a table of them in the state).

AC-GAN's losses: D adds `acgan_d_weight` times the cross-entropy of its class head on
the real examples (and, with `acgan_d_on_fakes`, on the fakes with their requested
labels, as in the paper); G adds `acgan_g_weight` times the cross-entropy on its fakes.

Every stabilizer but packing works unchanged (penalties judge interpolates under the
real labels); packing would join examples of different classes into one pack, which a
per-example label cannot describe, so it is refused.
"""

import jax
import jax.numpy as jnp
import optax

from gan_jax import models as models_lib
from gan_jax.games import base
from gan_jax.games.unconditional import Unconditional
from gan_jax.models import conditioning as conditioning_lib

FAKE_LABELS = ('uniform', 'data')


def class_cross_entropy(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy of (B, K) logits against int labels (B,)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


class Conditional(Unconditional):
  """G(z, y) -> x and D(x, y) -> logit (projection) or (logit, class logits) (AC-GAN)."""
  name = 'conditional'
  supports = frozenset(base.STABILIZERS) - {'pack'}
  needs_labels = True
  labelled_samples = True

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    cfg = config.game.conditional
    if cfg.fake_labels not in FAKE_LABELS:
      raise ValueError(f'config.game.conditional.fake_labels={cfg.fake_labels!r} is unknown; '
                       f'known: {", ".join(FAKE_LABELS)}.')
    if int(num_classes) < 2:
      raise ValueError(f'config.game.name=conditional needs labelled data with at least 2 '
                       f'classes, but config.data.name={config.data.name!r} gives '
                       f'{num_classes}; use a labelled source (digits, idx with labels, '
                       f'npz with y, tfds, folder with class subfolders).')
    self.conditioning = conditioning_lib.Conditioning(
        num_classes=int(num_classes), generator=cfg.g_conditioning,
        discriminator=cfg.d_conditioning, embed_dim=int(cfg.embed_dim))
    conditioning_lib.check(self.conditioning)
    self.is_acgan = cfg.d_conditioning == 'acgan'
    super().__init__(config, data_shape, num_classes)

  def make_players(self) -> dict:
    generator, discriminator = models_lib.make_models(self.config.model, self.data_shape,
                                                      self.conditioning)
    return {'g': generator, 'd': discriminator}

  def g_inputs(self, z: jax.Array, labels: jax.Array) -> dict:
    return {'z': z, 'labels': labels}

  def d_inputs(self, x: jax.Array, labels: jax.Array) -> dict:
    return {'x': x, 'labels': labels}

  def adversarial_logits(self, outputs) -> jax.Array:
    return outputs[0] if self.is_acgan else outputs

  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """Noise z and the labels the fakes are asked for (`fake_y`)."""
    z_key, label_key = jax.random.split(key)
    batch = super().draw(side, batch, z_key)
    if self.config.game.conditional.fake_labels == 'data':
      fake_y = batch['y']
    else:
      fake_y = jax.random.randint(label_key, batch['y'].shape, 0, self.num_classes, jnp.int32)
    return dict(batch, fake_y=fake_y)

  def fake_labels(self, batch: dict) -> jax.Array:
    return batch['fake_y']

  def d_extra_loss(self, real_out, fake_out, batch: dict):
    if not self.is_acgan:
      return None
    cfg = self.config.game.conditional
    real_ce = class_cross_entropy(real_out[1], batch['y'])
    term = cfg.acgan_d_weight * real_ce
    metrics = {'d_class_real': real_ce}
    if cfg.acgan_d_on_fakes:
      fake_ce = class_cross_entropy(fake_out[1], batch['fake_y'])
      term = term + cfg.acgan_d_weight * fake_ce
      metrics['d_class_fake'] = fake_ce
    return term, metrics

  def g_extra_loss(self, fake_out, batch: dict):
    if not self.is_acgan:
      return None
    fake_ce = class_cross_entropy(fake_out[1], batch['fake_y'])
    return self.config.game.conditional.acgan_g_weight * fake_ce, {'g_class': fake_ce}

  def preview_labels(self, num: int) -> jax.Array:
    """Row c of the preview grid is class c: `num // K` samples per class, in rows."""
    per_class = max(num // self.num_classes, 1)
    return jnp.repeat(jnp.arange(self.num_classes, dtype=jnp.int32), per_class)

  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    if labels is None:
      raise ValueError('A conditional game samples for given labels: pass labels (N,).')
    return super().sample(state, z, labels, use_ema)
