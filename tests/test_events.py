"""What the loop does after each step, and how many steps a compiled call may run."""

from gan_jax.core import events
from tiny_configs import tiny_config


def _config(**fields):
  return tiny_config(**{'num_train_steps': 100, 'log_every_steps': 10,
                        'sample_every_steps': 25, 'checkpoint_every_steps': 50,
                        'eval.every_steps': 40, **fields})


def test_events_fall_on_their_cadences_and_everything_on_the_last_step():
  config = _config()
  assert events.events_after(10, config, evaluates=True) == {'log'}
  assert events.events_after(7, config, evaluates=True) == set()
  assert events.events_after(50, config, evaluates=True) == {'log', 'sample', 'save'}
  assert events.events_after(40, config, evaluates=True) == {'log', 'eval'}
  assert events.events_after(40, config, evaluates=False) == {'log'}
  assert events.events_after(100, config, evaluates=True) == set(events.EVENTS)
  assert events.events_after(100, config, evaluates=False) == {'log', 'sample', 'save'}
  # eval.every_steps = 0: only at the end.
  assert events.events_after(40, _config(**{'eval.every_steps': 0}), evaluates=True) == {'log'}


def test_k_steps_per_call_only_when_no_event_falls_inside():
  config = _config(steps_per_call=5)
  assert events.steps_in_next_call(0, config, evaluates=False) == 5  # 1..4 are quiet
  assert events.steps_in_next_call(5, config, evaluates=False) == 5  # 6..9, then log at 10
  assert events.steps_in_next_call(7, config, evaluates=False) == 1  # 10 would fall inside
  assert events.steps_in_next_call(97, config, evaluates=False) == 1  # past the end
  assert events.steps_in_next_call(0, _config(), evaluates=False) == 1  # K = 1
