"""Generator and discriminator pairs, chosen by `config.model.name`.

Every generator is called as `generator(z, train, labels=None)` with z of shape
(B, latent_dim) and returns (B, *data_shape) float32; every discriminator is called as
`discriminator(x, train, labels=None)` and returns logits of shape (B,) (with an AC-GAN
head, (logits, class_logits)). Labels matter only for models built with a
`conditioning.Conditioning` of num_classes > 0 (see `conditioning.py`). Variables are 'params' and
'batch_stats' (BatchNorm statistics and spectral-norm vectors); with `train=True` pass
`mutable=['batch_stats']`.

`CLASSIFIER_MODELS` holds pairs whose discriminator is a K-class classifier returning
(class_logits (B, K), features (B, F)), for the semi-supervised game; they are chosen by
the same field, `config.model.name`, through `make_classifier_models`. `TRANSLATION_MODELS` hold image-to-image pairs (pix2pix's
U-Net and conditional PatchGAN: G(src) -> image, D(src, x) -> patch logits (B, h, w);
SRResNet and SRGAN's D: G(LR) -> 4x image, D(x) -> logits (B,)), built by
`make_translation_models`.
"""

import flax.linen as nn

from gan_jax.models import dcgan
from gan_jax.models import improved_gan
from gan_jax.models import improved_gan_conv
from gan_jax.models.conditioning import UNCONDITIONAL, Conditioning
from gan_jax.models import mlp
from gan_jax.models import resnet
from gan_jax.models import srresnet
from gan_jax.models import translation

# Name -> builder `(model_config, data_shape) -> (generator, discriminator)`.
MODELS = {
    'mlp': mlp.make_models,
    'dcgan': dcgan.make_models,
    'resnet': resnet.make_models,
}

# Name -> builder `(model_config, data_shape, num_classes) -> (generator, classifier D)`.
CLASSIFIER_MODELS = {
    'improved_gan': improved_gan.make_models,
    'improved_gan_conv': improved_gan_conv.make_models,
}

# Name -> builder `(model_config, src_shape, dst_shape, dropout) -> (G: src -> dst, D(src, x))`.
TRANSLATION_MODELS = {
    'unet': translation.make_pix2pix_models,
    'srresnet': srresnet.make_models,  # srgan: SRResNet G (LR -> 4x HR), SRGAN's D(HR).
}

# Name -> builder `(model_config, a_shape, b_shape) -> {'g_ab', 'g_ba', 'd_a', 'd_b'}` (cyclegan).
UNPAIRED_MODELS = {
    'cyclegan': translation.make_cyclegan_models,
}

# Every model name `config.model.name` may hold, whichever game plays it.
KNOWN_MODELS = {**MODELS, **CLASSIFIER_MODELS, **TRANSLATION_MODELS, **UNPAIRED_MODELS}


def make_models(model_config, data_shape: tuple,
                conditioning: Conditioning = UNCONDITIONAL) -> tuple[nn.Module, nn.Module]:
  """The (generator, discriminator) modules named by `model_config.name`.

  Args:
    model_config: the `config.model` section.
    data_shape: the shape of one example, (H, W, C) for images or (D,) for points.
    conditioning: how the players take labels (unconditional by default).
  Returns:
    Unbound flax modules; initialise each with `module.init(key, inputs, train=False)`.
  """
  if model_config.name in CLASSIFIER_MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} is a classifier pair, played '
                     f'only by config.game.name=semi_supervised; known here: '
                     f'{", ".join(sorted(MODELS))}.')
  if model_config.name in {**TRANSLATION_MODELS, **UNPAIRED_MODELS}:
    raise ValueError(f'config.model.name={model_config.name!r} is a translation model, played '
                     f'only by config.game.name=pix2pix, srgan or cyclegan; known here: '
                     f'{", ".join(sorted(MODELS))}.')
  if model_config.name not in MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} is unknown; '
                     f'known: {", ".join(sorted(MODELS))}.')
  return MODELS[model_config.name](model_config, tuple(data_shape), conditioning)


def make_classifier_models(model_config, data_shape: tuple,
                           num_classes: int) -> tuple[nn.Module, nn.Module]:
  """The (generator, K-class classifier discriminator) pair named by `model_config.name`."""
  if model_config.name not in CLASSIFIER_MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} has no classifier '
                     f'discriminator, which config.game.name=semi_supervised needs; known: '
                     f'{", ".join(sorted(CLASSIFIER_MODELS))}.')
  return CLASSIFIER_MODELS[model_config.name](model_config, tuple(data_shape), int(num_classes))


def make_translation_models(model_config, src_shape: tuple, dst_shape: tuple,
                            dropout: float) -> tuple[nn.Module, nn.Module]:
  """The (G: src -> dst, D) pair named by `model_config.name` (pix2pix, srgan)."""
  if model_config.name not in TRANSLATION_MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} is not a translation pair, '
                     f'which config.game.name=pix2pix and srgan need; known: '
                     f'{", ".join(sorted(TRANSLATION_MODELS))}.')
  return TRANSLATION_MODELS[model_config.name](model_config, tuple(src_shape), tuple(dst_shape),
                                               dropout)


def make_unpaired_models(model_config, a_shape: tuple, b_shape: tuple) -> dict:
  """The four players of an unpaired translation game named by `model_config.name`."""
  if model_config.name not in UNPAIRED_MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} is not an unpaired translation '
                     f'model, which config.game.name=cyclegan needs; known: '
                     f'{", ".join(sorted(UNPAIRED_MODELS))}.')
  return UNPAIRED_MODELS[model_config.name](model_config, tuple(a_shape), tuple(b_shape))
