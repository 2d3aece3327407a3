"""SRGAN (Ledig et al. 2017): 4x super-resolution, SRResNet G(LR) -> HR against D(HR).

Batches carry 'src', the LR image (bicubic /4 of the HR crop, `data.pairs='bicubic_x4'`),
and 'x', the HR crop. Losses, with `config.loss.name` the adversarial loss (the paper:
the non-saturating GAN loss) and w_adv(t) the adversarial weight at step t:

  D:  loss(D(HR), real) + loss(D(G(LR)), fake)
  G:  content_weight * content(G(LR), HR) + pixel_weight * mse(G(LR), HR)
        + w_adv(t) * loss(D(G(LR)), real)

  content 'mse': mean (G(LR) - HR)^2 over pixels, on [-1, 1] images;
  content 'vgg': mean (s phi(G(LR)) - s phi(HR))^2 over the VGG16 feature map phi of
                 `game.srgan.vgg_layer` (ImageNet weights, `models/vgg16.py`), s =
                 `vgg_feature_scale` (the paper: 1/12.75).
  pixel_weight:  the pixel MSE beside a 'vgg' content loss (0 in the paper; ESRGAN
                 keeps a pixel term): it keeps flat regions flat, where relu5_3 features
                 alone drew a faint grid (docs/super_resolution.md#results).

w_adv(t) = adversarial_weight * min(1, t / adversarial_warmup_steps), a schedule in the
config (a constant when the warm-up is 0), computed from the step inside the compiled
program. The two stages of the paper are two runs of this game:

  stage 1, SRResNet: content 'mse', adversarial_weight 0 (D is then neither trained nor run);
  stage 2, SRGAN:    content 'vgg' (or 'mse': SRGAN-MSE), adversarial_weight 1e-3, and
                     `game.srgan.init_from` naming stage 1's workdir, whose latest
                     checkpoint gives G's weights, batch statistics and EMA when the state
                     is created (`warm_start`); a resumed stage 2 restores its own instead.

Loaded runs super-resolve (`load_run(wd).translate(lr)`) with the EMA generator in eval
mode; SRResNet is fully convolutional, so LR images of any size come back 4x as large.
"""

import jax
import jax.numpy as jnp

from gan_jax import losses
from gan_jax import models
from gan_jax.data import paired
from gan_jax.games import base
from gan_jax.games import loss_weights

CONTENT_LOSSES = ('mse', 'vgg')


