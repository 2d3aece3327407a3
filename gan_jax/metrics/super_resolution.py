"""Super-resolution scores by the SRGAN protocol, beside the bicubic baseline of the same LR.

The SR literature (SRCNN, SRGAN, EDSR) scores PSNR and SSIM on the luma alone (BT.601
studio swing, `image_quality.y_channel`) with `scale` pixels cropped at each border, on
8-bit images. Here both the super-resolved images and the bicubic upsampling of the LR
are rounded to 8 bits first (the images one would save), the bicubic one by PIL's
BICUBIC resize of the 8-bit LR, as the LR itself was made.

  quantize(images) -> images rounded to the 256 levels of uint8, still in [-1, 1]
  bicubic_upscale(lr, factor) -> PIL bicubic upsampling of [-1, 1] images
  sr_scores(sr, hr, lr, scale=4) -> {'psnr_y', 'ssim_y', 'psnr_y_bicubic', 'ssim_y_bicubic'}
"""

import numpy as np

from gan_jax.metrics import image_quality


def to_uint8(images) -> np.ndarray:
  """[-1, 1] images as uint8 0..255, rounded to the nearest level."""
  return np.clip(np.rint((np.asarray(images, np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def from_uint8(images) -> np.ndarray:
  """uint8 images as float64 in [-1, 1]."""
  return np.asarray(images, np.float64) / 127.5 - 1.0


def quantize(images) -> np.ndarray:
  """`images` in [-1, 1] rounded to 8 bits (and clipped), as float64 in [-1, 1]."""
  return from_uint8(to_uint8(images))


def bicubic_upscale(lr, factor: int) -> np.ndarray:
  """[-1, 1] images (N, h, w, C) enlarged `factor` times by PIL's BICUBIC, in [-1, 1]."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  lr = to_uint8(lr)
  if lr.ndim != 4:
    raise ValueError(f'lr: expected (N, h, w, C) images, got shape {lr.shape}.')
  size = (lr.shape[2] * factor, lr.shape[1] * factor)
  gray = lr.shape[-1] == 1
  out = [np.asarray(Image.fromarray(image[..., 0] if gray else image).resize(size, Image.BICUBIC))
         for image in lr]
  out = np.stack(out)
  return from_uint8(out[..., None] if gray else out)


def sr_scores(sr, hr, lr, scale: int = 4) -> dict:
  """Mean Y-PSNR (dB) and Y-SSIM of `sr` and of bicubic(`lr`) against `hr`, `scale`-pixel
  borders cropped; all three NHWC in [-1, 1], `lr` `scale` times smaller."""
  hr = quantize(hr)
  ours = image_quality.translation_scores(quantize(sr), hr, y_only=True, border=scale)
  bicubic = image_quality.translation_scores(bicubic_upscale(lr, scale), hr, y_only=True,
                                             border=scale)
  return {'psnr_y': ours['psnr'], 'ssim_y': ours['ssim'],
          'psnr_y_bicubic': bicubic['psnr'], 'ssim_y_bicubic': bicubic['ssim']}
