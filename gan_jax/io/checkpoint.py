"""Checkpoints: the GameState, the data iterator's position, the config and the data shape.

A thin layer over orbax's CheckpointManager. Orbax writes each step into a temporary
directory and renames it only once complete, so a crash mid-save never leaves a
checkpoint that `latest_step` would pick up, and the previous ones stay intact. Just
before that rename, an integrity record (`integrity.py`) of every file is written into
the directory; `newest_good_step` checks it, so a checkpoint damaged afterwards
(truncated, deleted or overwritten files) is reported by name, moved to
`damaged_checkpoints/` beside the checkpoint folder, and the next older one restored.
"""

import glob
import os
import shutil
import time

from absl import logging
import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from gan_jax import default_config
from gan_jax.core.state import STATE_FORMAT
from gan_jax.io import integrity

STATE, DATA, CONFIG, META = 'state', 'data', 'config', 'meta'
# The meta key that says a checkpoint was written with an integrity record, so that one
# without the record is known to be incomplete rather than older than records.
_HAS_MANIFEST = 'integrity_record'
# Where damaged checkpoints are moved, beside the checkpoint folder (nothing is deleted).
DAMAGED_DIR = 'damaged_checkpoints'


class DamagedCheckpointError(ValueError):
  """No checkpoint of a run is intact; the message names each damaged file."""


class CheckpointWriteError(RuntimeError):
  """Writing a checkpoint failed (a full disk, a read-only folder): it was never published."""


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


# Orbax splits each replicated array into one slice per device and copies the slices to
# the host one by one ("replica-parallel" saving). For a GAN's many small arrays on 8
# devices that is thousands of tiny transfers: 4.0 s to save a 16-block SRGAN state
# against 0.75 s with whole arrays (8 channels, 8 CPU devices). Arrays under
# this size are copied whole, from one replica; larger ones are still split.
_MIN_SLICE_BYTES_FOR_REPLICA_PARALLEL = 16 << 20


def _state_handler() -> ocp.PyTreeCheckpointHandler:
  """Orbax's pytree handler for the state, with its own type-handler registry whose
  jax.Array handler copies arrays under the threshold above whole (the same bytes are
  written, so checkpoints read the same either way). A registry of its own leaves orbax's
  global one, which the user's own checkpoints in this process use, untouched."""
  handlers = ocp.type_handlers
  # Orbax's default handlers (orbax 0.12's list, less the placeholder for `...`), with
  # the jax.Array one configured.
  registry = handlers.create_type_handler_registry(
      (int, handlers.ScalarHandler()), (float, handlers.ScalarHandler()),
      (bytes, handlers.ScalarHandler()), (np.number, handlers.ScalarHandler()),
      (np.ndarray, handlers.NumpyHandler()), (str, handlers.StringHandler()),
      (jax.Array, handlers.ArrayHandler(
          min_slice_bytes_for_replica_parallel=_MIN_SLICE_BYTES_FOR_REPLICA_PARALLEL)))
  return ocp.PyTreeCheckpointHandler(type_handler_registry=registry)


