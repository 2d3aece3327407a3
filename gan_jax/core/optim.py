"""Optimizers by name, with separate learning rates for the two players (TTUR).

`make_optimizer(optim_config, lr, num_train_steps)` builds one optax transform; the
generator side and the discriminator side each get their own with `g_lr` and `d_lr`.
"""

import optax

OPTIMIZERS = ('adam', 'rmsprop', 'sgd')
SCHEDULES = ('constant', 'linear', 'cosine')


def make_schedule(optim_config, lr: float, num_steps: int) -> optax.Schedule:
  """Learning rate schedule: optional linear warm-up, then constant, linear or cosine decay.

  `num_steps` counts updates of the player, so the decay ends with training whatever
  `n_critic` is.
  """
  name = optim_config.schedule
  if name not in SCHEDULES:
    raise ValueError(f'config.optim.schedule={name!r} is unknown; known: {", ".join(SCHEDULES)}.')
  warmup = int(optim_config.warmup_steps)
  decay_steps = max(num_steps - warmup, 1)
  if name == 'constant':
    main = optax.constant_schedule(lr)
  elif name == 'linear':
    # Held at lr for the first `constant_fraction` of the steps (CycleGAN: half), then
    # decayed linearly to 0 at the last step.
    fraction = float(optim_config.constant_fraction)
    if not 0.0 <= fraction < 1.0:
      raise ValueError(f'config.optim.constant_fraction={fraction} must be in [0, 1).')
    hold = int(round(fraction * decay_steps))
    main = optax.linear_schedule(lr, 0.0, max(decay_steps - hold, 1))
    if hold:
      main = optax.join_schedules([optax.constant_schedule(lr), main], [hold])
  else:
    main = optax.cosine_decay_schedule(lr, decay_steps)
  if warmup <= 0:
    return main
  return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), main], [warmup])


def make_optimizer(optim_config, lr: float, num_steps: int,
                   differentiable: bool = False) -> optax.GradientTransformation:
  """The optax optimizer named by `optim_config.name` with a schedule peaking at `lr`.

  `differentiable` makes the update safe to differentiate through (unrolled GANs):
  Adam then adds a tiny `eps_root` under its square root, whose derivative is infinite
  at a zero second moment (any parameter with a zero gradient); RMSProp already does.
  """
  name = optim_config.name
  schedule = make_schedule(optim_config, lr, num_steps)
  if name == 'adam':
    return optax.adam(schedule, b1=optim_config.b1, b2=optim_config.b2,
                      eps_root=1e-8 if differentiable else 0.0)
  if name == 'rmsprop':
    return optax.rmsprop(schedule)
  if name == 'sgd':
    return optax.sgd(schedule, momentum=optim_config.momentum or None)
  raise ValueError(f'config.optim.name={name!r} is unknown; known: {", ".join(OPTIMIZERS)}.')


def make_optimizers(config) -> dict[str, optax.GradientTransformation]:
  """{'g': generator side's optimizer, 'd': discriminator side's} for a run's config.

  Each side's optimizer updates the {player: params} tree of that side's players
  (`game.sides`), with `optim.g_lr` or `optim.d_lr` at its peak.
  """
  steps = int(config.num_train_steps)
  g_tx = make_optimizer(config.optim, config.optim.g_lr, steps)
  # The generator of an unrolled GAN differentiates through the discriminator's updates.
  d_tx = make_optimizer(config.optim, config.optim.d_lr, steps * int(config.loss.n_critic),
                        differentiable=config.stabilize.unroll_steps > 0)
  return {'g': g_tx, 'd': d_tx}
