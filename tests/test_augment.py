"""DiffAugment against plain-numpy loops written from the reference's indexing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.stabilize import augment

# Square even, non-square odd, and one-channel shapes (N, H, W, C).
SHAPES = [(3, 8, 8, 3), (4, 7, 5, 2), (2, 9, 6, 1)]
POLICY = ('color', 'translation', 'cutout')

# Compiled once per shape: far faster on CPU than dispatching every op eagerly.
_diff_augment = jax.jit(augment.diff_augment, static_argnames='policy')
_translate = jax.jit(augment.translate)
_cut_out = jax.jit(augment.cut_out, static_argnames=('size_y', 'size_x'))


def _images(shape, seed=0):
  return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _translate_reference(x, shift_y, shift_x):
  """Loop version of the reference's padded gather: out[i, j] = x[i + ty, j + tx] or 0."""
  n, h, w, _ = x.shape
  out = np.zeros_like(x)
  for b in range(n):
    for i in range(h):
      for j in range(w):
        si, sj = i + shift_y[b], j + shift_x[b]
        if 0 <= si < h and 0 <= sj < w:
          out[b, i, j] = x[b, si, sj]
  return out


def _translate_transpose_reference(w, shift_y, shift_x):
  """The adjoint of `_translate_reference`: scatter w back to the pixels that were read."""
  n, h, wd, _ = w.shape
  out = np.zeros_like(w)
  for b in range(n):
    for i in range(h):
      for j in range(wd):
        si, sj = i + shift_y[b], j + shift_x[b]
        if 0 <= si < h and 0 <= sj < wd:
          out[b, si, sj] += w[b, i, j]
  return out


