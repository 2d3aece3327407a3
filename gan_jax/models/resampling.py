"""DCGAN's stride-2 resampling layers, and convolutions in general, computed with matrix products.

`DownConv` and `UpConv` compute exactly what `nn.Conv` and `nn.ConvTranspose` compute
with a (4, 4) kernel, strides (2, 2) and 'SAME' padding, from the same 'kernel'
(4, 4, C_in, C_out) and 'bias' parameters, drawn by the same initialisers. They exist
because XLA's CPU backend falls off a cliff on convolutions with input (lhs) dilation,
which is how a transposed convolution and the input gradient of a strided one are
lowered: with nn.Conv / nn.ConvTranspose inside the compiled step the DCGANs train many
times slower on a CPU (measured in docs/performance.md#dcgan-resampling-layers). Here every FLOP is in one matmul whose
gradients are matmuls too; the rest is slicing and padding, whose transposes are
slicing, padding and concatenation. Stride-1 convolutions over space-to-depth inputs
were tried too: their gradients were slower than the matmuls'. On GPUs and TPUs a
matmul is as good a use of the hardware as the convolution it replaces.
`conv_as_matmul` is the same im2col product for any kernel, stride and padding (the
semi-supervised GAN's convolutional D, `improved_gan_conv.py`, is built on it).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

KERNEL_SIZE = (4, 4)


def _shift(x: jax.Array, dh: int, dw: int) -> jax.Array:
  """y[:, m, n] = x[:, m + dh, n + dw], zero where that falls outside x; x is (B, H, W, C)."""
  # A negative low padding crops; the size stays the same.
  return lax.pad(x, jnp.zeros((), x.dtype), [(0, 0, 0), (-dh, dh, 0), (-dw, dw, 0), (0, 0, 0)])


def conv_as_matmul(x: jax.Array, kernel: jax.Array, stride: int = 1,
                   padding: int = 0) -> jax.Array:
  """lax.conv_general_dilated's cross-correlation of x (B, H, W, C) with a (kh, kw, C, F)
  kernel, `stride` in both directions and `padding` zeros on every side, as one matmul.

  Output pixel (i, j) sees padded rows stride*i .. stride*i + kh - 1 and the like columns.
  The kh*kw strided views of the padded input side by side are the im2col patch matrix
  (B, H', W', kh kw C), whose channel order (row tap, column tap, c) is the kernel's
  own, so the kernel needs only a reshape.
  """
  _, height, width, channels = x.shape
  rows, cols, _, features = kernel.shape
  out_h = (height + 2 * padding - rows) // stride + 1
  out_w = (width + 2 * padding - cols) // stride + 1
  if out_h < 1 or out_w < 1:
    raise ValueError(f'conv_as_matmul: a {rows}x{cols} kernel with padding {padding} does not '
                     f'fit inputs of shape {x.shape}.')
  padded = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
  patches = jnp.concatenate(
      [padded[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
       for i in range(rows) for j in range(cols)], axis=-1)
  return jnp.dot(patches, kernel.reshape(rows * cols * channels, features))


def downsample_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """nn.Conv's stride-2, 'SAME' convolution of x (B, H, W, C) with a (4, 4, C, F) kernel.

  H and W must be even: 'SAME' then pads one row and column on each side, so it is
  `conv_as_matmul` with stride 2 and padding 1 (output pixel (i, j) sees padded rows
  2i..2i+3 and columns 2j..2j+3).
  """
  _, height, width, _ = x.shape
  if height % 2 or width % 2:
    raise ValueError(f'downsample_conv needs an even height and width, got {x.shape}.')
  return conv_as_matmul(x, kernel, stride=2, padding=1)


def upsample_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """nn.ConvTranspose's stride-2, 'SAME' transposed convolution of x (B, H, W, C) with a
  (4, 4, C, F) kernel (flax's convention, transpose_kernel=False): (B, 2H, 2W, F).

  flax dilates x by 2, pads it by 2 and correlates with the kernel, so output row
  2m + r (r = 0, 1) is the sum over a = 0, 1 of input row m + r + a - 1 through kernel
  row 2a + r; likewise for columns. So one matmul computes every input pixel's
  contribution through each of the 16 kernel taps, and each output parity (r, q) is the
  sum of four of them, shifted by at most one pixel.
  """
  batch, height, width, channels = x.shape
  features = kernel.shape[-1]
  contributions = jnp.dot(x, kernel.transpose(2, 0, 1, 3).reshape(channels, 16 * features))
  # jnp.split rather than indexing: the gradient then joins the pieces with one
  # concatenate, instead of padding each back to the size of `contributions`.
  taps = jnp.split(contributions, 16, axis=-1)  # taps[4 * kernel_row + kernel_col]
  rows = []
  for r in range(2):
    row = []
    for q in range(2):
      row.append(sum(_shift(taps[4 * (2 * a + r) + 2 * c + q], r + a - 1, q + c - 1)
                     for a in range(2) for c in range(2)))
    rows.append(jnp.stack(row, axis=3))
  # (B, H, 2, W, 2, F): the parities interleave into rows 2m + r, columns 2n + q.
  return jnp.stack(rows, axis=2).reshape(batch, 2 * height, 2 * width, features)


class _Resample(nn.Module):
  """A stride-2, (4, 4)-kernel layer with nn.Conv's parameters: 'kernel' and 'bias'.

  Subclasses name their resampling function `(x, kernel) -> y` in `_resample`.
  `dtype` and `param_dtype` mean what they mean for nn.Conv: with dtype=bfloat16 the
  input and the (float32) kernel are cast to bfloat16, so the matmul, the slicing and the
  output are bfloat16, while the parameters and their gradients stay float32.
  """
  features: int
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.linear.default_kernel_init
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()
  dtype: jnp.dtype | None = None  # Compute dtype (None: promote the input and kernel dtypes).
  param_dtype: jnp.dtype = jnp.float32
  _resample = None  # A staticmethod in each subclass.

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Resamples x (B, H, W, C)."""
    # Declared as nn.Conv declares them, so the initial values (drawn from the module's
    # name and the parameter's) and checkpoints are the same, and nn.SpectralNorm finds
    # and normalises 'kernel'.
    kernel = self.param('kernel', self.kernel_init, (*KERNEL_SIZE, x.shape[-1], self.features),
                        self.param_dtype)
    x, kernel = nn.dtypes.promote_dtype(x, kernel, dtype=self.dtype)
    y = self._resample(x, kernel)
    if self.use_bias:
      bias = self.param('bias', self.bias_init, (self.features,), self.param_dtype)
      y = y + bias.astype(y.dtype)
    return y


class DownConv(_Resample):
  """nn.Conv(features, (4, 4), strides=(2, 2), padding='SAME') for even H and W."""

  _resample = staticmethod(downsample_conv)


class UpConv(_Resample):
  """nn.ConvTranspose(features, (4, 4), strides=(2, 2), padding='SAME')."""

  _resample = staticmethod(upsample_conv)
