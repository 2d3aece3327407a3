r"""CycleGAN style transfer of the whole held-out photographs: photo | G(photo) | F(G(photo)).

Loads the CycleGAN run in WORKDIR (e.g. `experiments/vangogh_cyclegan.py`, trained on
32x32 patches) and translates each of scikit-learn's china.jpg and flower.jpg (never
trained on by the photo experiments) in one pass: the generators are fully
convolutional, so a model trained on patches takes a whole photograph. Each photo is
first resized so that its longer side is --max_side (0 = as it is) and cropped to the
multiple of 4 that the generator's two stride-2 layers need. Writes a PNG (--out) with
one row per photo, photo | translated | reconstructed, and a JSON (--scores) of the
cycle error per photo (L1 in [-1, 1], PSNR and SSIM on [0, 1], as the `cycle` metric).

  python benchmarks/style_transfer_photos.py runs/vangogh \
      --out=docs/images/vangogh_photos.png --scores=docs/vangogh_photos.json
"""

import json

from absl import app
from absl import flags
import numpy as np
from PIL import Image

from gan_jax import run as run_lib
from gan_jax.data import photos
from gan_jax.metrics import image_quality
from gan_jax.metrics import super_resolution

_OUT = flags.DEFINE_string('out', '', 'PNG: one row per photo, photo | translated | reconstructed.')
_SCORES = flags.DEFINE_string('scores', '', 'JSON file for the cycle error per photo.')
_MAX_SIDE = flags.DEFINE_integer('max_side', 320, "Resize each photo so that its longer side "
                                 "is this many pixels before translating (0 = as it is).")
_DIRECTION = flags.DEFINE_enum('direction', 'ab', ['ab', 'ba'],
                               'ab: photos are domain A (vangogh_cyclegan); ba: domain B.')
_MULTIPLE = 4  # The ResNet-block generator halves twice.


def prepare(photo: np.ndarray, max_side: int) -> np.ndarray:
  """`photo` (H, W, 3) uint8 resized to `max_side`, cropped to multiples of 4, in [-1, 1]."""
  image = Image.fromarray(photo)
  if max_side and max(image.size) != max_side:
    ratio = max_side / max(image.size)
    image = image.resize((round(image.width * ratio), round(image.height * ratio)),
                         Image.Resampling.LANCZOS)
  array = np.asarray(image)
  height, width = (array.shape[0] // _MULTIPLE) * _MULTIPLE, (array.shape[1] // _MULTIPLE) * _MULTIPLE
  return array[:height, :width].astype(np.float32) / 127.5 - 1


def main(argv):
  if len(argv) != 2:
    raise app.UsageError('Usage: style_transfer_photos.py WORKDIR [--out=PNG] [--scores=JSON]')
  run = run_lib.load_run(argv[1])
  if len(run.game.translations) < 2:
    raise ValueError(f'{argv[1]} is a {run.game.name!r} run; this script needs a CycleGAN '
                     'run (two directions).')
  there, back = _DIRECTION.value, _DIRECTION.value[::-1]
  rows, scores = [], {}
  for name, photo in photos.load_test_photos().items():
    image = prepare(photo, _MAX_SIDE.value)[None]
    translated = run.translate(image, there)
    reconstructed = run.translate(translated, back)
    scores[name] = {'size': list(image.shape[1:3]),
                    **image_quality.translation_scores(reconstructed, image)}
    print(name, json.dumps(scores[name]))
    rows.append(np.concatenate([super_resolution.to_uint8(x[0]) for x in (image, translated, reconstructed)],
                               axis=1))
  if _OUT.value:
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0)), constant_values=255)
              for row in rows]
    Image.fromarray(np.concatenate(padded)[:-4]).save(_OUT.value)
  if _SCORES.value:
    with open(_SCORES.value, 'w', encoding='utf-8') as f:
      json.dump({'workdir': argv[1], 'step': run.step, 'max_side': _MAX_SIDE.value,
                 'direction': there, 'photos': scores}, f, indent=2)


if __name__ == '__main__':
  app.run(main)
