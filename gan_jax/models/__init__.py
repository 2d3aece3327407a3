"""Generator and discriminator pairs, chosen by `config.model.name`.

Every generator is called as `generator(z, train, labels=None)` with z of shape
(B, latent_dim) and returns (B, *data_shape) float32; every discriminator is called as
`discriminator(x, train, labels=None)` and returns logits of shape (B,) (with an AC-GAN
head, (logits, class_logits)). Labels matter only for models built with a
`conditioning.Conditioning` of num_classes > 0 (see `conditioning.py`). Variables are 'params' and
'batch_stats' (BatchNorm statistics and spectral-norm vectors); with `train=True` pass
`mutable=['batch_stats']`.
"""

import flax.linen as nn

from gan_jax.models import dcgan
from gan_jax.models.conditioning import UNCONDITIONAL, Conditioning
from gan_jax.models import mlp
from gan_jax.models import resnet

# Name -> builder `(model_config, data_shape) -> (generator, discriminator)`.
MODELS = {
    'mlp': mlp.make_models,
    'dcgan': dcgan.make_models,
    'resnet': resnet.make_models,
}


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
  if model_config.name not in MODELS:
    raise ValueError(f'config.model.name={model_config.name!r} is unknown; '
                     f'known: {", ".join(sorted(MODELS))}.')
  return MODELS[model_config.name](model_config, tuple(data_shape), conditioning)