def _cutout_mask_reference(shape, offset_y, offset_x, size_y, size_x):
  """The reference's mask: the box's indices clamped into the image, then zeroed."""
  n, h, w, _ = shape
  mask = np.ones((n, h, w, 1), np.float32)
  for b in range(n):
    for i in range(size_y):
      for j in range(size_x):
        row = min(max(i + offset_y[b] - size_y // 2, 0), h - 1)
        col = min(max(j + offset_x[b] - size_x // 2, 0), w - 1)
        mask[b, row, col] = 0
  return mask


def test_parse_policy():
  assert augment.parse_policy('') == ()
  assert augment.parse_policy('color,translation,cutout') == ('color', 'translation', 'cutout')
  assert augment.parse_policy(' cutout , color ') == ('cutout', 'color')
  assert augment.parse_policy('translation') == ('translation',)


@pytest.mark.parametrize('policy', ['colour', 'color,flip', 'Color'])
def test_parse_policy_rejects_unknown(policy):
  with pytest.raises(ValueError, match=r'config\.stabilize\.diffaugment') as info:
    augment.parse_policy(policy)
  bad = [name for name in policy.split(',') if name not in augment.POLICIES][0]
  assert repr(bad) in str(info.value)
  assert all(name in str(info.value) for name in augment.POLICIES)


def test_point_data_rejected_with_a_policy():
  points = jnp.zeros((4, 2))
  with pytest.raises(ValueError, match=r'NHWC.*config\.stabilize\.diffaugment|'
                     r'config\.stabilize\.diffaugment.*NHWC'):
    augment.diff_augment(points, jax.random.key(0), ('color',))
  # An empty policy is off, so point data passes through untouched.
  assert augment.diff_augment(points, jax.random.key(0), ()) is points


@pytest.mark.parametrize('shape', SHAPES)
def test_translate_matches_loop(shape):
  rng = np.random.default_rng(1)
  x = _images(shape)
  n, h, w, _ = shape
  # Offsets up to and past the image size, where everything is padding.
  shift_y = rng.integers(-h - 1, h + 2, n)
  shift_x = rng.integers(-w - 1, w + 2, n)
  out = _translate(jnp.asarray(x), jnp.asarray(shift_y), jnp.asarray(shift_x))
  np.testing.assert_array_equal(np.asarray(out), _translate_reference(x, shift_y, shift_x))


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('ratio', [0.5, 0.3])
def test_cut_out_matches_loop(shape, ratio):
  rng = np.random.default_rng(2)
  x = _images(shape)
  n, h, w, _ = shape
  size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
  # Every offset the random wrapper can draw, including the border ones.
  for _ in range(5):
    offset_y = rng.integers(0, h + (1 - size_y % 2), n)
    offset_x = rng.integers(0, w + (1 - size_x % 2), n)
    out = _cut_out(jnp.asarray(x), jnp.asarray(offset_y), jnp.asarray(offset_x),
                   size_y=size_y, size_x=size_x)
    mask = _cutout_mask_reference(shape, offset_y, offset_x, size_y, size_x)
    np.testing.assert_array_equal(np.asarray(out), x * mask)


@pytest.mark.parametrize('shape', SHAPES)
def test_rand_translation_and_cutout_use_the_reference_ranges(shape):
  x = jnp.asarray(_images(shape))
  n, h, w, _ = shape
  key = jax.random.key(3)
  key_y, key_x = jax.random.split(key)
  sy, sx = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
  shift_y = np.asarray(jax.random.randint(key_y, (n,), -sy, sy + 1))
  shift_x = np.asarray(jax.random.randint(key_x, (n,), -sx, sx + 1))
  np.testing.assert_array_equal(np.asarray(jax.jit(augment.rand_translation)(x, key)),
                                _translate_reference(np.asarray(x), shift_y, shift_x))

  cy, cx = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
  offset_y = np.asarray(jax.random.randint(key_y, (n,), 0, h + 1 - cy % 2))
  offset_x = np.asarray(jax.random.randint(key_x, (n,), 0, w + 1 - cx % 2))
  mask = _cutout_mask_reference(shape, offset_y, offset_x, cy, cx)
  np.testing.assert_array_equal(np.asarray(jax.jit(augment.rand_cutout)(x, key)),
                                np.asarray(x) * mask)


def test_rand_translation_draws_every_offset():
  # One image of ones: the count of zeroed rows and columns gives |shift| per example.
  x = jnp.ones((512, 16, 16, 1))
  out = np.asarray(jax.jit(augment.rand_translation)(x, jax.random.key(4)))
  zero_rows = (out[:, :, :, 0].max(axis=2) == 0).sum(axis=1)
  zero_cols = (out[:, :, :, 0].max(axis=1) == 0).sum(axis=1)
  # shift = int(16 * 0.125 + 0.5) = 2, so |shift| takes the values 0, 1, 2 only.
  assert set(zero_rows) == {0, 1, 2} and set(zero_cols) == {0, 1, 2}


@pytest.mark.parametrize('shape', SHAPES)
def test_color_transforms_match_formulas(shape):
  x = _images(shape).astype(np.float64)
  key = jax.random.key(5)
  n = shape[0]
  draw = np.asarray(jax.random.uniform(key, (n, 1, 1, 1), jnp.float32)).astype(np.float64)
  xj = jnp.asarray(x, jnp.float32)
  # jax.random.uniform(key, ..., lo, hi) is lo + (hi - lo) * U(0, 1) for the same bits.
  cases = {
      augment.rand_brightness: x + (draw - 0.5),
      augment.rand_saturation: ((x - x.mean(axis=3, keepdims=True)) * (2 * draw)
                                + x.mean(axis=3, keepdims=True)),
      augment.rand_contrast: ((x - x.mean(axis=(1, 2, 3), keepdims=True)) * (draw + 0.5)
                              + x.mean(axis=(1, 2, 3), keepdims=True)),
  }
  for transform, expected in cases.items():
    out = transform(xj, key)
    assert out.shape == shape and out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-5)


def test_saturation_is_identity_for_one_channel():
  x = jnp.asarray(_images((2, 5, 5, 1)))
  np.testing.assert_allclose(np.asarray(augment.rand_saturation(x, jax.random.key(6))),
                             np.asarray(x), atol=1e-6)


@pytest.mark.slow
def test_diff_augment_applies_transforms_in_order_with_split_keys():
  # Also checks that jit changes nothing: the composition below runs eagerly.
  x = jnp.asarray(_images((4, 8, 8, 3)))
  key = jax.random.key(7)
  keys = jax.random.split(key, 5)
  expected = x
  for transform, subkey in zip([augment.rand_brightness, augment.rand_saturation,
                                augment.rand_contrast, augment.rand_translation,
                                augment.rand_cutout], keys):
    expected = transform(expected, subkey)
  out = _diff_augment(x, key, augment.parse_policy('color,translation,cutout'))
  np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_same_key_same_transform_for_real_and_fake():
  real = jnp.asarray(_images((4, 8, 8, 3)))
  fake = jnp.array(real)  # Same content, a different buffer.
  key = jax.random.key(8)
  out_real = _diff_augment(real, key, POLICY)
  out_fake = _diff_augment(fake, key, POLICY)
  np.testing.assert_array_equal(np.asarray(out_real), np.asarray(out_fake))
  other = _diff_augment(real, jax.random.key(9), POLICY)
  assert not np.allclose(np.asarray(out_real), np.asarray(other))


def test_each_example_gets_its_own_parameters():
  # A batch of one repeated image: per-batch parameters would give identical outputs.
  x = jnp.tile(jnp.asarray(_images((1, 8, 8, 3))), (6, 1, 1, 1))
  outs = jax.jit(lambda v, key: [augment.diff_augment(v, key, (name,)) for name in POLICY])(
      x, jax.random.key(10))
  for name, out in zip(POLICY, outs):
    out = np.asarray(out)
    assert len({out[i].tobytes() for i in range(6)}) > 1, name


@pytest.mark.parametrize('shape', SHAPES)
def test_translate_and_cut_out_gradients_are_their_transposes(shape):
  rng = np.random.default_rng(11)
  x = jnp.asarray(_images(shape))
  weights = _images(shape, seed=12)
  n, h, w, _ = shape
  shift_y, shift_x = rng.integers(-3, 4, n), rng.integers(-3, 4, n)
  _, vjp = jax.vjp(lambda v: _translate(v, jnp.asarray(shift_y), jnp.asarray(shift_x)), x)
  np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(weights))[0]),
                             _translate_transpose_reference(weights, shift_y, shift_x),
                             rtol=1e-6, atol=1e-6)

  size_y, size_x = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
  offset_y, offset_x = rng.integers(0, h, n), rng.integers(0, w, n)
  _, vjp = jax.vjp(lambda v: _cut_out(v, jnp.asarray(offset_y), jnp.asarray(offset_x),
                                      size_y=size_y, size_x=size_x), x)
  mask = _cutout_mask_reference(shape, offset_y, offset_x, size_y, size_x)
  np.testing.assert_array_equal(np.asarray(vjp(jnp.asarray(weights))[0]), weights * mask)


