"""DiffAugment (Zhao et al. 2020): differentiable augmentations for data-efficient GANs.

The same random transform is applied to every image the discriminator sees, real and
fake, in both players' updates; because each transform is differentiable in its input,
the generator's gradient flows through the augmentation of its samples. This follows
the reference code (github.com/mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py)
transform for transform, for NHWC images in [-1, 1] rather than its NCHW layout.

A policy is a tuple of the names in `POLICIES`, parsed from the comma-separated string
`config.stabilize.diffaugment`. Every transform draws its own parameters per example,
so a batch is never augmented as a block. Each random transform `rand_*(x, key)` is a
thin wrapper that draws those parameters and calls a deterministic function of them
(`brightness`, `translate`, `cut_out`, ...), so each can be tested on its own.
"""

from typing import Callable

import jax
import jax.numpy as jnp

POLICIES = ('color', 'translation', 'cutout')


def _check_names(names) -> None:
  """A ValueError naming `config.stabilize.diffaugment` if any of `names` is unknown."""
  for name in names:
    if name not in POLICIES:
      raise ValueError(f'config.stabilize.diffaugment has the unknown transform {name!r}; '
                       f'known: {", ".join(POLICIES)}.')


def parse_policy(policy: str) -> tuple[str, ...]:
  """The transform names in the comma-separated `policy`, in order; '' (off) gives ()."""
  names = tuple(name.strip() for name in policy.split(',') if name.strip())
  _check_names(names)
  return names


def _per_example_uniform(key: jax.Array, x: jax.Array, minval: float,
                         maxval: float) -> jax.Array:
  """One U(minval, maxval) draw per example, shaped (N, 1, 1, 1) to broadcast over x."""
  return jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype, minval, maxval)


def brightness(x: jax.Array, delta: jax.Array) -> jax.Array:
  """Adds `delta` (broadcast, e.g. (N, 1, 1, 1)) to every pixel and channel."""
  return x + delta


def saturation(x: jax.Array, factor: jax.Array) -> jax.Array:
  """Scales each pixel's deviation from its mean over channels by `factor`.

  With one channel the mean is the pixel itself, so this is the identity.
  """
  mean = jnp.mean(x, axis=-1, keepdims=True)
  return (x - mean) * factor + mean


def contrast(x: jax.Array, factor: jax.Array) -> jax.Array:
  """Scales each image's deviation from its mean over (H, W, C) by `factor`."""
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * factor + mean


def rand_brightness(x: jax.Array, key: jax.Array) -> jax.Array:
  """`brightness` with a shift drawn from U(-0.5, 0.5) per example."""
  return brightness(x, _per_example_uniform(key, x, -0.5, 0.5))


def rand_saturation(x: jax.Array, key: jax.Array) -> jax.Array:
  """`saturation` with a factor drawn from U(0, 2) per example."""
  return saturation(x, _per_example_uniform(key, x, 0.0, 2.0))


def rand_contrast(x: jax.Array, key: jax.Array) -> jax.Array:
  """`contrast` with a factor drawn from U(0.5, 1.5) per example."""
  return contrast(x, _per_example_uniform(key, x, 0.5, 1.5))


def _take_shifted(x: jax.Array, shift: jax.Array, axis: int) -> jax.Array:
  """out[n, ..., i, ...] = x[n, ..., i + shift[n], ...] along `axis`, zero where out of range.

  Index arithmetic plus a gather rather than a loop over the batch; the gather's
  gradient is a scatter-add, so the result stays differentiable in x.
  """
  size = x.shape[axis]
  index = jnp.arange(size)[None, :] + shift[:, None]  # (N, size)
  valid = (index >= 0) & (index < size)
  # Reshape so the indices broadcast over every axis but the batch and `axis`.
  shape = [x.shape[0]] + [1] * (x.ndim - 1)
  shape[axis] = size
  taken = jnp.take_along_axis(x, jnp.clip(index, 0, size - 1).reshape(shape), axis=axis)
  return taken * valid.reshape(shape).astype(x.dtype)


def translate(x: jax.Array, shift_y: jax.Array, shift_x: jax.Array) -> jax.Array:
  """Translates each image of the NHWC batch `x` by integer offsets, filling with zeros.

  Indexes as the reference does: output pixel (i, j) of example n reads input pixel
  (i + shift_y[n], j + shift_x[n]), so the content moves by (-shift_y, -shift_x). The
  offsets are drawn symmetrically, so the direction convention does not change the
  distribution. Zero is mid-grey for images in [-1, 1], as in the reference.

  Args:
    x: images, shape (N, H, W, C).
    shift_y: integer offsets along H, shape (N,).
    shift_x: integer offsets along W, shape (N,).

  Returns:
    The translated images, same shape and dtype as `x`.
  """
  x = _take_shifted(x, jnp.asarray(shift_y), axis=1)
  return _take_shifted(x, jnp.asarray(shift_x), axis=2)


