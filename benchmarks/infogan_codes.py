r"""InfoGAN's categorical code as an unsupervised classifier, per seed, with its confusions.

Trains (or resumes) one run per seed of an InfoGAN experiment, then reads Q's
categorical code on the labelled reference set (all of it, `eval.reference_split` or the
training split), maps code values to classes one to one (Hungarian method) and reports
the accuracy, the mapping, and the classes that share a code value (a merge such as
4/9) or are split over several values. Each finished seed is appended to `--out` (JSON),
so a long study can be stopped and read at any time.

With `--candidates=N --select_at=S`, each seed is a best-of-N restart chosen without
labels: candidate i trains with seed `seed + 1000 i` (candidate 0 is the plain seed) for
S steps; the one whose code carries the most information about the real images
(`code_information`: H(mean p(c|x)) - mean H(p(c|x)) of Q on the reference images, no
label read) trains on to `num_train_steps` and is scored. Every candidate's information
and (for the record only) code accuracy at S steps, and the eval trajectory in its
metrics.jsonl, are written to the row.

  python benchmarks/infogan_codes.py --config=experiments/mnist_infogan.py --seeds=0,1,2,3,4 \
      --workdir=runs/infogan_mnist --out=docs/infogan_mnist.json \
      --config.data.name=idx --config.data.path=../shared/data/mnist --config.data.split=test
"""

import json
import os
import time

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags
import numpy as np

from gan_jax import run as run_lib
from gan_jax import train
from gan_jax.metrics import codes

# A sibling file: benchmarks/ is sys.path[0] when this runs as a script.
from code_scores import labelled_reference, score_codes  # pylint: disable=g-bad-import-order

_CONFIG = config_flags.DEFINE_config_file('config', None, 'An InfoGAN experiment file.')
_SEEDS = flags.DEFINE_list('seeds', ['0'], 'Seeds to train and score.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Runs go to <workdir>/seed_<s>.')
_OUT = flags.DEFINE_string('out', None, 'JSON file the per-seed results are written to.')
_CANDIDATES = flags.DEFINE_integer(
    'candidates', 1, 'Runs per seed; with more than one, the one with the most '
    'code_information at --select_at steps is trained on (no label is read to choose).')
_SELECT_AT = flags.DEFINE_integer('select_at', None,
                                  'Steps after which the candidates are compared.')
flags.mark_flags_as_required(['config', 'workdir', 'out'])


def eval_trajectory(workdir: str) -> list:
  """The eval/ lines of a run's metrics.jsonl: [{'step', <metric>: value}]."""
  rows = []
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    for line in f:
      values = json.loads(line)
      evals = {k[len('eval/'):]: v for k, v in values.items() if k.startswith('eval/')}
      if evals:
        rows.append({'step': values['step'], **evals})
  return rows


def train_seed(config, seed: int, workdir: str, reference: dict) -> tuple:
  """(run, extra row fields) of one seed: a plain run, or the best of --candidates by
  code information at --select_at steps, trained on to the config's length."""
  if _CANDIDATES.value <= 1:
    config.seed = seed
    train.train_and_evaluate(config, workdir)
    return run_lib.load_run(workdir), {}
  if not _SELECT_AT.value or _SELECT_AT.value >= config.num_train_steps:
    raise ValueError(f'--select_at={_SELECT_AT.value} must be a step count below '
                     f'config.num_train_steps={config.num_train_steps}.')
  candidates = []
  for i in range(_CANDIDATES.value):
    short = config.copy_and_resolve_references()
    short.seed = seed + 1000 * i
    short.num_train_steps = _SELECT_AT.value
    candidate_dir = os.path.join(workdir, f'candidate_{i}')
    train.train_and_evaluate(short, candidate_dir)
    run = run_lib.load_run(candidate_dir)
    information = codes.code_information(run.encode(reference['x'])['code_logits'])
    score = score_codes(run, reference)
    candidates.append({'seed': short.seed, 'workdir': candidate_dir,
                       'code_information': information.information,
                       'code_marginal_entropy': information.marginal_entropy,
                       'code_accuracy': score['code_accuracy'],
                       'merged_values': score['merged_values']})
    print(json.dumps({k: v for k, v in candidates[-1].items() if k != 'workdir'}))
  chosen = max(range(len(candidates)), key=lambda i: candidates[i]['code_information'])
  config.seed = candidates[chosen]['seed']
  train.train_and_evaluate(config, candidates[chosen]['workdir'])  # Resumes at select_at.
  for candidate in candidates:
    candidate['trajectory'] = eval_trajectory(candidate.pop('workdir'))
  return (run_lib.load_run(os.path.join(workdir, f'candidate_{chosen}')),
          {'select_at': _SELECT_AT.value, 'chosen': chosen, 'candidates': candidates})


def written_rows() -> list:
  """The seeds already in `--out` ([] when it does not exist yet)."""
  if not os.path.exists(_OUT.value):
    return []
  with open(_OUT.value) as f:
    return json.load(f)['seeds']


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  done = {row['seed'] for row in written_rows()}
  for seed in (int(s) for s in _SEEDS.value):
    if seed in done:
      continue
    config = _CONFIG.value.copy_and_resolve_references()
    config.seed = seed
    workdir = os.path.join(_WORKDIR.value, f'seed_{seed}')
    start = time.time()
    reference = labelled_reference(config)
    run, selection = train_seed(config, seed, workdir, reference)
    row = {'seed': seed, 'steps': run.step, 'wall_s': round(time.time() - start, 1),
           **score_codes(run, reference), **selection}
    # Read the file again: another process (e.g. other seeds on the other core) may have
    # added its seeds to it since this one started.
    rows = [r for r in written_rows() if r['seed'] != seed] + [row]
    print(json.dumps({k: row[k] for k in ('seed', 'code_accuracy', 'merged_values')}))
    accuracies = [r['code_accuracy'] for r in rows]
    summary = {'config': _CONFIG.value.to_dict(), 'seeds': rows,
               'code_accuracy_mean': float(np.mean(accuracies)),
               'code_accuracy_min': float(np.min(accuracies))}
    temporary = f'{_OUT.value}.tmp'
    with open(temporary, 'w') as f:
      json.dump(summary, f, indent=1, default=str)
    os.replace(temporary, _OUT.value)


if __name__ == '__main__':
  app.run(main)
