"""Full-reference image quality of image translation and super-resolution: L1, PSNR, SSIM.

Each function compares a batch of outputs with a batch of targets of the same shape,
NHWC, image by image, in NumPy float64 (no JAX: these are evaluation-time numbers and
must match the reference implementations to the last digits).

Data range. The library's images live in [-1, 1]; `translation_scores` takes them so.
PSNR and SSIM are defined here on [0, 1] images (`to_unit` maps (x + 1) / 2 and clips),
so PSNR's peak is 1.0 and SSIM's data range is 1.0, the same numbers as on 0..255
images with peak 255. L1 stays on [-1, 1], as in pix2pix's reconstruction loss.

  psnr(a, b) -> (N,)                  10 log10(1 / MSE) in dB, +inf for identical images
  ssim(a, b) -> (N,)                  Wang et al. 2004, Gaussian window, channel mean
  l1(a, b) -> (N,)                    mean |a - b|
  translation_scores(fake, target, y_only=False, border=0) -> {'l1', 'psnr', 'ssim'}

The super-resolution protocol (SRGAN, EDSR...) scores the luma only, with a border of
the scale factor cropped: `translation_scores(sr, hr, y_only=True, border=4)`.
"""

import numpy as np
from scipy import ndimage

# SSIM constants of Wang et al. 2004, for images of data range 1.
_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_SSIM_SIGMA = 1.5
# skimage's truncation for gaussian_weights=True: radius int(3.5 * 1.5 + 0.5) = 5, i.e.
# the paper's 11x11 window.
_SSIM_TRUNCATE = 3.5
_SSIM_RADIUS = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)

# ITU-R BT.601 studio-swing luma, as MATLAB's rgb2ycbcr and the SR literature use it:
# Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in [0, 1].
_LUMA_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0
_LUMA_OFFSET = 16.0 / 255.0
# ITU-R BT.601 full-range luma: the colour-to-grey conversion (as data.pairs='grayscale').
_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def _as_batch(images, name: str) -> np.ndarray:
  """`images` as a float64 (N, H, W, C) array, else a ValueError naming `name`."""
  images = np.asarray(images, np.float64)
  if images.ndim != 4:
    raise ValueError(f'{name}: expected a batch of images of shape (N, H, W, C), got '
                     f'shape {images.shape}.')
  return images


def _as_pair(a, b, names=('a', 'b')) -> tuple[np.ndarray, np.ndarray]:
  """Both batches as float64 NHWC of one shape, else a ValueError naming both shapes."""
  a, b = _as_batch(a, names[0]), _as_batch(b, names[1])
  if a.shape != b.shape:
    raise ValueError(f'{names[0]} and {names[1]} must have the same shape; got '
                     f'{names[0]} {a.shape} and {names[1]} {b.shape}.')
  return a, b


def to_unit(images) -> np.ndarray:
  """Images in [-1, 1] as float64 in [0, 1]: (x + 1) / 2, clipped."""
  return np.clip((np.asarray(images, np.float64) + 1.0) / 2.0, 0.0, 1.0)


def grey(images) -> np.ndarray:
  """The full-range BT.601 luma (N, H, W, 1) of RGB images (N, H, W, 3). It is linear with
  weights summing to 1, so it holds on [-1, 1] as on [0, 1] or [0, 255]."""
  return (np.asarray(images) @ _GREY_WEIGHTS)[..., None]


def y_channel(images_unit) -> np.ndarray:
  """The BT.601 studio-swing luma (N, H, W, 1), in [16/255, 235/255], of RGB in [0, 1].

  Matches MATLAB's rgb2ycbcr and skimage.color.rgb2ycbcr (which gives 255 times this).
  A single-channel batch is taken to be luma already and returned as is.
  """
  images = _as_batch(images_unit, 'images_unit')
  if images.shape[-1] == 1:
    return images
  if images.shape[-1] != 3:
    raise ValueError(f'images_unit: expected 1 or 3 channels (N, H, W, C), got shape '
                     f'{images.shape}.')
  return (_LUMA_OFFSET + images @ _LUMA_WEIGHTS)[..., None]


