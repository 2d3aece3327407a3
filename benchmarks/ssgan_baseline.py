r"""Semi-supervised GAN against the same network trained on the labels alone (and on all labels).

  python benchmarks/ssgan_baseline.py --data_path=../shared/data/fashion-mnist \
      --num_labeled=100 --seeds=0,1,2 --steps=5000 --out=results.jsonl \
      [--config.model.d_data_init=True ...]

For each seed, with the labelled examples that seed picks (`data.num_labeled`, balanced;
`gan_jax.data.labeled`):
  ssgan       `experiments/fashion_ssgan.py` (or `--config`) trained for `--steps` steps by
              `train_and_evaluate`, its D loaded with `load_run(...).classify`;
  supervised  the same discriminator network (the same Gaussian noise layers: the only
              augmentation either has), the same labelled stream of batches, the same
              optimizer, learning rate, EMA and number of steps, trained on the
              cross-entropy of the labelled examples only;
  all_labels  (with `--ceiling`) `supervised` on all the training split's labels: the
              ceiling of the network.
Every variant is scored on the whole test split (never seen in training), by the EMA
weights as `Run.classify` uses them. Each result is appended to `--out` (JSON lines) as it
finishes, so a long study keeps what it finished; a Markdown table closes the output.
"""

import json
import os
import pathlib
import sys
import tempfile
import time

from absl import app
from absl import flags
from ml_collections import config_flags
import jax
import numpy as np

from gan_jax import data
from gan_jax import games
from gan_jax import train
from gan_jax import run as run_lib
from gan_jax.core import optim
from gan_jax.core import step as step_lib
from gan_jax.games import semi_supervised

_ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAGS = flags.FLAGS
_CONFIG = config_flags.DEFINE_config_file(
    'config', str(_ROOT / 'experiments' / 'fashion_ssgan.py'),
    'Experiment file of the semi-supervised run; --config.<field>=<value> overrides a field '
    'for every variant (e.g. --config.model.d_data_init=True).')
flags.DEFINE_string('data_path', '', 'An IDX folder (sets config.data.name=idx); '
                    "'' = the experiment's own data.")
flags.DEFINE_integer('num_labeled', 100, 'Labelled training examples (balanced).')
flags.DEFINE_list('seeds', ['0'], 'Seeds: each picks its labels, initialisation and order.')
flags.DEFINE_integer('steps', 5000, 'Training steps of every variant.')
flags.DEFINE_bool('ceiling', False, 'Also train the supervised network on all labels.')
flags.DEFINE_list('variants', ['ssgan', 'supervised'], 'ssgan | supervised (all_labels: --ceiling).')
flags.DEFINE_string('out', '', 'JSON-lines file the results are appended to.')
flags.DEFINE_string('workdir', '', 'Where the SSGAN runs go (default: a temporary folder).')


def make_config(seed: int, num_labeled: int, steps: int):
  """The experiment's config for one seed, label count and length."""
  config = _CONFIG.value.copy_and_resolve_references()
  config.seed = seed
  config.data.num_labeled = num_labeled
  if FLAGS.data_path:
    config.data.name = 'idx'
    config.data.path = FLAGS.data_path
  config.num_train_steps = steps
  config.sample_every_steps = steps
  config.checkpoint_every_steps = steps
  config.log_every_steps = min(config.log_every_steps, steps)
  config.compilation_cache = False
  return config


def test_set(config) -> dict:
  """The whole test split, preprocessed as in training."""
  data_config = config.data.copy_and_resolve_references()
  data_config.split = 'test'
  source = data.make_source(data_config, config.seed)
  return data.read_examples(source, data_config, len(source), config.seed)


def error_of(logits: np.ndarray, labels: np.ndarray) -> float:
  """Classification error of (N, K) logits against int labels (N,)."""
  return float(np.mean(np.argmax(logits, axis=1) != labels))


def train_ssgan(config, workdir: str, test: dict) -> float:
  """Test error of the semi-supervised GAN's D after `config.num_train_steps` steps."""
  train.train_and_evaluate(config, workdir)
  return error_of(run_lib.load_run(workdir).classify(test['x']), test['y'])


