"""Pieces shared by the model families: activations, initialisers, spectral norm, maxout, mbstd,
and the compute dtype of mixed precision.

Kept in one place so that `mlp.py` and `dcgan.py` agree on what `model.activation`,
`model.spectral_norm`, `model.minibatch_std_group`, `model.compute_dtype` and the DCGAN
initialisation mean.

Mixed precision (`model.compute_dtype='bfloat16'`) follows one rule in every model: each
layer gets `dtype=<compute dtype>` (its inputs and kernel are cast to it, so the matmul
runs in that dtype) while its parameters stay float32 (`param_dtype`), and a network casts
its output (samples, logits) back to float32, so losses, penalties, the EMA and the
optimizer never see bfloat16.
"""

import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS = {
    'relu': nn.relu,
    'leaky_relu': functools.partial(nn.leaky_relu, negative_slope=0.2),
    'elu': nn.elu,
    'gelu': nn.gelu,
    'tanh': jnp.tanh,
    'silu': nn.silu,
}

# Radford et al. (2015): every weight drawn from N(0, 0.02).
dcgan_kernel_init = nn.initializers.normal(stddev=0.02)

# `config.model.compute_dtype` name -> the dtype layers compute in. bfloat16 has float32's
# exponent range, so unlike float16 it needs no loss scaling.
COMPUTE_DTYPES = {
    'float32': jnp.float32,
    'bfloat16': jnp.bfloat16,
}


def get_compute_dtype(name: str) -> jnp.dtype:
  """The dtype that `config.model.compute_dtype` names.

  Args:
    name: a key of COMPUTE_DTYPES.
  Returns:
    The jnp dtype to pass as a layer's `dtype=` (parameters stay float32).
  Raises:
    ValueError: naming `config.model.compute_dtype` and the allowed values if `name` is
      unknown.
  """
  if name not in COMPUTE_DTYPES:
    raise ValueError(f'config.model.compute_dtype={name!r} is unknown; known: '
                     f'{", ".join(sorted(COMPUTE_DTYPES))}.')
  return jnp.dtype(COMPUTE_DTYPES[name])


# The momentum of every BatchNorm's running statistics. Faster than flax's 0.99 default
# because the running statistics are used soon after training starts: the generator's to
# sample in eval mode, the discriminator's for the per-example penalties (GP, R1).
BATCH_NORM_MOMENTUM = 0.9


# The d_activation name that selects maxout units; not in ACTIVATIONS because maxout is a
# layer with its own parameters rather than an elementwise function.
MAXOUT = 'maxout'


def get_activation(name: str, field: str = 'activation',
                   also_known: tuple[str, ...] = ()) -> Callable[[jax.Array], jax.Array]:
  """The activation function called `name`.

  Args:
    name: a key of ACTIVATIONS.
    field: the `config.model` field that `name` came from, named in the error.
    also_known: further names the caller accepts and handles itself (e.g. MAXOUT); they
      are only listed in the error.
  Returns:
    The elementwise function.
  Raises:
    ValueError: naming `config.model.<field>` and the known names if `name` is unknown.
  """
  if name not in ACTIVATIONS:
    known = sorted([*ACTIVATIONS, *also_known])
    raise ValueError(f'config.model.{field}={name!r} is unknown; known: {", ".join(known)}.')
  return ACTIVATIONS[name]


def dcgan_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
  """BatchNorm scale initialiser N(1, 0.02), as in the DCGAN reference code."""
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def batch_norm(train: bool, dtype: jnp.dtype = jnp.float32) -> nn.BatchNorm:
  """A BatchNorm over the last axis: batch statistics when training, running ones otherwise.

  `dtype` is only the dtype of the output: flax computes the batch mean and variance in
  at least float32 and keeps the running statistics and the scale and bias float32, so
  with dtype=bfloat16 the statistics are as precise as in a float32 model.
  """
  return nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM,
                      scale_init=dcgan_scale_init, dtype=dtype, param_dtype=jnp.float32)


