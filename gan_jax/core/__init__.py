"""The generic training machinery, the same for every game.

  state.py       GameState (players by name, one optimizer state per side, EMAs) and its creation
  step.py        make_train_step / make_sample_fn: the compiled programs
  optim.py       optimizers and learning-rate schedules by name
  validation.py  config checks before anything is built
  events.py      what the loop does after a step; K steps per call
  multiseed.py   several seeds of one config trained at once, vmapped
"""