class Checkpointer:
  """Saves and restores a run's checkpoints under `directory`, keeping the last `keep`."""

  def __init__(self, directory: str, keep: int = 3, read_only: bool = False):
    self.directory = os.path.abspath(directory)
    self.read_only = read_only
    self._saving_step = None
    self._failed = None  # The error of a save that failed, once raised.
    self._intact = set()  # Steps whose integrity record was checked in this process.
    # Orbax calls this after the items are final and before the rename that publishes
    # the checkpoint, so the record appears with the checkpoint, never after it.
    async_options = ocp.AsyncOptions(post_finalization_callback=self._write_manifest)
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=not read_only, read_only=read_only,
        cleanup_tmp_directories=not read_only,
        async_options=None if read_only else async_options)
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_handlers={
            STATE: _state_handler(), DATA: ocp.JsonCheckpointHandler(),
            CONFIG: ocp.JsonCheckpointHandler(), META: ocp.JsonCheckpointHandler()})

  def latest_step(self) -> int | None:
    """The newest complete checkpoint's step, or None when there is none (unchecked:
    see `newest_good_step`)."""
    return self._manager.latest_step()

  def problem(self, step: int) -> str | None:
    """What is wrong with checkpoint `step` (naming the file), or None when it is intact.

    Checkpoints written before integrity records are taken as orbax finds them.
    """
    if step in self._intact:
      return None
    path = self.path(step)
    if integrity.has_manifest(path):
      found = integrity.check_manifest(path)
    else:
      try:
        _, meta = self.restore_metadata(step)
        found = (f'{os.path.join(path, integrity.MANIFEST)} is missing (the checkpoint is '
                 f'incomplete)' if meta.get(_HAS_MANIFEST) else None)
      except Exception as error:  # pylint: disable=broad-except
        found = f'its config or meta cannot be read ({type(error).__name__}: {error})'
    if found is None:
      self._intact.add(step)
    return found

  def newest_good_step(self, required: bool = True) -> int | None:
    """The newest intact checkpoint's step, or None when there is no checkpoint.

    Damaged checkpoints newer than it are logged as warnings naming the damaged file
    and, unless read-only, moved to DAMAGED_DIR so that the run can write those steps
    again. When every checkpoint is damaged: a DamagedCheckpointError naming them, or,
    with `required=False`, None after moving them away.
    """
    damaged = []
    good = None
    for step in reversed(self.all_steps()):
      found = self.problem(step)
      if found is None:
        good = step
        break
      logging.warning('Checkpoint %s is damaged: %s; trying the one before it.',
                      self.path(step), found)
      damaged.append((step, found))
    if good is None and damaged and required:
      raise DamagedCheckpointError(
          f'Every checkpoint in {self.directory} is damaged, so the run cannot resume '
          f'from a state it can trust: ' + '; '.join(f'{found}' for _, found in damaged)
          + '. Restore them from a copy, or move them away to start afresh.')
    if damaged and not self.read_only:
      self._move_aside([step for step, _ in damaged])
    return good

  def _move_aside(self, steps: list[int]) -> None:
    if jax.process_index() == 0:
      target = os.path.join(os.path.dirname(self.directory), DAMAGED_DIR)
      os.makedirs(target, exist_ok=True)
      stamp = time.strftime('%Y%m%d-%H%M%S')
      for step in steps:
        destination = os.path.join(
            target, f'{os.path.basename(self.directory)}-{step}-{stamp}')
        shutil.move(self.path(step), destination)
        logging.warning('Moved the damaged checkpoint %s to %s.', self.path(step), destination)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      multihost_utils.sync_global_devices('gan_jax_damaged_checkpoints_moved')
    self._manager.reload()

  def _write_manifest(self) -> None:
    """Orbax's hook: records the files of the step being saved, in its temporary folder."""
    if jax.process_index() != 0:
      return
    step = self._saving_step
    candidates = [p for p in glob.glob(os.path.join(self.directory, f'{step}.*'))
                  if os.path.isdir(p)]
    if len(candidates) != 1:
      raise RuntimeError(
          f'Cannot find the temporary folder orbax writes step {step} into under '
          f'{self.directory} (found {candidates}); this orbax version is not supported.')
    integrity.write_manifest(candidates[0])

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

    A save that fails, now or in the background, is a CheckpointWriteError naming the
    checkpoint, raised here or by the next `save`, `wait` or `close`.
    """
    # Orbax finishes the previous save before it starts this one, so one step at a time
    # is in flight and the manifest hook knows which it is.
    self._finish()
    self._saving_step = step
    try:
      self._manager.save(step, args=ocp.args.Composite(**{
          STATE: ocp.args.PyTreeSave(state),
          DATA: ocp.args.JsonSave(data_state),
          CONFIG: ocp.args.JsonSave(config.to_dict()),
          META: ocp.args.JsonSave(dict(meta, **{_HAS_MANIFEST: True})),
      }))
    except Exception as error:  # pylint: disable=broad-except
      raise self._write_error(step, error) from error

  def _finish(self) -> None:
    """Waits for the save in flight; its failure becomes a CheckpointWriteError."""
    try:
      self._manager.wait_until_finished()
    except Exception as error:  # pylint: disable=broad-except
      raise self._write_error(self._saving_step, error) from error

  def _write_error(self, step, error: Exception) -> CheckpointWriteError:
    self._failed = error
    older = [s for s in self.all_steps() if step is None or s < step]
    before = (f'the checkpoint before it, {self.path(older[-1])}, is intact, and a run '
              f'restarted on this workdir resumes from it' if older else
              'no earlier checkpoint exists, so a restarted run starts afresh')
    return CheckpointWriteError(
        f'Writing the checkpoint {self.path(step) if step is not None else self.directory} '
        f'failed ({type(error).__name__}: {error}). It was not published; {before}. Free '
        f'space or make the folder writable, then run again.')

  def restore(self, step: int, abstract_state) -> tuple:
    """(state, data_state, config, meta) of checkpoint `step`, the state laid out as
    `abstract_state` (a tree of ShapeDtypeStructs with shardings).

    A damaged checkpoint (see `problem`) is a DamagedCheckpointError, and one of another
    state format (see `state.STATE_FORMAT`) a ValueError, both naming it, before any
    array is read.
    """
    found = self.problem(step)
    if found is not None:
      raise DamagedCheckpointError(f'Checkpoint {self.path(step)} is damaged: {found}.')
    _, meta = self.restore_metadata(step)
    check_state_format(meta, self.path(step))
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(**{
          STATE: ocp.args.PyTreeRestore(
              abstract_state,
              restore_args=ocp.checkpoint_utils.construct_restore_args(abstract_state)),
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
    """Blocks until any asynchronous save has finished (see `save` for its failure)."""
    self._finish()

  def close(self) -> None:
    """Finishes pending saves and releases orbax's resources (see `save` for failures)."""
    try:
      self._finish()
    finally:
      try:
        self._manager.close()
      except Exception:  # pylint: disable=broad-except
        if self._failed is None:  # Otherwise it is the failed save's error again.
          raise