def apply_layer(layer: nn.Module, x: jax.Array, *, spectral_norm: bool,
                train: bool) -> jax.Array:
  """Applies `layer` to `x`, spectrally normalising its kernel when `spectral_norm` is set.

  Must be called inside a compact method, so that the wrapper belongs to the caller.
  The power-iteration vector `u` and the estimate `sigma` live in the 'batch_stats'
  collection next to the BatchNorm statistics, so callers handle a single mutable
  collection; they advance (one power-iteration step per call) only when `train` is set.

  The wrapper's own dtype stays unset, so the power iteration runs on the float32 kernel
  and `u` and `sigma` stay float32 whatever the layer computes in; the layer's `dtype`
  then casts the normalised kernel (bfloat16 with mixed precision).

  Note that flax writes the kernel back already divided by its first sigma estimate at
  init, so the stored kernel has spectral norm about 1 rather than the scale its
  `kernel_init` drew. The layer's function does not depend on that scale (W / sigma(W)
  is scale-free), but the size of optimizer steps relative to the weights does.
  """
  if not spectral_norm:
    return layer(x)
  return nn.SpectralNorm(layer, collection_name='batch_stats')(x, update_stats=train)


def is_image_shape(data_shape: tuple) -> bool:
  """True for one image's (H, W, C), False for one point's (D,); a ValueError otherwise."""
  if len(data_shape) not in (1, 3) or any(int(d) <= 0 for d in data_shape):
    raise ValueError(f'data_shape={tuple(data_shape)} is neither an image (H, W, C) nor a '
                     'point (D,) with positive sizes.')
  return len(data_shape) == 3


class Maxout(nn.Module):
  """Maxout units (Goodfellow et al., 2013): each output is the max of `pieces` affine maps.

  One Dense of `features * pieces` outputs; unit j takes the max over outputs
  j * pieces .. (j + 1) * pieces - 1 (consecutive, as pylearn2's maxout layer groups them).
  """
  features: int
  pieces: int = 5
  spectral_norm: bool = False  # Normalise the Dense kernel (see `apply_layer`).
  dtype: jnp.dtype = jnp.float32  # Compute dtype; the parameters stay float32.

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    """Maps (..., D) to (..., features); `train` advances the spectral-norm power iteration."""
    h = apply_layer(nn.Dense(self.features * self.pieces, dtype=self.dtype), x,
                    spectral_norm=self.spectral_norm, train=train)
    return jnp.max(h.reshape((*h.shape[:-1], self.features, self.pieces)), axis=-1)