class SRGAN(base.TranslationGame):
  """SRResNet G(LR) -> 4x HR and SRGAN's D(HR), with a pixel or VGG content loss."""
  name = 'srgan'
  reads_pairs = True
  usage = 'translate(lr_images)'

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    self.check_image_data(data_shape)
    if config.data.pairs != 'bicubic_x4':
      raise ValueError(f'config.game.name=srgan learns from LR/HR pairs: set '
                       f"config.data.pairs='bicubic_x4' (got {config.data.pairs!r}).")
    height, width = int(data_shape[0]), int(data_shape[1])
    if height % paired.SR_SCALE or width % paired.SR_SCALE:
      raise ValueError(f'config.game.name=srgan: the HR images are {height}x{width}; their '
                       f'sides must be multiples of {paired.SR_SCALE} (data.patch_size, '
                       'data.image_size or data.crop_size).')
    self.src_shape = (height // paired.SR_SCALE, width // paired.SR_SCALE, int(data_shape[-1]))
    self.settings = settings = config.game.srgan
    if settings.content not in CONTENT_LOSSES:
      raise ValueError(f'config.game.srgan.content={settings.content!r} is unknown; known: '
                       f'{", ".join(CONTENT_LOSSES)}.')
    for field in ('content_weight', 'pixel_weight', 'adversarial_weight',
                  'adversarial_warmup_steps'):
      if settings[field] < 0:
        raise ValueError(f'config.game.srgan.{field}={settings[field]} must be >= 0.')
    self.vgg = self.vgg_params = None
    if settings.content == 'vgg':
      self._load_vgg(int(data_shape[-1]))
    super().__init__(config, data_shape, num_classes)

  def _load_vgg(self, channels: int) -> None:
    # Imported on use: only the 'vgg' content loss reads the weights file.
    from gan_jax.models import vgg16  # pylint: disable=g-import-not-at-top
    if channels != 3:
      raise ValueError(f"config.game.srgan.content='vgg' needs RGB images (VGG16 reads 3 "
                       f'channels); the data has {channels}.')
    vgg16.check_layer(self.settings.vgg_layer)
    weights = vgg16.load_weights(vgg16.find_weights(self.settings.vgg_weights))
    self.vgg = vgg16.VGG16Features(self.settings.vgg_layer)
    self.vgg_params = vgg16.vgg_params(weights, self.settings.vgg_layer)

  def make_players(self) -> dict:
    generator, discriminator = models.make_translation_models(
        self.config.model, self.src_shape, self.data_shape, 0.0)
    return {'g': generator, 'd': discriminator}

  def init_inputs(self) -> dict:
    return {'g': {'src': base.zeros_like_inputs(self.src_shape)},
            'd': {'x': base.zeros_like_inputs(self.data_shape)}}

  def warm_start_players(self) -> tuple[str, tuple[str, ...]]:
    """(stage 1's workdir, ('g',)) when `game.srgan.init_from` is set."""
    return str(self.settings.init_from), ('g',)

  @property
  def trains_discriminator(self) -> bool:
    """False for SRResNet (adversarial weight 0): D is then neither trained nor run."""
    return self.settings.adversarial_weight > 0

  def generate(self, g_params, g_batch_stats, src: jax.Array):
    """(G(src) in train mode, new generator batch stats)."""
    return base.apply(self.modules['g'], g_params, g_batch_stats, {'src': src}, train=True)

  def judge(self, d_params, d_batch_stats, x: jax.Array):
    """(D's logits (B,) for `x`, new D batch stats), in train mode."""
    return base.apply(self.modules['d'], d_params, d_batch_stats, {'x': x}, train=True)

  def content_loss(self, fake: jax.Array, target: jax.Array) -> jax.Array:
    """The configured content loss of `fake` against `target` (see the module docstring)."""
    if self.vgg is None:
      return jnp.mean(jnp.square(fake - target))
    layer = self.settings.vgg_layer
    scale = float(self.settings.vgg_feature_scale)
    # One VGG pass over both halves: the same program, half the dispatches.
    features = self.vgg.apply({'params': self.vgg_params},
                              jnp.concatenate([fake, target]))[layer] * scale
    fake_features, target_features = jnp.split(features, 2)
    return jnp.mean(jnp.square(fake_features - jax.lax.stop_gradient(target_features)))

  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    del key, ctx
    loss_name = self.config.loss.name
    if side == 'd':
      if not self.trains_discriminator:
        return base.idle_side_loss('d')
      # G in train mode, as in its own update; its statistics move only there.
      fake, _ = self.generate(state.params['g'], state.batch_stats['g'], batch['src'])
      fake = jax.lax.stop_gradient(fake)
      real_logits, d_stats = self.judge(params['d'], state.batch_stats['d'], batch['x'])
      fake_logits, d_stats = self.judge(params['d'], d_stats, fake)
      d_loss = losses.discriminator_loss(loss_name, real_logits, fake_logits)
      return d_loss, ({'d': d_stats}, {'d_loss': d_loss,
                                       'd_real_logit': jnp.mean(real_logits),
                                       'd_fake_logit': jnp.mean(fake_logits)})
    fake, g_stats = self.generate(params['g'], state.batch_stats['g'], batch['src'])
    mse = jnp.mean(jnp.square(fake - batch['x']))
    content = mse if self.vgg is None else self.content_loss(fake, batch['x'])
    g_loss = self.settings.content_weight * content
    if self.settings.pixel_weight:
      g_loss = g_loss + self.settings.pixel_weight * mse
    metrics = {'g_mse': mse, 'g_content': content}
    if self.trains_discriminator:
      # D judges in train mode, as in its own update; its statistics are not kept.
      fake_logits, _ = self.judge(state.params['d'], state.batch_stats['d'], fake)
      adversarial = losses.generator_loss(loss_name, fake_logits)
      weight = loss_weights.ramped_weight(state.step, float(self.settings.adversarial_weight),
                                          0, int(self.settings.adversarial_warmup_steps))
      g_loss = g_loss + weight * adversarial
      metrics.update(g_adv=adversarial, g_adv_weight=weight)
    metrics['g_loss'] = g_loss
    return g_loss, ({'g': g_stats}, metrics)

  def translate(self, state, images: jax.Array, direction: str = 'ab',
                use_ema: bool = True) -> jax.Array:
    """LR `images` (B, h, w, C) in [-1, 1] -> (B, 4h, 4w, C) in [-1, 1], in eval mode
    (fully convolutional)."""
    # Clipped: with model.sr_upsampled_skip the output is not bounded by a tanh.
    return jnp.clip(super().translate(state, images, direction, use_ema), -1.0, 1.0)
