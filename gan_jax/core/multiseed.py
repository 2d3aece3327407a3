"""Several seeds of one config trained at once: the whole state vmapped over seeds.

A 2-D mode-collapse study trains the same tiny networks for five seeds or more.
Stacking the seeds' states along a leading axis and `jax.vmap`-ing the step runs every
seed in the kernels of one; with the data drawn on device (`config.data.draw_on_device`)
and `config.steps_per_call` steps per call, a whole study is one dispatch per K steps
for all seeds together, with one compilation. It is not by itself faster than
separate runs: the kernels grow with the seed count
(docs/performance.md#seeds-vmapped-together).

Seed s starts from exactly the state `create_state` gives with `config.seed = s`, and
its randomness is its own key's, so each vmapped seed follows the trajectory of a
separate run up to floating-point reassociation.
"""

import time
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data
from gan_jax import evaluation
from gan_jax import games
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.data import on_device
from gan_jax.core.state import GameState

# Every source that can be drawn on device is a 2-D mixture.
_POINT_SHAPE = (2,)


def _check(config) -> None:
  validation.validate_config(config)
  if on_device.make_device_sampler(config.data) is None:
    raise ValueError('Training seeds in parallel needs data drawn inside the step: set '
                     'config.data.draw_on_device=True (ring or grid with fresh_samples).')


def _num_classes(config) -> int:
  """The mixture's modes, which are its labels (conditional games on 2-D mixtures)."""
  return len(data.mixture_means(config.data))


def init_states(config, seeds: Sequence[int]) -> GameState:
  """The initial states of `seeds`, stacked along a new leading axis."""
  keys = jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds])
  num_classes = _num_classes(config)
  return jax.jit(jax.vmap(
      lambda key: state_lib.init_state(config, _POINT_SHAPE, key, num_classes)))(keys)


def seed_state(states: GameState, index: int) -> GameState:
  """The state of the `index`-th seed of stacked `states`."""
  return jax.tree.map(lambda x: x[index], states)


def train_seeds(config, seeds: Sequence[int]) -> tuple[GameState, np.ndarray, float]:
  """Trains `config` for every seed at once.

  Returns:
    (states stacked over seeds, finite (S,) bool: whether each seed's losses stayed
    finite at every step, wall seconds including compilation).
  """
  _check(config)
  start = time.perf_counter()
  states = init_states(config, seeds)
  step_fn = step_lib.make_train_step_fn(config, _POINT_SHAPE, num_classes=_num_classes(config))

  def compiled(steps: int):
    multi = step_lib.make_multi_step_fn(step_fn, steps)
    return jax.jit(jax.vmap(multi, in_axes=(0, None)), donate_argnums=0)

  def all_finite(metrics) -> jax.Array:
    # (S, K) per loss -> (S,): did every step of the call stay finite, per seed?
    return jnp.all(jnp.stack([jnp.isfinite(metrics[name]) for name in ('d_loss', 'g_loss')]),
                   axis=(0, 2))

  per_call = int(config.steps_per_call)
  num_steps = int(config.num_train_steps)
  finite = jnp.ones((len(seeds),), bool)
  if num_steps >= per_call:
    chunk = compiled(per_call)
    for _ in range(num_steps // per_call):
      states, metrics = chunk(states, None)
      finite = finite & all_finite(metrics)  # Stays on device: no host sync per call.
  if num_steps % per_call:
    states, metrics = compiled(num_steps % per_call)(states, None)
    finite = finite & all_finite(metrics)
  finite = np.asarray(jax.device_get(finite))
  return states, finite, time.perf_counter() - start


def evaluate_seeds(config, states: GameState, seeds: Sequence[int]) -> list[tuple[dict, np.ndarray]]:
  """(`config.eval` results, evaluation samples) of each seed's state.

  Seed s is scored exactly as a separate run with `config.seed = s` is at its end: the
  same evaluation noise and the same metrics.
  """
  sample = step_lib.make_sample_fn(config, _POINT_SHAPE, num_classes=_num_classes(config))
  noise_dim = games.make_game(config, _POINT_SHAPE, _num_classes(config)).noise_dim
  mesh = parallel.make_mesh(jax.devices()[:1])
  outputs = []
  for index, seed in enumerate(seeds):
    seed_config = config.copy_and_resolve_references()
    seed_config.seed = int(seed)
    evaluator = evaluation.make_evaluator(seed_config)
    state = seed_state(states, index)
    samples = evaluation.generate_samples(sample, state, seed_config.eval.num_samples,
                                          seed_config, mesh, noise_dim=noise_dim)
    results = {}
    if evaluator is not None:
      results, _ = evaluator.evaluate(lambda num, s=samples: s[:num])
    outputs.append((results, samples))
  return outputs
