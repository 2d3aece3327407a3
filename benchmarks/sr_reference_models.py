r"""Published, pretrained 4x SR networks on the held-out photographs: how much is there to gain?

The SRResNet target of docs/super_resolution.md (+1.0 dB Y-PSNR over bicubic on each of
scikit-learn's china.jpg and flower.jpg) is met on flower.jpg and missed on china.jpg. This
script asks whether china.jpg allows +1.0 dB at all to networks trained on far more data:
it runs pretrained 4x models through OpenCV's `dnn_superres` on exactly the LR images of
`benchmarks/sr_photos.py` (PIL bicubic /4 of the 8-bit HR, cropped to multiples of 4) and
scores them with the same protocol (`metrics.super_resolution`: BT.601 luma, 8 bits,
4-pixel border). OpenCV runs these Y-channel models on the luma and enlarges the chroma
bicubically; the scores read the luma only. Each model is scored on two degradations: the
LR of gan_jax (PIL bicubic, antialiased) and OpenCV's INTER_CUBIC without antialiasing,
which these models were trained on (they gain almost nothing on the blurrier PIL LR), and
the bicubic baseline is always PIL's upsampling of the same LR.

Needs `pip install opencv-contrib-python-headless` (not a gan_jax dependency) and the
frozen TensorFlow graphs, given as --model=<algorithm>:<path.pb>, e.g. from the public
repositories github.com/fannymonori/TF-LapSRN (export/LapSRN_x4.pb, LapSRN, Lai et al.
2017, a TensorFlow re-training) and github.com/Saafke/FSRCNN_Tensorflow
(models/FSRCNN_x4.pb, Dong et al. 2016):

  python benchmarks/sr_reference_models.py --model=lapsrn:LapSRN_x4.pb \
      --model=fsrcnn:FSRCNN_x4.pb --out=docs/sr_reference_models.json
"""

import hashlib
import itertools
import json
import os

from absl import app
from absl import flags
import numpy as np

from gan_jax.data import paired
from gan_jax.data import photos
from gan_jax.metrics import super_resolution

_MODELS = flags.DEFINE_multi_string(
    'model', [], "'<algorithm>:<frozen graph .pb>', algorithm one of OpenCV dnn_superres's "
    "'lapsrn', 'fsrcnn', 'espcn', 'edsr'; the scale is 4.")
_OUT = flags.DEFINE_string('out', '', 'JSON file for the scores.')
_DEGRADATIONS = flags.DEFINE_list(
    'degradations', ['pil_bicubic', 'cv2_cubic'],
    "How the LR is made from the HR: 'pil_bicubic' (gan_jax's, antialiased, as "
    "benchmarks/sr_photos.py) and/or 'cv2_cubic' (OpenCV INTER_CUBIC without antialiasing, "
    'what the OpenCV-trained models above saw).')
_SCALE = 4
_ALGORITHMS = ('lapsrn', 'fsrcnn', 'espcn', 'edsr')


def parse_model(spec: str) -> tuple[str, str]:
  """('lapsrn', 'path.pb') from --model 'lapsrn:path.pb', with the errors a user needs."""
  algorithm, _, path = spec.partition(':')
  if algorithm not in _ALGORITHMS or not path:
    raise ValueError(f"--model: expected '<algorithm>:<path.pb>' with algorithm in "
                     f'{_ALGORITHMS}, got {spec!r}.')
  if not os.path.isfile(path):
    raise FileNotFoundError(f'--model: no frozen graph at {path!r}.')
  return algorithm, path


def load_superres(algorithm: str, path: str):
  """An OpenCV DnnSuperResImpl for `algorithm` at 4x, read from `path`."""
  try:
    import cv2  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise ImportError('This benchmark needs OpenCV with the contrib modules: '
                      'pip install opencv-contrib-python-headless') from error
  model = cv2.dnn_superres.DnnSuperResImpl_create()
  model.readModel(path)
  model.setModel(algorithm, _SCALE)
  return model


def degrade(hr: np.ndarray, degradation: str) -> np.ndarray:
  """The /4 LR (1, H/4, W/4, 3) uint8 of the HR (1, H, W, 3) uint8."""
  if degradation == 'pil_bicubic':
    return paired.bicubic_downscale(hr)
  if degradation == 'cv2_cubic':
    import cv2  # pylint: disable=g-import-not-at-top
    size = (hr.shape[2] // _SCALE, hr.shape[1] // _SCALE)
    return cv2.resize(hr[0], size, interpolation=cv2.INTER_CUBIC)[None]
  raise ValueError(f"--degradations: expected 'pil_bicubic' or 'cv2_cubic', got "
                   f'{degradation!r}.')


def main(argv):
  del argv
  if not _MODELS.value:
    raise app.UsageError('Give at least one --model=<algorithm>:<path.pb>.')
  models = {}
  for spec in _MODELS.value:
    algorithm, path = parse_model(spec)
    with open(path, 'rb') as f:
      digest = hashlib.sha256(f.read()).hexdigest()
    models[algorithm] = (load_superres(algorithm, path), {'file': os.path.basename(path),
                                                          'sha256': digest})
  table = {}
  for name, photo in photos.load_test_photos().items():
    height, width = (photo.shape[0] // _SCALE) * _SCALE, (photo.shape[1] // _SCALE) * _SCALE
    hr = np.ascontiguousarray(photo[:height, :width])[None]
    hr_float = super_resolution.from_uint8(hr)
    table[name] = {'hr_size': [height, width]}
    for degradation, (algorithm, (model, about)) in itertools.product(_DEGRADATIONS.value,
                                                                      models.items()):
      lr = degrade(hr, degradation)
      # OpenCV wants BGR uint8.
      sr = model.upsample(np.ascontiguousarray(lr[0][..., ::-1]))[..., ::-1]
      if sr.shape[:2] != (height, width):
        raise ValueError(f'{algorithm}: output {sr.shape[:2]}, expected {(height, width)}.')
      scores = super_resolution.sr_scores(super_resolution.from_uint8(sr[None]), hr_float,
                                          super_resolution.from_uint8(lr), _SCALE)
      scores['gain_db'] = scores['psnr_y'] - scores['psnr_y_bicubic']
      table[name][f'{algorithm}/{degradation}'] = {**scores, **about}
      print(name, algorithm, degradation, {k: round(v, 4) for k, v in scores.items()})
  if _OUT.value:
    with open(_OUT.value, 'w', encoding='utf-8') as f:
      json.dump(table, f, indent=1)


if __name__ == '__main__':
  app.run(main)
