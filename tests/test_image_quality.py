"""Tests of gan_jax.metrics.image_quality against scikit-image and hand computations."""

import numpy as np
import pytest
from skimage import color, data as sk_data
from skimage import metrics as sk_metrics

from gan_jax.metrics import image_quality as iq


def _sk_ssim(a, b):
  return np.array([sk_metrics.structural_similarity(
      x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
      data_range=1.0, channel_axis=-1) for x, y in zip(a, b)])


def _sk_psnr(a, b):
  return np.array([sk_metrics.peak_signal_noise_ratio(x, y, data_range=1.0)
                   for x, y in zip(a, b)])


def _random_pair(shape, seed, noise=0.1):
  """Uniform images in [0, 1] and a noisy copy, clipped to [0, 1]."""
  rng = np.random.default_rng(seed)
  a = rng.random(shape)
  return a, np.clip(a + noise * rng.standard_normal(shape), 0.0, 1.0)


def _camera_pair(shape, seed):
  """Crops of skimage's camera photograph (structured content) and noisy, blurred copies."""
  rng = np.random.default_rng(seed)
  camera = sk_data.camera() / 255.0
  n, h, w, c = shape
  crops = np.stack([
      np.stack([camera[t:t + h, l:l + w] for t, l in
                rng.integers(0, 512 - max(h, w), size=(c, 2))], axis=-1)
      for _ in range(n)])
  degraded = 0.5 * crops + 0.25 * np.roll(crops, 1, axis=1) + 0.25 * np.roll(crops, 1, axis=2)
  degraded = np.clip(degraded + 0.03 * rng.standard_normal(shape), 0.0, 1.0)
  return crops, degraded


SHAPES = [(3, 28, 28, 1), (2, 28, 28, 3), (2, 11, 11, 1), (2, 32, 47, 3), (1, 64, 40, 1)]


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('make_pair', [_random_pair, _camera_pair])
def test_psnr_and_ssim_match_skimage(shape, make_pair):
  a, b = make_pair(shape, seed=sum(shape))
  np.testing.assert_allclose(iq.psnr(a, b), _sk_psnr(a, b), rtol=0, atol=1e-10)
  np.testing.assert_allclose(iq.ssim(a, b), _sk_ssim(a, b), rtol=0, atol=1e-9)
  assert iq.psnr(a, b).shape == iq.ssim(a, b).shape == (shape[0],)


def test_psnr_of_known_mse_and_identical_images():
  a = np.full((2, 8, 9, 3), 0.3)
  np.testing.assert_allclose(iq.psnr(a, a + 0.1), [20.0, 20.0], atol=1e-12)  # MSE 0.01.
  np.testing.assert_allclose(iq.psnr(a, a + 0.01), [40.0, 40.0], atol=1e-10)
  assert np.all(np.isposinf(iq.psnr(a, a)))


def test_ssim_of_identical_images_is_one_and_small_images_are_an_error():
  a, _ = _random_pair((2, 16, 16, 3), seed=0)
  np.testing.assert_allclose(iq.ssim(a, a), 1.0, atol=1e-12)
  with pytest.raises(ValueError, match='10x12'):
    iq.ssim(np.zeros((1, 10, 12, 1)), np.zeros((1, 10, 12, 1)))


def test_l1_by_hand():
  a = np.zeros((2, 2, 2, 1))
  b = np.array([[1.0, -1.0, 0.5, 0.5], [0.0, 0.0, 0.0, -2.0]]).reshape(2, 2, 2, 1)
  np.testing.assert_allclose(iq.l1(a, b), [0.75, 0.5])


def test_to_unit_maps_and_clips():
  np.testing.assert_array_equal(iq.to_unit(np.array([-1.0, 0.0, 1.0, -1.5, 2.0])),
                                [0.0, 0.5, 1.0, 0.0, 1.0])
  assert iq.to_unit(np.zeros(3, np.float32)).dtype == np.float64


def test_y_channel_matches_skimage_rgb2ycbcr():
  rgb, _ = _random_pair((3, 9, 7, 3), seed=1)
  rgb[0, 0, 0], rgb[0, 0, 1] = 0.0, 1.0  # The extremes: Y = 16 and 235.
  y = iq.y_channel(rgb)
  assert y.shape == (3, 9, 7, 1)
  expected = np.stack([color.rgb2ycbcr(image)[..., :1] for image in rgb])
  np.testing.assert_allclose(y * 255.0, expected, rtol=0, atol=1e-10)
  np.testing.assert_allclose(y[0, 0, :2, 0] * 255.0, [16.0, 235.0], atol=1e-10)
  grey = rgb[..., :1]
  np.testing.assert_array_equal(iq.y_channel(grey), grey)
  with pytest.raises(ValueError, match='channels'):
    iq.y_channel(np.zeros((1, 4, 4, 2)))


def test_crop_border():
  images = np.arange(2 * 10 * 12 * 3).reshape(2, 10, 12, 3)
  cropped = iq.crop_border(images, 4)
  assert cropped.shape == (2, 2, 4, 3)
  np.testing.assert_array_equal(cropped, images[:, 4:6, 4:8])
  assert iq.crop_border(images, 0).shape == images.shape
  with pytest.raises(ValueError, match='pixels=5'):
    iq.crop_border(images, 5)  # 10 rows - 2 * 5 = 0 left.
  with pytest.raises(ValueError, match='pixels=-1'):
    iq.crop_border(images, -1)


@pytest.mark.parametrize('y_only,border', [(False, 0), (True, 0), (False, 3), (True, 4)])
def test_translation_scores_is_the_manual_composition(y_only, border):
  target_unit, fake_unit = _camera_pair((3, 40, 36, 3), seed=2)
  fake, target = fake_unit * 2 - 1, target_unit * 2 - 1
  scores = iq.translation_scores(fake, target, y_only=y_only, border=border)
  assert set(scores) == {'l1', 'psnr', 'ssim'}
  a, b = fake_unit, target_unit
  if y_only:
    a = np.stack([color.rgb2ycbcr(x)[..., :1] for x in a]) / 255.0
    b = np.stack([color.rgb2ycbcr(x)[..., :1] for x in b]) / 255.0
  if border:
    a, b = a[:, border:-border, border:-border], b[:, border:-border, border:-border]
  np.testing.assert_allclose(scores['l1'], np.mean(np.abs(fake - target)), atol=1e-12)
  np.testing.assert_allclose(scores['psnr'], _sk_psnr(a, b).mean(), atol=1e-9)
  np.testing.assert_allclose(scores['ssim'], _sk_ssim(a, b).mean(), atol=1e-9)


def test_translation_scores_shape_mismatch_names_both_shapes():
  with pytest.raises(ValueError, match=r'\(1, 16, 16, 3\).*\(1, 16, 17, 3\)'):
    iq.translation_scores(np.zeros((1, 16, 16, 3)), np.zeros((1, 16, 17, 3)))
  with pytest.raises(ValueError, match='N, H, W, C'):
    iq.psnr(np.zeros((16, 16, 3)), np.zeros((16, 16, 3)))
