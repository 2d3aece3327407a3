r"""GAN samples as training data: a classifier trained on N real images, with or without samples.

  python benchmarks/gan_augmentation.py --workdir=runs/fashion_cgan \
      --data_path=../shared/data/fashion-mnist --sizes=100,1000 --seeds=3 \
      --out=docs/gan_augmentation.json

For each N and seed, the same classifier (`gan_jax.metrics.cas.train_classifier`: the
`DigitClassifier` of the images' shape and its training routine, here `fashion28`'s)
is trained on
  (a) `real`: N real labelled training images (N / K per class, drawn by the seed);
  (b) `real+generated`: the same N plus `--generated` samples of the conditional run,
      classes 0..K-1 in turn;
  (c) `generated N`: N samples only (the Classification Accuracy Score of Ravuri &
      Vinyals 2019, at the size of (a));
  (d) `generated M`: `--generated` samples only (CAS with a large synthetic set);
and tested on the whole real test split. Every variant trains for the same number of
optimizer steps (`--train_steps`, batch 64), so a small set is not handicapped by fewer
updates. The results are written to `--out` (JSON) after every variant, so a long study
keeps what it finished; a Markdown table is printed at the end.

What this measures: the generator was trained on the whole labelled training split, so
(b) adds the knowledge of 60,000 labelled images to N of them. It is the setting of
"GAN samples as data augmentation" in survey tables, not semi-supervised learning from
N labels (for that, see the semi-supervised GAN).
"""

import json
import math
import os
import time

import numpy as np
from absl import app
from absl import flags

import gan_jax
from gan_jax.data import sources
from gan_jax.default_config import get_base_config
from gan_jax.metrics import cas

_WORKDIR = flags.DEFINE_string('workdir', None, 'A conditional run (load_run).')
_STEP = flags.DEFINE_integer('step', None, 'Its checkpoint (default: the latest).')
_DATA_PATH = flags.DEFINE_string('data_path', '', 'IDX folder of the dataset ("" = the '
                                 'idx source default, /usr/share/datasets/fashion-mnist).')
_SIZES = flags.DEFINE_list('sizes', ['100', '1000'], 'Numbers N of real labelled images.')
_SEEDS = flags.DEFINE_integer('seeds', 3, 'Seeds per N (subset, classifier init, samples).')
_GENERATED = flags.DEFINE_integer('generated', 10_000, 'Generated samples M for (b), (d).')
_TRAIN_STEPS = flags.DEFINE_integer('train_steps', 2000, 'Optimizer steps of every variant.')
_OUT = flags.DEFINE_string('out', 'gan_augmentation.json', 'JSON results, rewritten per row.')
flags.mark_flags_as_required(['workdir'])

BATCH = 64


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 images, labels) of one split of the IDX dataset."""
  data_config = get_base_config().data
  data_config.name, data_config.path, data_config.split = 'idx', _DATA_PATH.value, split
  source = sources.make_source(data_config, 0)
  batch = source.gather(np.arange(len(source)))
  return batch['x'], batch['y']


def stratified_subset(labels: np.ndarray, size: int, num_classes: int, seed: int) -> np.ndarray:
  """`size` indices, size / K of each class, drawn by `seed`."""
  rng = np.random.default_rng([seed, size])
  per_class = size // num_classes
  return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                         for c in range(num_classes)])


def to_unit_range(images_uint8: np.ndarray) -> np.ndarray:
  return images_uint8.astype(np.float32) / 127.5 - 1.0


def train_and_test(x, y, test_x, test_y, seed: int) -> float:
  """Test accuracy of the classifier trained on (x, y) for about `--train_steps` steps."""
  epochs = max(1, math.ceil(_TRAIN_STEPS.value / max(len(x) // BATCH, 1)))
  model, params = cas.train_classifier(x, y, epochs=epochs, batch_size=min(BATCH, len(x)),
                                       seed=seed)
  return cas.evaluate_accuracy(model, params, test_x, test_y)


def markdown(rows: list[dict]) -> str:
  """Mean +- std over seeds of each variant, one line per N."""
  variants = ['real', 'real+generated', 'generated N', 'generated M']
  lines = ['| N real | ' + ' | '.join(variants) + ' |', '|---' * (len(variants) + 1) + '|']
  for size in sorted({r['n'] for r in rows}):
    cells = []
    for variant in variants:
      values = [r['accuracy'] for r in rows if r['n'] == size and r['variant'] == variant]
      cells.append(f'{100 * np.mean(values):.1f} +- {100 * np.std(values, ddof=1):.1f} '
                   f'({len(values)})' if len(values) > 1 else
                   (f'{100 * values[0]:.1f} (1)' if values else '-'))
    lines.append(f'| {size} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def main(argv):
  del argv
  run = gan_jax.load_run(_WORKDIR.value, _STEP.value)
  if not run.is_conditional:
    raise ValueError(f'{_WORKDIR.value} is not a conditional run (config.game.name='
                     f'{run.config.game.name!r}); its samples have no labels.')
  train_x, train_y = load_split('train')
  test_x, test_y = load_split('test')
  num_classes = run.num_classes
  rows = []
  for seed in range(_SEEDS.value):
    generated_y = np.arange(_GENERATED.value, dtype=np.int32) % num_classes
    generated_x = run.sample(_GENERATED.value, seed=1000 + seed, labels=generated_y)
    for size in (int(s) for s in _SIZES.value):
      chosen = stratified_subset(train_y, size, num_classes, seed)
      real_x, real_y = to_unit_range(train_x[chosen]), train_y[chosen]
      variants = {
          'real': (real_x, real_y),
          'real+generated': (np.concatenate([real_x, generated_x]),
                             np.concatenate([real_y, generated_y])),
          'generated N': (generated_x[:size], generated_y[:size]),
          'generated M': (generated_x, generated_y),
      }
      for variant, (x, y) in variants.items():
        start = time.perf_counter()
        accuracy = train_and_test(x, y, test_x, test_y, seed)
        rows.append({'n': size, 'seed': seed, 'variant': variant, 'train_examples': len(x),
                     'accuracy': accuracy, 'seconds': time.perf_counter() - start})
        print(json.dumps(rows[-1]), flush=True)
        temporary = f'{_OUT.value}.tmp'
        with open(temporary, 'w', encoding='utf-8') as f:
          json.dump({'workdir': _WORKDIR.value, 'run_step': run.step,
                     'generated': _GENERATED.value, 'train_steps': _TRAIN_STEPS.value,
                     'rows': rows}, f, indent=1)
        os.replace(temporary, _OUT.value)
  print(markdown(rows))


if __name__ == '__main__':
  app.run(main)
