"""What the training loop does after a step: pure functions of the step and the config.

`events_after(step, config, evaluates)` says which of log, sample, eval and save fall on
`step`; `steps_in_next_call` how many steps the next compiled call may run (K steps per
call only when no event falls strictly inside them), so a run with
`config.steps_per_call = K` writes exactly the files a run of single steps writes.
"""

EVENTS = ('log', 'sample', 'eval', 'save')


def events_after(step: int, config, evaluates: bool) -> set[str]:
  """The events after `step`: a subset of EVENTS.

  `evaluates` says whether the run has an evaluator (`config.eval.metrics`). The last
  step logs, draws, saves, and evaluates when there is an evaluator.
  """
  if step == config.num_train_steps:
    return {name for name in EVENTS if name != 'eval' or evaluates}
  due = {
      'log': step % config.log_every_steps == 0,
      'sample': step % config.sample_every_steps == 0,
      'save': step % config.checkpoint_every_steps == 0,
      'eval': evaluates and bool(config.eval.every_steps) and step % config.eval.every_steps == 0,
  }
  return {name for name, now in due.items() if now}


def steps_in_next_call(step: int, config, evaluates: bool) -> int:
  """`config.steps_per_call` (K) when no event falls strictly inside the next K steps, else 1."""
  per_call = int(config.steps_per_call)
  if per_call == 1 or step + per_call > config.num_train_steps:
    return 1
  inside = range(step + 1, step + per_call)
  return 1 if any(events_after(s, config, evaluates) for s in inside) else per_call
