"""Differentiable random affine warps of image batches: rotation, scale and shift.

InfoGAN's `game.infogan.lambda_warped` reads the categorical codes back from warped
fakes as well (`warp_degrees`, `warp_scale`, `warp_shift` set the ranges), so that a
code value cannot stand for a pose (a slant, a size, a position) that a small warp
undoes: only what survives the warp, the digit's shape, stays readable. The warp
resamples each image bilinearly, which is linear in the pixels, so the generator's
gradient flows through it.

Conventions follow `scipy.ndimage.affine_transform` (order 1, mode 'nearest'), the
reference the tests compare against: output pixel o (row, column) reads the input at
`matrix @ o + offset`, both about the image centre.
"""

import jax
import jax.numpy as jnp
import numpy as np


def warp_matrices(angle: jax.Array, scale: jax.Array) -> jax.Array:
  """(N, 2, 2) matrices that map output (row, column) offsets from the centre to input
  offsets, for the content rotated by `angle` radians and magnified by `scale` (N,)."""
  cos, sin = jnp.cos(angle) / scale, jnp.sin(angle) / scale
  # The inverse of "rotate by angle, then magnify by scale": rotate back and shrink.
  return jnp.stack([jnp.stack([cos, sin], -1), jnp.stack([-sin, cos], -1)], -2)


def affine_warp(x: jax.Array, matrix: jax.Array, shift: jax.Array) -> jax.Array:
  """Each image of NHWC `x` resampled at `matrix[n] @ (o - c) + c + shift[n]`.

  Args:
    x: images, shape (N, H, W, C).
    matrix: (N, 2, 2) maps from output offsets to input offsets (row, column).
    shift: (N, 2) input offsets in pixels (row, column) added after the matrix.

  Returns:
    The warped images, same shape and dtype as `x`; bilinear, edges extended.
  """
  _, h, w, _ = x.shape
  centre = jnp.asarray([(h - 1) / 2.0, (w - 1) / 2.0], jnp.float32)
  rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32), jnp.arange(w, dtype=jnp.float32),
                            indexing='ij')
  offsets = jnp.stack([rows, cols], -1) - centre  # (H, W, 2)
  source = jnp.einsum('nij,hwj->nhwi', matrix.astype(jnp.float32), offsets)
  source = source + centre + shift.astype(jnp.float32)[:, None, None, :]  # (N, H, W, 2)

  def one_channel(image, coords):  # image (H, W), coords (H, W, 2)
    return jax.scipy.ndimage.map_coordinates(image, [coords[..., 0], coords[..., 1]],
                                             order=1, mode='nearest')

  per_channel = jax.vmap(one_channel, in_axes=(2, None), out_axes=2)  # over C
  warped = jax.vmap(per_channel)(x.astype(jnp.float32), source)  # over N
  return warped.astype(x.dtype)


def random_affine(x: jax.Array, key: jax.Array, degrees: float, scale: float,
                  shift: float) -> jax.Array:
  """`affine_warp` with a rotation in [-degrees, degrees], a magnification in
  [1 - scale, 1 + scale] and a shift of up to `shift` times the height (rows) and width
  (columns) each way, drawn uniformly per example."""
  n, h, w = x.shape[:3]
  angle_key, scale_key, shift_key = jax.random.split(key, 3)
  radians = np.deg2rad(degrees)
  angle = jax.random.uniform(angle_key, (n,), jnp.float32, -radians, radians)
  magnification = jax.random.uniform(scale_key, (n,), jnp.float32, 1.0 - scale, 1.0 + scale)
  limit = jnp.asarray([h * shift, w * shift], jnp.float32)
  offsets = jax.random.uniform(shift_key, (n, 2), jnp.float32, -1.0, 1.0) * limit
  return affine_warp(x, warp_matrices(angle, magnification), offsets)
