"""Fully connected generator and discriminator (Goodfellow et al., 2014), for points and images.

The original paper's players were small MLPs; here the depth, widths and activation
come from the config (`model.hidden_dims`, `model.activation`), so the same family
serves the 2-D toy distributions (linear output) and small images (tanh output, since
images are scaled to [-1, 1]). Each player can get its own widths (`model.g_hidden_dims`,
`model.d_hidden_dims`) and the discriminator its own activation (`model.d_activation`,
including maxout units), which with `model.g_batch_norm` reproduces the PacGAN 2-D
networks (Lin et al., 2018: G 4 x 400 with BatchNorm and ReLU, D 3 x 200 maxout with 5
pieces). The discriminator can also append ProGAN's minibatch standard deviation
(`model.minibatch_std_group`) to its last hidden features, and minibatch discrimination
(`model.minibatch_kernels`, Salimans et al. 2016) to the input of its output layer.

By default there is no BatchNorm, and train and eval modes differ only in whether the
spectral-norm power iteration advances. With `model.g_batch_norm` the generator
normalises with batch statistics in train mode (updating the running ones in
'batch_stats') and with the running statistics in eval mode.

With `model.compute_dtype='bfloat16'` every layer computes in bfloat16 from float32
parameters and both players return float32 (see `layers`).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import conditioning as conditioning_lib
from gan_jax.models import layers


class MLPGenerator(nn.Module):
  """Maps noise (B, latent_dim) to examples (B, *data_shape) through a fully connected net."""
  data_shape: tuple[int, ...]
  hidden_dims: tuple[int, ...] = (256, 256)
  activation: str = 'leaky_relu'
  batch_norm: bool = False  # BatchNorm between each hidden Dense and its activation.
  dtype: jnp.dtype = jnp.float32  # Compute dtype; parameters and the output stay float32.
  # Labels (see `conditioning`): cbn puts conditional BatchNorm in every hidden layer.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = True, labels: jax.Array | None = None
               ) -> jax.Array:
    """Generates a float32 batch; with `batch_norm`, `train` uses and updates batch statistics."""
    act = layers.get_activation(self.activation)
    cbn = self.conditioning.cbn
    h = jnp.asarray(conditioning_lib.embed_into_latent(self.conditioning, z, labels), self.dtype)
    for width in self.hidden_dims:
      # A bias before BatchNorm would be cancelled by its mean subtraction (as in DCGAN).
      h = nn.Dense(width, use_bias=not (self.batch_norm or cbn), dtype=self.dtype)(h)
      if cbn:
        h = conditioning_lib.ConditionalBatchNorm(self.conditioning.num_classes, train,
                                                  self.dtype)(h, labels)
      elif self.batch_norm:
        h = layers.batch_norm(train, self.dtype)(h)
      h = act(h)
    # Back to float32 before the output nonlinearity, so the samples the losses, the
    # penalties and the evaluation see are float32 whatever the compute dtype.
    h = nn.Dense(math.prod(self.data_shape), dtype=self.dtype)(h).astype(jnp.float32)
    if layers.is_image_shape(self.data_shape):
      h = jnp.tanh(h)  # Images live in [-1, 1]; points are unbounded, so stay linear.
    return h.reshape((h.shape[0], *self.data_shape))


class MLPDiscriminator(nn.Module):
  """Maps examples (B, ...) to real-vs-fake logits (B,) through a fully connected net."""
  hidden_dims: tuple[int, ...] = (256, 256)
  activation: str = 'leaky_relu'  # A name in layers.ACTIVATIONS, or layers.MAXOUT.
  spectral_norm: bool = False  # Normalise every Dense kernel, the output layer included.
  maxout_pieces: int = 5  # Linear pieces per unit when `activation` is maxout.
  minibatch_std_group: int = 0  # Group size of the minibatch-stddev feature; 0 = off.
  minibatch_kernels: int = 0  # Minibatch-discrimination kernels before the output layer; 0 = off.
  minibatch_kernel_dim: int = 5
  dtype: jnp.dtype = jnp.float32  # Compute dtype; parameters and the logits stay float32.
  # Labels (see `conditioning`): a projection term or an AC-GAN class head.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, labels: jax.Array | None = None):
    """Scores a batch (float32 logits); `train` advances the spectral-norm power iteration."""
    h = jnp.asarray(x, self.dtype).reshape((x.shape[0], -1))
    if self.activation == layers.MAXOUT:
      for width in self.hidden_dims:
        h = layers.Maxout(width, self.maxout_pieces, spectral_norm=self.spectral_norm,
                          dtype=self.dtype)(h, train=train)
    else:
      act = layers.get_activation(self.activation, field='d_activation',
                                  also_known=(layers.MAXOUT,))
      for width in self.hidden_dims:
        h = act(layers.apply_layer(nn.Dense(width, dtype=self.dtype), h,
                                   spectral_norm=self.spectral_norm, train=train))
    if self.minibatch_std_group:
      h = layers.minibatch_stddev(h, self.minibatch_std_group)
    # Minibatch discrimination feeds the output layer only; a class head reads h.
    out_in = (layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(h)
              if self.minibatch_kernels else h)
    logits = layers.apply_layer(nn.Dense(1, dtype=self.dtype), out_in,
                                spectral_norm=self.spectral_norm, train=train)
    # The losses and penalties take float32 logits whatever the compute dtype.
    return conditioning_lib.discriminator_outputs(
        self.conditioning, logits[:, 0].astype(jnp.float32), h, labels,
        spectral_norm=self.spectral_norm, train=train, dtype=self.dtype)


def make_models(model_config, data_shape: tuple,
                conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL
                ) -> tuple[nn.Module, nn.Module]:
  """The (generator, discriminator) pair for `model_config` and examples of `data_shape`."""
  data_shape = tuple(int(d) for d in data_shape)
  layers.is_image_shape(data_shape)  # Rejects impossible shapes before any tracing.
  layers.get_activation(model_config.activation)  # Same for the activation names.
  d_activation = model_config.d_activation or model_config.activation
  if d_activation != layers.MAXOUT:
    layers.get_activation(d_activation, field='d_activation', also_known=(layers.MAXOUT,))
  if int(model_config.maxout_pieces) < 1:
    raise ValueError(f'config.model.maxout_pieces={model_config.maxout_pieces} must be at '
                     'least 1.')
  layers.check_minibatch_std_group(model_config.minibatch_std_group)
  layers.check_minibatch_discrimination(model_config.minibatch_kernels,
                                        model_config.minibatch_kernel_dim)
  dtype = layers.get_compute_dtype(model_config.compute_dtype)
  hidden_dims = tuple(int(w) for w in model_config.hidden_dims)
  # An empty per-player tuple means "as hidden_dims", so older configs keep their nets.
  g_hidden_dims = tuple(int(w) for w in model_config.g_hidden_dims) or hidden_dims
  d_hidden_dims = tuple(int(w) for w in model_config.d_hidden_dims) or hidden_dims
  generator = MLPGenerator(data_shape=data_shape, hidden_dims=g_hidden_dims,
                           activation=model_config.activation,
                           batch_norm=bool(model_config.g_batch_norm), dtype=dtype,
                           conditioning=conditioning)
  discriminator = MLPDiscriminator(hidden_dims=d_hidden_dims, activation=d_activation,
                                   spectral_norm=bool(model_config.spectral_norm),
                                   maxout_pieces=int(model_config.maxout_pieces),
                                   minibatch_std_group=int(model_config.minibatch_std_group),
                                   minibatch_kernels=int(model_config.minibatch_kernels),
                                   minibatch_kernel_dim=int(model_config.minibatch_kernel_dim),
                                   dtype=dtype, conditioning=conditioning)
  return generator, discriminator

