"""The mode-coverage table of docs/results.md: ring and grid study rows beside the published ones.

  python benchmarks/mode_coverage_table.py --out=runs/mode_table \\
      [--rows=ring,gan;grid,gan;...] [--seeds=5] [--budget_seconds=0]

Each row is `experiments/mixture_study.py:<dataset>,<method>` (or `best` for
`experiments/<dataset>_best.py`), trained for every seed at once
(`gan_jax.study --parallel_seeds`) and scored with the VEEGAN protocol. Writes
`<out>/studies.jsonl` (one study per line, appended as each row finishes),
`<out>/table.md` (gan_jax rows, mean ± std over seeds, then the published rows) and
`<out>/samples.png` (a row of final samples per study, one picture per seed).
With a budget, rows that would start after it are skipped and listed.
"""

import importlib.util
import json
import os
import pathlib
import time

from absl import app
from absl import flags
import numpy as np
from PIL import Image

from gan_jax import study

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[1] / 'experiments'
DEFAULT_ROWS = ('ring,gan;grid,gan;ring,unrolled;grid,unrolled;ring,wgan_gp;grid,wgan_gp;'
                'ring,pacgan1;grid,pacgan1;ring,pacgan2;grid,pacgan2;ring,pacgan3;grid,pacgan3;'
                'ring,pacgan4;grid,pacgan4;ring,best;grid,best')

# (modes, % high quality) on ring (of 8) and grid (of 25), from the papers' tables.
PUBLISHED = [
    ('GAN', '1; 99.3', '3.3; 0.5', 'VEEGAN, Table 1'),
    ('Unrolled GAN', '7.6; 35.6', '23.6; 16', 'VEEGAN, Table 1'),
    ('VEEGAN', '8; 52.9', '24.6; 40', 'VEEGAN, Table 1'),
    ('WGAN-GP', '6.8; 59.6', '24.2; 28.7', 'GDPP, Table 1'),
    ('GDPP', '8.0; 71.7', '24.8; 68.5', 'GDPP, Table 1'),
    ("GAN (PacGAN's architecture)", '6.3; 98.2', '17.3; 94.8', 'PacGAN, Table 1'),
    ('PacGAN2', '7.9; 95.6', '23.8; 91.3', 'PacGAN, Table 1'),
    ('PacGAN3', '7.8; 97.7', '24.6; 94.2', 'PacGAN, Table 1'),
    ('PacGAN4', '7.8; 95.9', '24.8; 93.6', 'PacGAN, Table 1'),
]

_OUT = flags.DEFINE_string('out', None, 'Output folder.')
_ROWS = flags.DEFINE_string('rows', DEFAULT_ROWS, 'Semicolon-separated <dataset>,<method>.')
_SEEDS = flags.DEFINE_integer('seeds', 5, 'Seeds per row.')
_STEPS = flags.DEFINE_integer('num_train_steps', 0, 'Override the steps of every row (0 = keep).')
_BUDGET = flags.DEFINE_float('budget_seconds', 0, 'Start no row after this long (0 = no limit).')
flags.mark_flags_as_required(['out'])


def load_row_config(row: str):
  """The config of `<dataset>,<method>`: a mixture_study row or `<dataset>_best.py`."""
  dataset, _, method = row.partition(',')
  path, arg = EXPERIMENTS / 'mixture_study.py', row
  if method == 'best':
    path, arg = EXPERIMENTS / f'{dataset}_best.py', None
  spec = importlib.util.spec_from_file_location(path.stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg) if arg else module.get_config()


def cell(summary: dict) -> str:
  """'modes ± std; high-quality % ± std; KL ± std' of one study."""
  modes, hq, kl = summary['modes'], summary['high_quality'], summary['mode_kl']
  return (f'{modes["mean"]:.1f} ± {modes["std"]:.1f}; {100 * hq["mean"]:.1f} ± '
          f'{100 * hq["std"]:.1f}; {kl["mean"]:.3f}')


def markdown_table(studies: list[dict]) -> str:
  """gan_jax rows (one per method, ring and grid side by side), then the published rows."""
  by_method = {}
  for s in studies:
    dataset, _, method = s['name'].partition(',')
    by_method.setdefault(method, {})[dataset] = s
  lines = ['| method | ring: modes (of 8); % high quality; KL | grid: modes (of 25); '
           '% high quality; KL | wall s (ring / grid, all seeds) | source |',
           '|---|---|---|---|---|']
  for method, rows in by_method.items():
    seeds = max(len(r['seeds']) for r in rows.values())
    ring, grid = rows.get('ring'), rows.get('grid')
    wall = ' / '.join(f'{sum(r["wall_seconds"]):.0f}' if r else '-' for r in (ring, grid))
    lines.append(f'| gan_jax `{method}` | {cell(ring["summary"]) if ring else "-"} | '
                 f'{cell(grid["summary"]) if grid else "-"} | {wall} | this table, '
                 f'{seeds} seeds |')
  for name, ring, grid, source in PUBLISHED:
    lines.append(f'| {name} | {ring} | {grid} | | {source} |')
  return '\n'.join(lines)


def samples_montage(out: str, studies: list[dict], size: int = 160) -> None:
  """One row of per-seed sample pictures per study, in the order of the table."""
  rows = []
  for s in studies:
    pictures = []
    for seed in s['seeds']:
      path = os.path.join(out, s['name'].replace(',', '_').replace('+', '_'), f'seed_{seed}.png')
      pictures.append(np.asarray(Image.open(path).convert('RGB').resize((size, size))))
    rows.append(np.concatenate(pictures, axis=1))
  width = max(r.shape[1] for r in rows)
  rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
  Image.fromarray(np.concatenate(rows, axis=0)).save(os.path.join(out, 'samples.png'))


def main(argv):
  del argv
  out = _OUT.value
  os.makedirs(out, exist_ok=True)
  start = time.perf_counter()
  studies, skipped = [], []
  for row in [r for r in _ROWS.value.split(';') if r]:
    if _BUDGET.value and time.perf_counter() - start > _BUDGET.value:
      skipped.append(row)
      continue
    config = load_row_config(row)
    if _STEPS.value:
      config.num_train_steps = _STEPS.value
    workdir = os.path.join(out, row.replace(',', '_').replace('+', '_'))
    result = study.run_study(config, workdir, _SEEDS.value, name=row, parallel_seeds=True)
    result = {k: v for k, v in result.items() if k != 'config'}
    studies.append(result)
    with open(os.path.join(out, 'studies.jsonl'), 'a') as f:
      f.write(json.dumps(result) + '\n')
    print(f'{row}: {cell(result["summary"])} in {sum(result["wall_seconds"]):.1f} s', flush=True)
  table = markdown_table(studies)
  if skipped:
    table += '\n\nNot run (time budget): ' + ', '.join(skipped)
  with open(os.path.join(out, 'table.md'), 'w') as f:
    f.write(table + '\n')
  samples_montage(out, studies)
  print(table)


if __name__ == '__main__':
  app.run(main)
