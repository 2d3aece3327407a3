"""Devices: the 1-D `data` mesh, the two shardings every run uses, multi-host start-up.

Data parallelism is plain `jax.jit` over a mesh: the state is replicated, the batch is
split along its leading axis, and XLA inserts the gradient all-reduce. The same code
therefore runs on one CPU, eight GPUs or a pod slice.
"""

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = 'data'


def initialize_distributed(enabled: bool) -> None:
  """Joins the multi-process cluster when `enabled`; must run before JAX touches a device.

  On clusters JAX recognises (Slurm, Open MPI, Cloud TPU, ...) everything comes from
  the environment. Elsewhere, e.g. several processes on one machine, set
  JAX_COORDINATOR_ADDRESS (host:port of process 0), JAX_NUM_PROCESSES and
  JAX_PROCESS_ID in each process's environment. CPU processes exchange gradients
  through gloo, JAX's CPU collectives.
  """
  if not enabled:
    return
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  num_processes = os.environ.get('JAX_NUM_PROCESSES')
  process_id = os.environ.get('JAX_PROCESS_ID')
  if num_processes is not None and process_id is not None:
    jax.distributed.initialize(num_processes=int(num_processes), process_id=int(process_id))
  else:
    jax.distributed.initialize()


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh named `data` over `devices` (all devices of all hosts by default)."""
  devices = jax.devices() if devices is None else list(devices)
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  """Sharding of the state: every device holds a full copy."""
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  """Sharding of a batch: split along the leading (example) axis."""
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def stacked_batch_sharded(mesh: Mesh) -> NamedSharding:
  """Sharding of K stacked batches (K, B, ...): split along the example axis, B."""
  return NamedSharding(mesh, PartitionSpec(None, DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  """Raises unless the global batch splits evenly over the devices and the processes."""
  num_devices = mesh.devices.size
  if batch_size % num_devices:
    raise ValueError(
        f'config.batch_size={batch_size} is the global batch and must be divisible by the '
        f'number of devices ({num_devices}); use a multiple of {num_devices}.')
  if batch_size % jax.process_count():
    raise ValueError(
        f'config.batch_size={batch_size} must be divisible by the number of processes '
        f'({jax.process_count()}).')


def global_batch(local_batch: dict, mesh: Mesh, stacked: bool = False) -> dict:
  """Assembles each process's slice of the batch into one globally sharded array per key.

  With `stacked`, every array is K batches (K, B_local, ...) split along its second axis.
  """
  sharding = stacked_batch_sharded(mesh) if stacked else batch_sharded(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
          for k, v in local_batch.items()}
