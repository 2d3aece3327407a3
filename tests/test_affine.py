"""The random affine warp (gan_jax/stabilize/affine.py) against scipy.ndimage, its
direction, its ranges and its gradient by finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage
from jax.test_util import check_grads

from gan_jax.stabilize import affine


def test_affine_warp_matches_scipy_affine_transform():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(3, 9, 11, 2)).astype(np.float32)
  angle = np.array([0.3, -0.5, 0.0])
  scale = np.array([1.1, 0.9, 1.0])
  shift = np.array([[0.7, -1.2], [0.0, 0.4], [2.0, 0.0]])
  matrix = np.asarray(affine.warp_matrices(jnp.asarray(angle), jnp.asarray(scale)))
  out = np.asarray(affine.affine_warp(jnp.asarray(x), jnp.asarray(matrix), jnp.asarray(shift)))
  centre = np.array([4.0, 5.0])
  for n in range(3):
    # scipy: output pixel o reads input[matrix @ o + offset]; about the centre here.
    np.testing.assert_allclose(matrix[n], np.array([[np.cos(angle[n]), np.sin(angle[n])],
                                                    [-np.sin(angle[n]), np.cos(angle[n])]])
                               / scale[n], rtol=1e-6)
    for c in range(2):
      offset = centre - matrix[n] @ centre + shift[n]
      expected = scipy.ndimage.affine_transform(x[n, :, :, c].astype(np.float64), matrix[n],
                                                offset=offset, order=1, mode='nearest')
      np.testing.assert_allclose(out[n, :, :, c], expected, atol=2e-5)


def test_a_quarter_turn_moves_the_right_edge_to_the_top():
  image = np.zeros((1, 5, 5, 1), np.float32)
  image[0, 2, 4, 0] = 1.0
  out = affine.affine_warp(jnp.asarray(image),
                           affine.warp_matrices(jnp.asarray([np.pi / 2]), jnp.asarray([1.0])),
                           jnp.zeros((1, 2)))
  expected = np.zeros((5, 5), np.float32)
  expected[0, 2] = 1.0
  np.testing.assert_allclose(out[0, :, :, 0], expected, atol=1e-6)


def test_random_affine_of_zero_range_is_the_identity_and_each_example_draws_its_own():
  rng = np.random.default_rng(1)
  x = jnp.asarray(rng.normal(size=(6, 8, 8, 1)).astype(np.float32))
  np.testing.assert_allclose(affine.random_affine(x, jax.random.PRNGKey(0), 0.0, 0.0, 0.0), x,
                             atol=1e-6)
  same = jnp.repeat(x[:1], 6, axis=0)
  warped = np.asarray(affine.random_affine(same, jax.random.PRNGKey(0), 20.0, 0.1, 0.1))
  assert all(not np.allclose(warped[0], warped[n]) for n in range(1, 6))


def test_random_affine_draws_within_its_ranges():
  # A single bright pixel at the centre moves by the shift only (rotation and scale keep
  # the centre), so its landing place bounds the shift: 0.25 of 16 rows = 4 pixels.
  x = -np.ones((64, 17, 17, 1), np.float32)
  x[:, 8, 8, 0] = 1.0
  out = np.asarray(affine.random_affine(jnp.asarray(x), jax.random.PRNGKey(3), 30.0, 0.2, 0.25))
  peaks = np.array([np.unravel_index(np.argmax(o[..., 0]), o.shape[:2]) for o in out])
  assert np.all(np.abs(peaks - 8) <= 17 * 0.25 + 1)
  assert np.ptp(peaks[:, 0]) >= 4 and np.ptp(peaks[:, 1]) >= 4  # they do spread


def test_affine_warp_gradient_by_finite_differences():
  rng = np.random.default_rng(2)
  x = jnp.asarray(rng.normal(size=(2, 6, 7, 1)).astype(np.float32))
  matrix = affine.warp_matrices(jnp.asarray([0.2, -0.4]), jnp.asarray([1.05, 0.95]))
  shift = jnp.asarray([[0.3, -0.6], [0.1, 0.2]])
  check_grads(lambda images: affine.affine_warp(images, matrix, shift), (x,), order=1,
              modes=('rev',), eps=1e-2, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16])
def test_affine_warp_keeps_the_dtype(dtype):
  x = jnp.zeros((2, 4, 4, 3), dtype)
  out = affine.random_affine(x, jax.random.PRNGKey(0), 10.0, 0.1, 0.1)
  assert out.dtype == dtype and out.shape == x.shape
