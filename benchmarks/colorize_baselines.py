r"""A colourisation run against its baselines, on the run's held-out reference patches.

Loads a pix2pix run whose pairs are grey -> colour (`experiments/colorize_pix2pix.py`),
translates the first --num reference sources (the BT.601 luma of held-out patches) and
prints, as JSON, L1 / PSNR / SSIM against the colour originals of:
  model            the run's translations;
  grey_input       the grey input itself, repeated in all three channels (no colour);
  model_chroma     the translations with their own luma replaced by the input's: the
                   model's colours on the true brightness (what a chroma-only output
                   would score with these colours);
and `luma_drift`, the mean |luma(translation) - input| on [-1, 1].

  python benchmarks/colorize_baselines.py runs/colorize
"""

import json

from absl import app
from absl import flags
import numpy as np

from gan_jax import evaluation
from gan_jax import run as run_lib
from gan_jax.metrics import image_quality

_NUM = flags.DEFINE_integer('num', 2000, 'Reference patches to score (the eval set).')


def main(argv):
  if len(argv) != 2:
    raise app.UsageError('Usage: colorize_baselines.py WORKDIR')
  run = run_lib.load_run(argv[1])
  if run.config.data.pairs != 'grayscale':
    raise ValueError(f'{argv[1]}: config.data.pairs={run.config.data.pairs!r}; this script '
                     "scores grey -> colour runs (pairs='grayscale').")
  real = evaluation.make_evaluator(run.config).real_examples()
  grey, colour = np.asarray(real['src'][:_NUM.value]), np.asarray(real['x'][:_NUM.value])
  translated = run.translate(grey)
  own_luma = image_quality.grey(translated)  # BT.601, the luma data.pairs='grayscale' makes.
  rows = {
      'model': image_quality.translation_scores(translated, colour),
      'grey_input': image_quality.translation_scores(np.repeat(grey, 3, axis=-1), colour),
      'model_chroma': image_quality.translation_scores(
          np.clip(translated - own_luma + grey, -1, 1), colour),
      'luma_drift': float(np.mean(np.abs(own_luma - grey))),
      'num': len(grey), 'step': run.step,
  }
  print(json.dumps(rows, indent=2))


if __name__ == '__main__':
  app.run(main)
