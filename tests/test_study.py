"""The study command: seeds one by one or vmapped in parallel, and its table."""

import json

import jax
import numpy as np
import pytest

from gan_jax.core import multiseed
from gan_jax import study
from gan_jax import train
from tiny_configs import tiny_config


def _ring_config():
  config = tiny_config(**{'data.name': 'ring', 'data.fresh_samples': True,
                          'data.draw_on_device': True, 'model.name': 'mlp',
                          'optim.ema_decay': 0.0, 'steps_per_call': 4,
                          'eval.metrics': ('mode_coverage',), 'eval.num_samples': 200})
  config.num_train_steps = 10  # Two calls of 4 steps and a remainder of 2.
  config.log_every_steps = 10
  config.sample_every_steps = 10
  config.checkpoint_every_steps = 10
  return config


@pytest.mark.slow
def test_parallel_seeds_follow_the_trajectories_of_separate_runs(tmp_path):
  config = _ring_config()
  states, finite, _ = multiseed.train_seeds(config, [3, 5])
  assert finite.tolist() == [True, True]
  for index, seed in enumerate([3, 5]):
    seed_config = config.copy_and_resolve_references()
    seed_config.seed = seed
    alone = jax.device_get(train.train_and_evaluate(seed_config, str(tmp_path / f'run{seed}')))
    together = jax.device_get(multiseed.seed_state(states, index))
    for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(together)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  # Two seeds really differ.
  assert not np.allclose(jax.tree.leaves(multiseed.seed_state(states, 0).params['g'])[0],
                         jax.tree.leaves(multiseed.seed_state(states, 1).params['g'])[0])


@pytest.mark.slow
def test_study_writes_per_seed_results_mean_and_std(tmp_path):
  config = _ring_config()
  result = study.run_study(config, str(tmp_path / 'serial'), seeds=2, first_seed=3)
  parallel = study.run_study(config, str(tmp_path / 'parallel'), seeds=2, first_seed=3,
                             parallel_seeds=True)
  saved = json.loads((tmp_path / 'serial' / 'study.json').read_text())
  assert saved['seeds'] == [3, 4] and len(saved['per_seed']) == 2
  modes = [r['modes'] for r in saved['per_seed']]
  assert saved['summary']['modes']['mean'] == pytest.approx(np.mean(modes))
  assert saved['summary']['modes']['std'] == pytest.approx(np.std(modes, ddof=1))
  assert '| serial (2 seeds) |' in (tmp_path / 'serial' / 'study.md').read_text()
  # The vmapped study scores the same seeds the same way.
  for alone, together in zip(result['per_seed'], parallel['per_seed']):
    assert together['modes'] == alone['modes']
    assert together['high_quality'] == pytest.approx(alone['high_quality'], abs=0.01)
    assert together['diverged'] == 0.0
  assert (tmp_path / 'parallel' / 'seed_4.png').exists()


def test_parallel_seeds_need_data_drawn_on_device(tmp_path):
  config = _ring_config()
  config.data.draw_on_device = False
  with pytest.raises(ValueError, match='draw_on_device=True'):
    study.run_study(config, str(tmp_path), seeds=1, parallel_seeds=True)


def test_final_eval_without_metrics_is_a_clear_error(tmp_path):
  path = tmp_path / 'metrics.jsonl'
  path.write_text('{"step": 10, "d_loss": 1.0}\n')
  with pytest.raises(ValueError, match='no eval'):
    study.final_eval(str(path), 10)