def train_supervised(config, test: dict) -> float:
  """Test error of the same D trained on the labelled stream's cross-entropy only."""
  source = data.make_source(config.data, config.seed)
  pipeline = data.make_semi_supervised_pipeline(source, config.data, config.batch_size,
                                                config.seed)
  game = games.make_game(config, pipeline.element_shape, source.num_classes)
  module = game.modules['d']
  params = game.init_players(jax.random.PRNGKey(config.seed))[0]['d']
  if game.initialises_from_data:  # model.d_data_init: as train.init_from_data does for the SSGAN.
    first = train.peek_first_batch(pipeline)
    params = game.init_d_from_data(params, first['x'], jax.random.fold_in(
        jax.random.PRNGKey(config.seed), train.DATA_INIT_STREAM))
  optimizer = optim.make_optimizers(config)['d']
  opt_state = optimizer.init(params)
  ema = params
  base_key = jax.random.PRNGKey(config.seed + 1)
  decay = float(config.optim.ema_decay)

  @jax.jit
  def step(params, opt_state, ema, x, y, i):
    key = jax.random.fold_in(base_key, i)

    def loss_fn(p):
      logits, _ = module.apply({'params': p}, x, train=True, noise_key=key)
      return semi_supervised.supervised_loss(logits, y)

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = jax.tree.map(lambda p, u: p + u, params, updates)
    d = step_lib.ema_decay_at(i, decay) if decay > 0 else 0.0
    ema = jax.tree.map(lambda e, p: d * e + (1 - d) * p, ema, params)
    return params, opt_state, ema, loss

  for i in range(config.num_train_steps):
    batch = next(pipeline)
    params, opt_state, ema, _ = step(params, opt_state, ema, batch['x_lab'], batch['y_lab'], i)
  pipeline.close()
  classify = jax.jit(lambda p, x: module.apply({'params': p}, x, train=False)[0])
  logits = np.concatenate([np.asarray(classify(ema, test['x'][i:i + 1000]))
                           for i in range(0, len(test['x']), 1000)])
  return error_of(logits, test['y'])


def main(argv):
  del argv
  rows = []
  variants = list(FLAGS.variants) + (['all_labels'] if FLAGS.ceiling else [])
  workroot = FLAGS.workdir or tempfile.mkdtemp(prefix='ssgan_baseline_')
  test = None
  for seed in map(int, FLAGS.seeds):
    for variant in variants:
      num_labeled = FLAGS.num_labeled
      config = make_config(seed, num_labeled, FLAGS.steps)
      if test is None:
        test = test_set(config)
      start = time.time()
      if variant == 'ssgan':
        workdir = os.path.join(workroot, f'ssgan_n{num_labeled}_s{seed}_t{FLAGS.steps}')
        error = train_ssgan(config, workdir, test)
      elif variant == 'supervised':
        error = train_supervised(config, test)
      elif variant == 'all_labels':
        source = data.make_source(config.data, seed)
        num_labeled = len(source)  # Every training example labelled (balanced splits only).
        config.data.num_labeled = num_labeled
        error = train_supervised(config, test)
      else:
        raise ValueError(f'--variants: unknown {variant!r}; known: ssgan, supervised.')
      row = {'variant': variant, 'num_labeled': num_labeled, 'seed': seed,
             'steps': FLAGS.steps, 'test_error': error, 'seconds': round(time.time() - start),
             'config': os.path.relpath(config_flags.get_config_filename(FLAGS['config']), _ROOT),
             'overrides': [arg for arg in sys.argv[1:] if arg.startswith('--config.')]}
      rows.append(row)
      print(json.dumps(row), flush=True)
      if FLAGS.out:
        with open(FLAGS.out, 'a') as f:
          f.write(json.dumps(row) + '\n')
  print('\n| variant | labels | seed | steps | test error |\n|---|---|---|---|---|')
  for row in rows:
    print(f'| {row["variant"]} | {row["num_labeled"]} | {row["seed"]} | {row["steps"]} | '
          f'{100 * row["test_error"]:.2f}% |')


if __name__ == '__main__':
  app.run(main)
