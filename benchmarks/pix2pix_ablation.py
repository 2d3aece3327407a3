r"""The pix2pix paper's loss ablation (its Table 1 and Figure 4) on edges -> Fashion-MNIST.

Trains (or resumes) one run per variant and seed of `experiments/edges2fashion_pix2pix.py`:

  l1        L1 only     (game.pix2pix.adversarial_weight=0: D is not trained)
  cgan      cGAN only   (game.pix2pix.l1_weight=0)
  l1_cgan   L1 + cGAN   (the paper's objective, lambda = 100)

and scores the final checkpoint on the held-out test pairs with the experiment's metrics
(L1, PSNR, SSIM, the `fashion28` classifier's accuracy on the translations, FID). Each
finished run is appended to `--out` (JSON) at once, so a long study can be stopped and
read at any time; `--crops` writes edges | L1 | cGAN | L1 + cGAN | real for the first
test pairs of the first seed, as the paper's Figure 4.

  python benchmarks/pix2pix_ablation.py --workdir=runs/pix2pix_ablation \
      --out=docs/pix2pix_ablation.json --crops=docs/images/pix2pix_ablation.png \
      --seeds=0,1,2 --config.data.name=idx --config.data.path=../shared/data/fashion-mnist
"""

import json
import os
import pathlib
import time

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags
import numpy as np

from gan_jax import evaluation
from gan_jax import run as run_lib
from gan_jax import train
from gan_jax.io import preview
from gan_jax.io import writers

_EXPERIMENT = pathlib.Path(__file__).resolve().parents[1] / 'experiments' / 'edges2fashion_pix2pix.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_EXPERIMENT), 'A pix2pix experiment file.')
_SEEDS = flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds to train and score.')
_VARIANTS = flags.DEFINE_list('variants', ['l1', 'cgan', 'l1_cgan'], 'Loss variants, in order.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Runs go to <workdir>/<variant>_seed_<s>.')
_OUT = flags.DEFINE_string('out', None, 'JSON file the per-run results are written to.')
_CROPS = flags.DEFINE_string('crops', '', 'PNG of the first seed\'s translations side by side.')
_NUM_CROPS = flags.DEFINE_integer('num_crops', 12, 'Test pairs in the crops PNG.')
flags.mark_flags_as_required(['workdir', 'out'])

# Variant -> (l1_weight, adversarial_weight).
VARIANTS = {'l1': (100.0, 0.0), 'cgan': (0.0, 1.0), 'l1_cgan': (100.0, 1.0)}


def variant_config(base, variant: str, seed: int):
  """The experiment config with `variant`'s loss weights and `seed`."""
  config = base.copy_and_resolve_references()
  config.game.pix2pix.l1_weight, config.game.pix2pix.adversarial_weight = VARIANTS[variant]
  config.seed = seed
  return config


def final_metrics(workdir: str) -> dict:
  """The last evaluation's metrics in `workdir/metrics.jsonl`."""
  last = {}
  with open(os.path.join(workdir, 'metrics.jsonl'), encoding='utf-8') as f:
    for line in f:
      record = json.loads(line)
      if any(k.startswith('eval/') for k in record):
        last = record
  return {k[5:]: v for k, v in last.items() if k.startswith('eval/')}


def write_json(path: str, rows: list) -> None:
  """Writes `rows` atomically, so a reader never sees half a file."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  temporary = f'{path}.tmp'
  with open(temporary, 'w', encoding='utf-8') as f:
    json.dump(rows, f, indent=1)
  os.replace(temporary, path)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  base = _CONFIG.value
  rows = []
  if os.path.exists(_OUT.value):
    with open(_OUT.value, encoding='utf-8') as f:
      rows = json.load(f)
  done = {(r['variant'], r['seed']) for r in rows}
  for seed in map(int, _SEEDS.value):
    for variant in _VARIANTS.value:
      if (variant, seed) in done:
        continue
      config = variant_config(base, variant, seed)
      workdir = os.path.join(_WORKDIR.value, f'{variant}_seed_{seed}')
      start = time.perf_counter()
      train.train_and_evaluate(config, workdir)
      rows.append({'variant': variant, 'seed': seed, 'steps': config.num_train_steps,
                   'seconds': round(time.perf_counter() - start, 1),
                   'metrics': final_metrics(workdir)})
      write_json(_OUT.value, rows)
      print(json.dumps(rows[-1]), flush=True)
  if _CROPS.value:
    seed = int(_SEEDS.value[0])
    runs = [run_lib.load_run(os.path.join(_WORKDIR.value, f'{v}_seed_{seed}'))
            for v in _VARIANTS.value]
    examples = evaluation.make_evaluator(runs[0].config).real_examples()
    src = np.asarray(examples['src'][:_NUM_CROPS.value])
    columns = [src] + [r.translate(src) for r in runs] + [np.asarray(examples['x'][:len(src)])]
    writers.save_image_grid(preview.triplets(*columns), _CROPS.value, ncols=len(columns))


if __name__ == '__main__':
  app.run(main)
