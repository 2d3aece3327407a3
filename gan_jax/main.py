"""Command line: `python -m gan_jax.main --config=experiments/<name>.py --workdir=<dir>`.

Any config field can be overridden, e.g. `--config.optim.g_lr=1e-4`. `--dry_run` checks
the config in seconds (one batch read, every program traced, nothing compiled) and does
not touch the workdir.
"""

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from gan_jax import parallel

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, metrics, samples.')
_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'Check the config without training '
                              '(train.dry_run); the workdir is not touched.')
flags.mark_flags_as_required(['config', 'workdir'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  if not flags.FLAGS['verbosity'].present:
    # Orbax logs every file it renames at INFO; the progress bar is the run's voice.
    logging.set_verbosity(logging.WARNING)
  config = _CONFIG.value
  parallel.initialize_distributed(config.distributed)
  # Imported after distributed start-up: nothing may touch the devices before it.
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  if _DRY_RUN.value:
    checked = train.dry_run(config)
    print(f'dry run passed: data of shape {checked["data_shape"]}, '
          f'{checked["num_classes"]} classes, one step\'s batch {checked["batch"]}')
    return
  train.train_and_evaluate(config, _WORKDIR.value)


if __name__ == '__main__':
  app.run(main)
