"""`python kill_points.py <point>:<n> <gan_jax.main flags>`: a run that SIGKILLs itself.

It runs `gan_jax.main` unchanged, except that the n-th time this process reaches
`<point>` it sends itself SIGKILL, which nothing can catch or clean up after, so the
workdir is left as a power cut or the OOM killer would leave it, at a moment chosen to
fall inside a write (a pure timer seldom hits those short windows). The points:

  save_item    a JSON file being written into a checkpoint's temporary folder
  save_record  the checkpoint's items written, its integrity record not yet (before rename)
  best_save    the same inside the best checkpoint (`workdir/best`)
  eval         evaluation running: samples generated, metrics not yet computed
  sample       a sample grid written under its temporary name, not yet renamed
  metrics      half of a metrics.jsonl line written
"""

import os
import signal
import sys

from etils import epath
from PIL import Image

from gan_jax.io import integrity
from gan_jax.io import writers
from gan_jax.metrics import evaluator

POINTS = ('save_item', 'save_record', 'best_save', 'eval', 'sample', 'metrics')


def _die():
  sys.stdout.flush()
  os.kill(os.getpid(), signal.SIGKILL)


def install(point: str, n: int) -> None:
  """Patches the function behind `point` to SIGKILL the process on its n-th call."""
  if point not in POINTS:
    raise ValueError(f'unknown kill point {point!r}; known: {", ".join(POINTS)}.')
  calls = [0]

  def reached() -> bool:
    calls[0] += 1
    return calls[0] == n

  if point == 'save_item':
    write_text = epath.Path.write_text

    def patched_write_text(self, *args, **kwargs):
      if '.orbax-checkpoint-tmp' in str(self) and reached():
        _die()
      return write_text(self, *args, **kwargs)
    epath.Path.write_text = patched_write_text
  elif point in ('save_record', 'best_save'):
    write_manifest = integrity.write_manifest

    def patched_write_manifest(directory):
      in_best = f'{os.sep}best{os.sep}' in str(directory)
      if in_best == (point == 'best_save') and reached():
        _die()
      write_manifest(directory)
    integrity.write_manifest = patched_write_manifest
  elif point == 'eval':
    evaluate = evaluator.Evaluator.evaluate

    def patched_evaluate(self, generate, *args, **kwargs):
      def generate_then_die(num):
        samples = generate(num)
        if reached():
          _die()
        return samples
      return evaluate(self, generate_then_die, *args, **kwargs)
    evaluator.Evaluator.evaluate = patched_evaluate
  elif point == 'sample':
    save = Image.Image.save

    def patched_save(self, path, *args, **kwargs):
      save(self, path, *args, **kwargs)
      if reached():
        _die()
    Image.Image.save = patched_save
  elif point == 'metrics':
    append_line = writers._append_line  # pylint: disable=protected-access

    def patched_append_line(fd, path, line):
      if reached():
        os.write(fd, line[:len(line) // 2])
        _die()
      append_line(fd, path, line)
    writers._append_line = patched_append_line  # pylint: disable=protected-access


if __name__ == '__main__':
  name, count = sys.argv.pop(1).split(':')
  install(name, int(count))
  from absl import app  # pylint: disable=g-import-not-at-top
  from gan_jax import main  # pylint: disable=g-import-not-at-top
  app.run(main.main)