def crop_border(images, pixels: int) -> np.ndarray:
  """`images` (N, H, W, C) without `pixels` rows and columns on each of the four sides."""
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f'images: expected shape (N, H, W, C), got shape {images.shape}.')
  pixels = int(pixels)
  if pixels < 0:
    raise ValueError(f'pixels={pixels} must be >= 0.')
  height, width = images.shape[1:3]
  if 2 * pixels >= min(height, width):
    raise ValueError(f'pixels={pixels}: cropping {pixels} from each side of {height}x'
                     f'{width} images leaves nothing; need 2 * pixels < {min(height, width)}.')
  if pixels == 0:
    return images
  return images[:, pixels:-pixels, pixels:-pixels, :]


def psnr(a, b) -> np.ndarray:
  """Per-image PSNR in dB, (N,), of images in [0, 1] (peak 1.0); +inf where identical."""
  a, b = _as_pair(a, b)
  mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
  with np.errstate(divide='ignore'):  # MSE 0 -> +inf dB, as skimage gives.
    return 10.0 * np.log10(1.0 / mse)


def ssim(a, b) -> np.ndarray:
  """Per-image SSIM, (N,), of images in [0, 1], averaged over channels.

  Wang et al. 2004: 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, data
  range 1, population (co)variances. Computed exactly as skimage's
  structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=1.0, channel_axis=-1): Gaussian filtering with reflected borders, then the
  SSIM map averaged without the 5 pixels at each border that the window overhangs.
  Images must be at least 11x11.
  """
  a, b = _as_pair(a, b)
  height, width = a.shape[1:3]
  window = 2 * _SSIM_RADIUS + 1
  if min(height, width) < window:
    raise ValueError(f'ssim: images are {height}x{width}; SSIM\'s {window}x{window} '
                     f'window needs both sides >= {window}.')
  # Filter over H and W only (sigma 0 leaves the batch and channel axes alone): each
  # channel of each image is filtered on its own, as skimage does one at a time.
  sigma = (0.0, _SSIM_SIGMA, _SSIM_SIGMA, 0.0)

  def blur(x):
    return ndimage.gaussian_filter(x, sigma, mode='reflect', truncate=_SSIM_TRUNCATE)

  c1, c2 = _SSIM_K1**2, _SSIM_K2**2
  mu_a, mu_b = blur(a), blur(b)
  var_a = blur(a * a) - mu_a * mu_a
  var_b = blur(b * b) - mu_b * mu_b
  cov = blur(a * b) - mu_a * mu_b
  # The same association of terms as skimage, so the two agree to rounding.
  numerator = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
  denominator = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
  ssim_map = crop_border(numerator / denominator, _SSIM_RADIUS)
  # Mean over pixels per channel, then over channels: equal-sized channels, so this
  # is skimage's mean of per-channel means.
  return ssim_map.mean(axis=(1, 2)).mean(axis=-1)


def l1(a, b) -> np.ndarray:
  """Per-image mean absolute error, (N,), in the images' own range ([-1, 1] for pix2pix)."""
  a, b = _as_pair(a, b)
  return np.mean(np.abs(a - b), axis=(1, 2, 3))


def translation_scores(fake, target, y_only: bool = False, border: int = 0) -> dict:
  """Means over the batch of {'l1', 'psnr', 'ssim'} of `fake` against `target`.

  Both are NHWC in [-1, 1]. L1 is on the full [-1, 1] images. PSNR and SSIM are on
  [0, 1] (`to_unit`), on the luma alone when `y_only` (`y_channel`), and without
  `border` pixels at each side (`crop_border`): y_only=True, border=<scale> is the
  super-resolution protocol. One pair of identical images makes the mean PSNR +inf.
  """
  fake, target = _as_pair(fake, target, names=('fake', 'target'))
  scores = {'l1': float(np.mean(l1(fake, target)))}
  fake_unit, target_unit = to_unit(fake), to_unit(target)
  if y_only:
    fake_unit, target_unit = y_channel(fake_unit), y_channel(target_unit)
  fake_unit = crop_border(fake_unit, border)
  target_unit = crop_border(target_unit, border)
  scores['psnr'] = float(np.mean(psnr(fake_unit, target_unit)))
  scores['ssim'] = float(np.mean(ssim(fake_unit, target_unit)))
  return scores
