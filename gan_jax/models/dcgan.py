"""Deep convolutional GAN (Radford et al., 2015), sized from the image shape.

Generator: noise -> Dense -> a small (h0, w0) map -> BatchNorm + ReLU -> stride-2
transposed convolutions (kernel 4), each doubling the resolution and halving the
channels, BatchNorm + ReLU between them -> C channels with tanh. Discriminator: the
mirror image, stride-2 convolutions with LeakyReLU(0.2) (BatchNorm on all but the first)
doubling the channels, then one Dense to a logit; optionally (`model.minibatch_std_group`)
ProGAN's minibatch standard deviation is appended as one more channel of the last
feature map before that Dense. `model.dense_width` > 0 adds one fully connected hidden
layer to each player (G: noise -> Dense -> BatchNorm + ReLU before the first map; D:
after the convolutions, Dense -> BatchNorm + LeakyReLU before the logit), which makes
them InfoGAN's MNIST networks (Chen et al. 2016, appendix: FC 1024 in both). Every weight starts from N(0, 0.02) and every BatchNorm
scale from N(1, 0.02), as in the paper and its reference code.
The stride-2 layers are `resampling.DownConv` / `UpConv`: nn.Conv / nn.ConvTranspose's
function and parameters, computed as matmuls, which XLA's CPU backend runs far faster
(docs/performance.md#dcgan-resampling-layers).
With `model.compute_dtype='bfloat16'` every layer computes in bfloat16 from float32
parameters (BatchNorm statistics stay float32) and both players return float32.

The number of up/down-samplings n is how often H and W can be halved while staying
even and at least 4 (28 -> 2, 32 -> 3, 64 -> 4), so the same config trains on MNIST,
CIFAR-10 and 64x64 images. Small images go down to 2x2 to get at least two layers per
player (8 -> 2): with one, the 8x8 discriminator is a single convolution and too weak.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import conditioning as conditioning_lib
from gan_jax.models import layers
from gan_jax.models import resampling


def _halvings(size: int, smallest: int) -> int:
  """How many times `size` halves exactly while the result stays at least `smallest`."""
  count = 0
  while size % 2 == 0 and size // 2 >= smallest:
    size //= 2
    count += 1
  return count


def num_resamplings(data_shape: tuple) -> int:
  """Stride-2 layers in each player for images of `data_shape`; a ValueError if none fit."""
  if not layers.is_image_shape(data_shape):
    raise ValueError(f'config.model.name=dcgan needs images (H, W, C) but data_shape='
                     f'{tuple(data_shape)} is point data; use model.name=mlp.')
  height, width, _ = data_shape
  height, width = int(height), int(width)
  count = min(_halvings(height, 4), _halvings(width, 4))
  if count < 2:
    count = min(_halvings(height, 2), _halvings(width, 2), 2)
  if count == 0:
    raise ValueError(f'config.model.name=dcgan cannot fit images of shape {tuple(data_shape)}: '
                     'H and W must be even with H/2 and W/2 at least 4 (e.g. 8, 28, 32, 64); '
                     'resize them (data.image_size) or use model.name=mlp.')
  return count


class DCGANGenerator(nn.Module):
  """Maps noise (B, latent_dim) to images (B, H, W, C) in [-1, 1]."""
  data_shape: tuple[int, int, int]
  features: int = 64  # Channels of the last hidden layer; doubled at each coarser one.
  dense_width: int = 0  # A fully connected hidden layer before the first map (0 = none).
  dtype: jnp.dtype = jnp.float32  # Compute dtype; parameters and the output stay float32.
  # Labels (see `conditioning`): cbn makes every BatchNorm class-conditional.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = True, labels: jax.Array | None = None
               ) -> jax.Array:
    """Generates a float32 batch; `train` uses batch statistics and updates running ones."""
    height, width, channels = self.data_shape

    def norm(x):
      if self.conditioning.cbn:
        return conditioning_lib.ConditionalBatchNorm(self.conditioning.num_classes, train,
                                                     self.dtype)(x, labels)
      return layers.batch_norm(train, self.dtype)(x)

    z = conditioning_lib.embed_into_latent(self.conditioning, z, labels)
    n = num_resamplings(self.data_shape)
    base_h, base_w, base_c = height >> n, width >> n, self.features * 2 ** (n - 1)
    init = layers.dcgan_kernel_init
    # Biases would be cancelled by the BatchNorm that follows, so the layers before one
    # have none.
    x = jnp.asarray(z, self.dtype)
    if self.dense_width:
      x = nn.Dense(self.dense_width, use_bias=False, kernel_init=init, dtype=self.dtype,
                   name='dense_hidden')(x)
      x = nn.relu(norm(x))
    x = nn.Dense(base_h * base_w * base_c, use_bias=False, kernel_init=init, dtype=self.dtype)(x)
    x = x.reshape((-1, base_h, base_w, base_c))
    x = nn.relu(norm(x))
    # The layers keep the names nn.ConvTranspose would get, so checkpoints and parameter
    # trees are those of the nn.ConvTranspose version.
    for i in range(1, n):
      x = resampling.UpConv(base_c >> i, use_bias=False, kernel_init=init, dtype=self.dtype,
                            name=f'ConvTranspose_{i - 1}')(x)
      x = nn.relu(norm(x))
    x = resampling.UpConv(channels, kernel_init=init, dtype=self.dtype,
                          name=f'ConvTranspose_{n - 1}')(x)
    # tanh in float32, so the samples the losses, the penalties and the evaluation see
    # are float32 whatever the compute dtype.
    return jnp.tanh(x.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """Maps images (B, H, W, C) to real-vs-fake logits (B,)."""
  features: int = 64  # Channels of the first layer; doubled at each stride-2 layer.
  batch_norm: bool = True  # BatchNorm after every convolution but the first.
  spectral_norm: bool = False  # Normalise every conv and Dense kernel.
  minibatch_std_group: int = 0  # Group size of the minibatch-stddev channel; 0 = off.
  minibatch_kernels: int = 0  # Minibatch-discrimination kernels before the logit; 0 = off.
  minibatch_kernel_dim: int = 5
  dense_width: int = 0  # A fully connected hidden layer before the logit (0 = none).
  dtype: jnp.dtype = jnp.float32  # Compute dtype; parameters and the logits stay float32.
  # Labels (see `conditioning`): a projection term, an AC-GAN class head or a Q head.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, labels: jax.Array | None = None):
    """Scores a batch (float32 logits); `train` uses batch statistics and updates running ones."""
    x = jnp.asarray(x, self.dtype)
    init = layers.dcgan_kernel_init
    for i in range(num_resamplings(x.shape[1:])):
      # The paper leaves the first layer without BatchNorm: normalising the input layer
      # made training unstable.
      normalise = self.batch_norm and i > 0
      # Named as nn.Conv would be, so parameter trees match the nn.Conv version.
      conv = resampling.DownConv(self.features * 2 ** i, use_bias=not normalise,
                                 kernel_init=init, dtype=self.dtype, name=f'Conv_{i}')
      x = layers.apply_layer(conv, x, spectral_norm=self.spectral_norm, train=train)
      if normalise:
        x = layers.batch_norm(train, self.dtype)(x)
      x = nn.leaky_relu(x, negative_slope=0.2)
    if self.minibatch_std_group:
      # Appended to the last feature map, as ProGAN does before its final layers, so the
      # Dense sees it at every position; only that Dense's kernel grows by H * W rows.
      x = layers.minibatch_stddev(x, self.minibatch_std_group)
    x = x.reshape((x.shape[0], -1))
    if self.dense_width:
      dense = nn.Dense(self.dense_width, use_bias=not self.batch_norm, kernel_init=init,
                       dtype=self.dtype, name='dense_hidden')
      x = layers.apply_layer(dense, x, spectral_norm=self.spectral_norm, train=train)
      if self.batch_norm:
        x = layers.batch_norm(train, self.dtype)(x)
      x = nn.leaky_relu(x, negative_slope=0.2)
    # Minibatch discrimination feeds the logit layer only; a class or Q head reads x.
    out_in = (layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(x)
              if self.minibatch_kernels else x)
    logits = layers.apply_layer(nn.Dense(1, kernel_init=init, dtype=self.dtype), out_in,
                                spectral_norm=self.spectral_norm, train=train)
    # The losses and penalties take float32 logits whatever the compute dtype.
    return conditioning_lib.discriminator_outputs(
        self.conditioning, logits[:, 0].astype(jnp.float32), x, labels,
        spectral_norm=self.spectral_norm, train=train, dtype=self.dtype, kernel_init=init)


def make_models(model_config, data_shape: tuple,
                conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL
                ) -> tuple[nn.Module, nn.Module]:
  """The (generator, discriminator) pair for `model_config` and images of `data_shape`."""
  data_shape = tuple(int(d) for d in data_shape)
  num_resamplings(data_shape)  # Rejects shapes that do not fit before any tracing.
  layers.check_minibatch_std_group(model_config.minibatch_std_group)
  layers.check_minibatch_discrimination(model_config.minibatch_kernels,
                                        model_config.minibatch_kernel_dim)
  dtype = layers.get_compute_dtype(model_config.compute_dtype)
  dense_width = int(model_config.dense_width)
  if dense_width < 0:
    raise ValueError(f'config.model.dense_width={dense_width} must be >= 0 (0 = no hidden '
                     'fully connected layer).')
  generator = DCGANGenerator(data_shape=data_shape, features=int(model_config.g_features),
                             dense_width=dense_width, dtype=dtype, conditioning=conditioning)
  discriminator = DCGANDiscriminator(features=int(model_config.d_features),
                                     batch_norm=bool(model_config.d_batch_norm),
                                     spectral_norm=bool(model_config.spectral_norm),
                                     minibatch_std_group=int(model_config.minibatch_std_group),
                                     minibatch_kernels=int(model_config.minibatch_kernels),
                                     minibatch_kernel_dim=int(model_config.minibatch_kernel_dim),
                                     dense_width=dense_width, dtype=dtype,
                                     conditioning=conditioning)
  return generator, discriminator
