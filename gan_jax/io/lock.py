"""One run per workdir: an exclusive lock on `workdir/run.lock` for the run's lifetime.

Two runs writing one workdir would interleave their checkpoints and metrics. The lock
is a `flock` held by the process, not a file whose existence means "busy": the kernel
releases it when the process ends however it ends (SIGKILL, OOM, a lost node), so a
crashed run never leaves the workdir stuck. The file also records who holds it, so the
refusal can say which process to look for.
"""

import contextlib
import datetime
import fcntl
import os
import socket

LOCK_FILE = 'run.lock'


class WorkdirBusyError(RuntimeError):
  """Another live process holds the workdir's lock."""


@contextlib.contextmanager
def workdir_lock(workdir: str, enabled: bool = True):
  """Holds the lock of `workdir` (created if needed) for the `with` block.

  Raises WorkdirBusyError, naming the workdir and the holder's pid, host and start time,
  when another process holds it. With `enabled=False` (every process but the first of a
  multi-host run, which share one workdir) it does nothing.
  """
  if not enabled:
    yield
    return
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, LOCK_FILE)
  # Opened without truncation: the holder's record must survive a refused attempt.
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.pread(fd, 1024, 0).decode(errors='replace').strip() or 'unknown process'
      raise WorkdirBusyError(
          f'Another run is using the workdir {workdir} ({holder}; lock file {path}). Wait '
          f'for it to finish or stop it, or choose another --workdir. The lock is released '
          f'when that process ends, even if it crashes.') from None
    record = (f'pid {os.getpid()} on host {socket.gethostname()} since '
              f'{datetime.datetime.now().isoformat(timespec="seconds")}\n').encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)
    yield
  finally:
    os.close(fd)  # Closing the descriptor releases the lock.
