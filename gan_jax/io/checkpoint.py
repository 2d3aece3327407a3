"""Checkpoints: the GameState, the data iterator's position, the config and the data shape.

A thin layer over orbax's CheckpointManager. Orbax writes each step into a temporary
directory and renames it only once complete, so a crash mid-save never leaves a
checkpoint that `latest_step` would pick up, and the previous ones stay intact.
"""

import os

import ml_collections
import orbax.checkpoint as ocp

from gan_jax import default_config
from gan_jax.core.state import STATE_FORMAT

STATE, DATA, CONFIG, META = 'state', 'data', 'config', 'meta'


def config_from_dict(saved: dict) -> ml_collections.ConfigDict:
  """A saved config laid over today's base config.

  Fields added to gan_jax since the run was saved take their defaults, and JSON's lists
  become the tuples the base config declares.
  """
  config = default_config.get_base_config()
  with config.unlocked():
    config.update(saved)
  return config


# The state format of checkpoints whose meta does not record one: those written before
# games (fixed g_*/d_* fields).
FIRST_STATE_FORMAT = 1


def check_state_format(meta: dict, path: str) -> None:
  """A ValueError naming the checkpoint at `path` if its state format is not today's."""
  found = int(meta.get('state_format', FIRST_STATE_FORMAT))
  if found != STATE_FORMAT:
    raise ValueError(
        f'{path} holds a state of format {found}, and this gan_jax reads format '
        f'{STATE_FORMAT}. Format 1 is the fixed g_/d_ state of gan_jax before games '
        f'(commit be8e2a0 and earlier); load it with that version, or train the run '
        f'again.')


class Checkpointer:
  """Saves and restores a run's checkpoints under `directory`, keeping the last `keep`."""

  def __init__(self, directory: str, keep: int = 3, read_only: bool = False):
    self.directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=not read_only, read_only=read_only,
        cleanup_tmp_directories=not read_only)
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_names=(STATE, DATA, CONFIG, META))

  def latest_step(self) -> int | None:
    """The newest complete checkpoint's step, or None when there is none."""
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    """Steps of all complete checkpoints, oldest first."""
    return sorted(self._manager.all_steps())

  def path(self, step: int) -> str:
    """Directory of the checkpoint of `step`."""
    return os.path.join(self.directory, str(step))

  def save(self, step: int, state, data_state: dict, config: ml_collections.ConfigDict,
           meta: dict) -> None:
    """Writes a checkpoint (asynchronously for the arrays; `wait` blocks until done).

    `data_state` is the data iterator's position. Every process's iterator has consumed
    the same number of batches, so process 0's state restores all of them.
    """
    self._manager.save(step, args=ocp.args.Composite(**{
        STATE: ocp.args.StandardSave(state),
        DATA: ocp.args.JsonSave(data_state),
        CONFIG: ocp.args.JsonSave(config.to_dict()),
        META: ocp.args.JsonSave(meta),
    }))

  def restore(self, step: int, abstract_state) -> tuple:
    """(state, data_state, config, meta) of checkpoint `step`, the state laid out as
    `abstract_state` (a tree of ShapeDtypeStructs with shardings).

    A checkpoint of another state format (see `state.STATE_FORMAT`) is a ValueError
    that names it, before any array is read.
    """
    _, meta = self.restore_metadata(step)
    check_state_format(meta, self.path(step))
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(**{
          STATE: ocp.args.StandardRestore(abstract_state),
          DATA: ocp.args.JsonRestore(),
          CONFIG: ocp.args.JsonRestore(),
          META: ocp.args.JsonRestore(),
      }))
    except ValueError as error:
      # Orbax's own message is a tree diff; say first what it means for a run.
      raise ValueError(
          f'The checkpoint {self.path(step)} does not match the state this config builds '
          f'(was the model, the optimizer or the data shape changed?):\n{error}') from error
    return restored[STATE], restored[DATA], restored[CONFIG], restored[META]

  def restore_metadata(self, step: int) -> tuple[ml_collections.ConfigDict, dict]:
    """(config, meta) of checkpoint `step`, without reading the arrays."""
    restored = self._manager.restore(step, args=ocp.args.Composite(**{
        CONFIG: ocp.args.JsonRestore(), META: ocp.args.JsonRestore()}))
    return config_from_dict(restored[CONFIG]), restored[META]

  def wait(self) -> None:
    """Blocks until any asynchronous save has finished."""
    self._manager.wait_until_finished()

  def close(self) -> None:
    """Finishes pending saves and releases orbax's resources."""
    self._manager.wait_until_finished()
    self._manager.close()