@pytest.mark.slow
def test_diff_augment_gradient_matches_finite_differences():
  # Given the key every transform is affine in x, so central differences are exact up to
  # rounding, even with a large step; compare directional derivatives along random v.
  x = jnp.asarray(_images((2, 6, 5, 3)))
  weights = jnp.asarray(_images((2, 6, 5, 3), seed=13))
  key = jax.random.key(14)

  @jax.jit
  def objective(v):
    return jnp.sum(weights * augment.diff_augment(v, key, POLICY))

  grad = jax.jit(jax.grad(objective))(x)
  assert np.any(np.asarray(grad) != 0)
  rng = np.random.default_rng(15)
  eps = 0.5
  for _ in range(4):
    v = jnp.asarray(rng.normal(size=x.shape).astype(np.float32))
    numeric = (objective(x + eps * v) - objective(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.sum(grad * v)), float(numeric), rtol=1e-2, atol=1e-3)


def test_jit_output_is_finite_and_keeps_shape_and_dtype():
  x = jnp.asarray(_images((4, 8, 8, 3)))
  for seed in range(3):
    out = _diff_augment(x, jax.random.key(16 + seed), POLICY)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.all(np.isfinite(np.asarray(out)))


def test_bfloat16_keeps_its_dtype():
  x = jnp.asarray(_images((2, 8, 8, 3)), jnp.bfloat16)
  out = _diff_augment(x, jax.random.key(17), POLICY)
  assert out.dtype == jnp.bfloat16 and out.shape == x.shape