def check_minibatch_discrimination(num_kernels: int, kernel_dim: int) -> None:
  """ValueErrors naming `model.minibatch_kernels` / `model.minibatch_kernel_dim` unless the
  kernels are 0 (off) or positive and the kernel dimension positive."""
  if int(num_kernels) < 0:
    raise ValueError(f'config.model.minibatch_kernels={num_kernels} must be 0 (off) or a '
                     'positive number of minibatch-discrimination kernels.')
  if int(kernel_dim) < 1:
    raise ValueError(f'config.model.minibatch_kernel_dim={kernel_dim} must be a positive '
                     'dimension (the paper: 5).')


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs").

  Each example's features f (B, F, flattened) are projected by a tensor T (F, K, C) to K
  rows of C numbers, M_i = f_i T; for every kernel k the closeness of two examples is
  c_k(i, j) = exp(-||M_i,k - M_j,k||_1), and o_k(i) = sum_{j != i} c_k(i, j) + b_k is
  appended to f_i: (B, F + K). A generator whose samples resemble one another gets large
  o on its fakes, which D can see. As in the paper's code (`nn.MinibatchLayer`), T is
  weight-normalised per (k, c) with a log scale, b starts at -1, and an example is not
  compared with itself. The features of an example depend on the rest of its batch, so
  D's output does too (in evaluation as well).

  `data_init=True` (with 'params' mutable) is the code's data-dependent initialisation:
  the log scales shift so that half the mean nearest-neighbour L1 distance is 1, and b is
  set to minus the batch mean of o.
  """
  num_kernels: int
  kernel_dim: int = 5
  kernel_stddev: float = 0.05

  @nn.compact
  def __call__(self, h: jax.Array, data_init: bool = False) -> jax.Array:
    """(B, F + num_kernels): the flattened features and their minibatch features."""
    flat = h.reshape((h.shape[0], -1))
    theta = self.param('kernel', nn.initializers.normal(self.kernel_stddev),
                       (flat.shape[-1], self.num_kernels, self.kernel_dim))
    log_scale = self.param('log_scale', nn.initializers.zeros,
                           (self.num_kernels, self.kernel_dim))
    bias = self.param('bias', nn.initializers.constant(-1.0), (self.num_kernels,))
    # float32: exp(-distance) underflows for the distances it must tell apart in bfloat16.
    w = theta * (jnp.exp(log_scale) / jnp.sqrt(jnp.sum(jnp.square(theta), axis=0) + 1e-12))
    m = jnp.einsum('nf,fkc->ckn', flat.astype(jnp.float32), w)  # (C, K, B)
    # The L1 distance of every pair, (K, B, B), summed over the C rows one at a time: on
    # XLA's CPU backend this ran the layer's gradient 5x (B=128) to 13x (B=64) faster than
    # reducing a (B, B, K, C) difference over its last axis.
    distance = sum(jnp.abs(m[c][:, :, None] - m[c][:, None, :]) for c in range(m.shape[0]))
    # The paper's code adds 1e6 on the diagonal: exp(-1e6) = 0, so i is not its own neighbour.
    distance = distance + 1e6 * jnp.eye(flat.shape[0], dtype=distance.dtype)
    if data_init:
      half_nearest = 0.5 * jnp.mean(jnp.min(distance, axis=2), axis=1)  # (K,)
      self.put_variable('params', 'log_scale', log_scale - jnp.log(half_nearest)[:, None])
      distance = distance / half_nearest[:, None, None]
    features = jnp.sum(jnp.exp(-distance), axis=2).T  # (B, K)
    if data_init:
      bias = -jnp.mean(features, axis=0)
      self.put_variable('params', 'bias', bias)
    return jnp.concatenate([flat, (features + bias).astype(flat.dtype)], axis=-1)


def check_minibatch_std_group(group_size: int) -> None:
  """A ValueError naming `model.minibatch_std_group` unless it is 0 (off) or positive."""
  if int(group_size) < 0:
    raise ValueError(f'config.model.minibatch_std_group={group_size} must be 0 (off) or a '
                     'positive group size.')


def minibatch_stddev(h: jax.Array, group_size: int) -> jax.Array:
  """Appends the minibatch standard-deviation feature of ProGAN (Karras et al., 2018).

  The batch is split into groups of `group_size` examples as ProGAN's reshape to
  [group_size, -1, ...] does: example b belongs to group b mod (B / group_size), so group
  members are B / group_size apart in the batch. Within each group, the standard deviation
  of every feature (and position) is taken, averaged into one number, and that number is
  appended to each member of the group. A generator that collapses to few outputs gives
  groups of fakes a small value, which the discriminator can see and penalise.

  As in ProGAN the group shrinks to the batch when the batch is smaller, so that calls on
  a single example (per-example penalties) work; it then sees no variation at all.

  Args:
    h: features (B, F) for points or (B, H, W, C) for images.
    group_size: examples per group, at least 1.
  Returns:
    (B, F + 1), or (B, H, W, C + 1) with the value broadcast over H and W.
  Raises:
    ValueError: naming `config.model.minibatch_std_group` if B does not divide into groups.
  """
  batch = h.shape[0]
  group_size = min(int(group_size), batch)
  if group_size < 1 or batch % group_size:
    raise ValueError(f'config.model.minibatch_std_group={group_size} does not divide the '
                     f'discriminator batch of size {batch}; choose a group size that divides '
                     'it (or 0 to turn the minibatch standard deviation off).')
  # The statistic is reduced in at least float32, as BatchNorm's are: in bfloat16 (8
  # mantissa bits) the 1e-8 below vanishes next to any variance, and small differences
  # between groups, the signal of a collapsing generator, round away.
  groups = h.reshape((group_size, batch // group_size, *h.shape[1:]))
  groups = groups.astype(jnp.promote_types(h.dtype, jnp.float32))
  # sqrt(var + 1e-8) rather than std: the gradient of sqrt is infinite at 0, which a
  # group of identical examples (a collapsed generator) would reach.
  std = jnp.sqrt(jnp.var(groups, axis=0) + 1e-8)
  per_group = jnp.mean(std.reshape((std.shape[0], -1)), axis=1)  # (B / group_size,)
  # Tiling puts group m's value at examples m, m + B/group_size, ...: its members.
  feature = jnp.tile(per_group, group_size).astype(h.dtype)
  feature = jnp.broadcast_to(feature.reshape((batch, *([1] * (h.ndim - 1)))),
                             (*h.shape[:-1], 1))
  return jnp.concatenate([h, feature], axis=-1)