def rand_translation(x: jax.Array, key: jax.Array, ratio: float = 0.125) -> jax.Array:
  """`translate` by offsets drawn uniformly from the integers in [-s, s] per example and axis.

  s = int(size * ratio + 0.5) for each of H and W, as in the reference.
  """
  shift_h = int(x.shape[1] * ratio + 0.5)
  shift_w = int(x.shape[2] * ratio + 0.5)
  key_y, key_x = jax.random.split(key)
  shift_y = jax.random.randint(key_y, (x.shape[0],), -shift_h, shift_h + 1)
  shift_x = jax.random.randint(key_x, (x.shape[0],), -shift_w, shift_w + 1)
  return translate(x, shift_y, shift_x)


def cut_out(x: jax.Array, offset_y: jax.Array, offset_x: jax.Array, size_y: int,
            size_x: int) -> jax.Array:
  """Zeroes a (size_y, size_x) box centred at each example's offset, clipped to the image.

  The box of example n covers rows [offset_y[n] - size_y // 2, ... + size_y) and the
  matching columns, intersected with the image: the reference clamps the box's indices
  to the image, which is the same set of pixels since its offsets never put the box
  wholly outside. Built as a broadcast mask rather than a scatter, so that it is linear
  in x with a plain elementwise gradient.

  Args:
    x: images, shape (N, H, W, C).
    offset_y: integer box centres along H, shape (N,).
    offset_x: integer box centres along W, shape (N,).
    size_y: the box's height (a Python int).
    size_x: the box's width (a Python int).

  Returns:
    `x` with the boxes zeroed, same shape and dtype.
  """
  def inside(offset, size, length):
    """(N, length) booleans: which rows (or columns) the box covers."""
    start = jnp.asarray(offset)[:, None] - size // 2
    index = jnp.arange(length)[None, :]
    return (index >= start) & (index < start + size)

  box = (inside(offset_y, size_y, x.shape[1])[:, :, None]
         & inside(offset_x, size_x, x.shape[2])[:, None, :])
  return x * (~box)[..., None].astype(x.dtype)


def rand_cutout(x: jax.Array, key: jax.Array, ratio: float = 0.5) -> jax.Array:
  """`cut_out` of a box of int(size * ratio + 0.5) per axis at offsets drawn per example.

  Each offset is uniform over the integers in [0, size + (1 - box_size % 2)), as in the
  reference: an even box may be centred one past the last pixel, so that its clipped
  coverage of the two borders is symmetric.
  """
  size_y = int(x.shape[1] * ratio + 0.5)
  size_x = int(x.shape[2] * ratio + 0.5)
  key_y, key_x = jax.random.split(key)
  offset_y = jax.random.randint(key_y, (x.shape[0],), 0, x.shape[1] + (1 - size_y % 2))
  offset_x = jax.random.randint(key_x, (x.shape[0],), 0, x.shape[2] + (1 - size_x % 2))
  return cut_out(x, offset_y, offset_x, size_y, size_x)


# What each policy name expands to, in the reference's order.
_TRANSFORMS: dict[str, tuple[Callable[[jax.Array, jax.Array], jax.Array], ...]] = {
    'color': (rand_brightness, rand_saturation, rand_contrast),
    'translation': (rand_translation,),
    'cutout': (rand_cutout,),
}


def diff_augment(x: jax.Array, key: jax.Array, policy: tuple[str, ...]) -> jax.Array:
  """Applies the transforms of `policy` in order, each with its own subkey of `key`.

  A function of (x, key) only: real and fake batches augmented with the same key get the
  same transforms, and different keys give independent ones. Jit-able (the policy is
  static Python) and differentiable in x.

  Args:
    x: images, shape (N, H, W, C), in [-1, 1].
    key: a PRNG key.
    policy: transform names from `POLICIES`, e.g. `parse_policy('color,cutout')`.

  Returns:
    The augmented images, same shape and dtype as `x`; `x` itself for an empty policy.
  """
  if not policy:
    return x
  _check_names(policy)
  if x.ndim != 4:
    raise ValueError(f'config.stabilize.diffaugment={",".join(policy)!r} needs NHWC images, '
                     f'got data of shape {tuple(x.shape)}; set it to \'\' for point data.')
  transforms = [fn for name in policy for fn in _TRANSFORMS[name]]
  for transform, subkey in zip(transforms, jax.random.split(key, len(transforms))):
    x = transform(x, subkey)
  return x
