"""A digest of a short training run: to check that a refactor changes no number.

  python benchmarks/state_digest.py --config=experiments/digits_dcgan_unconditional.py --steps=200

Trains the config for `--steps` steps through `gan_jax.train_and_evaluate` in a fresh
temporary workdir and prints JSON: a SHA-256 of every player's parameters, batch
statistics and EMA weights, and the losses of the last logged step. Run it before and
after a change: equal digests mean the change computed the same training bit for bit.
"""

import hashlib
import json
import tempfile

import jax
import numpy as np
from absl import app
from absl import flags
from ml_collections import config_flags

import gan_jax

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.')
_STEPS = flags.DEFINE_integer('steps', 200, 'Training steps.')
flags.mark_flags_as_required(['config'])


def tree_digest(tree) -> str:
  """SHA-256 over the leaves of `tree` (flattened in key order) and their dtypes and shapes."""
  digest = hashlib.sha256()
  for path, leaf in jax.tree_util.tree_flatten_with_path(jax.device_get(tree))[0]:
    array = np.asarray(leaf)
    digest.update(jax.tree_util.keystr(path).encode())
    digest.update(f'{array.dtype}{array.shape}'.encode())
    digest.update(np.ascontiguousarray(array).tobytes())
  return digest.hexdigest()[:16]


def player_trees(state) -> dict:
  """Each player's variables by the names of the fixed-field state (state format 1).

  So that digests of runs before and after the game redesign compare directly.
  """
  if not hasattr(state, 'params'):  # A state from before games (g_params, d_params, ...).
    return {name: getattr(state, name) for name in
            ('g_params', 'g_batch_stats', 'd_params', 'd_batch_stats', 'ema_params')}
  trees = {}
  for player, params in state.params.items():
    trees[f'{player}_params'] = params
    trees[f'{player}_batch_stats'] = state.batch_stats[player]
  for player, ema in state.ema.items():
    trees['ema_params' if player == 'g' else f'ema_{player}'] = ema
  return trees


def main(argv):
  del argv
  config = _CONFIG.value
  config.num_train_steps = _STEPS.value
  config.log_every_steps = min(config.log_every_steps, _STEPS.value)
  config.eval.metrics = ()
  with tempfile.TemporaryDirectory() as workdir:
    state = gan_jax.train_and_evaluate(config, workdir)
    with open(f'{workdir}/metrics.jsonl') as f:
      last = [json.loads(line) for line in f][-1]
  parts = {name: tree_digest(tree) for name, tree in player_trees(state).items()}
  losses = {k: v for k, v in last.items() if k.startswith(('d_', 'g_'))}
  print(json.dumps({'step': int(state.step), 'digests': parts, 'losses': losses},
                   sort_keys=True))


if __name__ == '__main__':
  app.run(main)
