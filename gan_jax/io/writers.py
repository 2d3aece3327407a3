"""What a run writes for people to look at: metrics, TensorBoard events and pictures.

`MetricWriter` appends every logged scalar to `workdir/metrics.jsonl` (one JSON object a
line, easy to load in a notebook) and to TensorBoard event files in `workdir/tensorboard/`,
written by tensorboardX so TensorFlow is never needed. `image_grid` and `scatter_plot`
turn generator samples into uint8 RGB pictures (image data and 2-D toy data respectively),
and their `save_*` twins write them as PNG files atomically, so a crash never leaves a
truncated picture behind.
"""

import json
import math
import os
import uuid

import numpy as np
import tensorboardX
from PIL import Image, ImageDraw, ImageFont

METRICS_FILE = 'metrics.jsonl'
TENSORBOARD_DIR = 'tensorboard'

_GRID_BORDER = 128  # Mid gray: visible against both the black and white backgrounds of data sets.
_BACKGROUND = (255, 255, 255)
_AXES = (90, 90, 90)
_REAL = (150, 185, 235)
_FAKE = (220, 30, 30)
_MEANS = (40, 40, 40)
# Samples may widen a scatter plot's default view to at most this multiple of the real
# data's extent, so a few stray samples cannot shrink the real data to a dot.
_MAX_ZOOM_OUT = 1.5


class MetricWriter:
  """Writes scalars to `workdir/metrics.jsonl` and scalars and images to TensorBoard.

  Each `write_scalars` call appends one line `{"step": step, "name": value, ...}` with
  one system call, so a crashed run keeps everything logged before the crash; a write
  that fails part way (a full disk) is cut back before the error is raised, so the file
  never holds half a line for a reader to choke on. Non-finite
  values are written as JSON `null` (JSON has no NaN or Infinity; `read_metrics` turns
  them back into NaN); TensorBoard receives them unchanged. The file is opened for
  appending, so a resumed run continues it. Pass `resume_step` when resuming from a
  checkpoint: records after it (which the run is about to replay) are dropped from the
  file and purged from TensorBoard, so every step appears once.

  With `enabled=False`, as on every process but the first of a multi-host run, every
  method does nothing and nothing is created on disk, so callers need no `if`.
  """

  def __init__(self, workdir, enabled: bool = True, resume_step: int | None = None):
    self.workdir = os.path.abspath(os.fspath(workdir))
    self.enabled = enabled
    self._jsonl = None
    self._tensorboard = None
    if enabled:
      os.makedirs(self.workdir, exist_ok=True)
      path = os.path.join(self.workdir, METRICS_FILE)
      _drop_torn_line(path)
      if resume_step is not None:
        _drop_records_after(path, resume_step)
      self._path = path
      # A raw descriptor in append mode: each line goes out in one write, not through a
      # buffer that could split it across two.
      self._jsonl = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
      # Events also reach the disk every 30 s, not only at close, for a live TensorBoard.
      self._tensorboard = tensorboardX.SummaryWriter(
          logdir=os.path.join(self.workdir, TENSORBOARD_DIR), flush_secs=30,
          purge_step=None if resume_step is None else resume_step + 1)

  def write_scalars(self, step: int, scalars: dict) -> None:
    """Logs `scalars` (name -> number, including 0-d arrays) at `step`."""
    if not self.enabled:
      return
    self._check_open()
    if 'step' in scalars:
      raise ValueError("'step' is reserved for the step number in metrics.jsonl.")
    step = int(step)
    values = {str(name): float(value) for name, value in scalars.items()}
    record = {'step': step, **{name: value if math.isfinite(value) else None
                               for name, value in values.items()}}
    # allow_nan=False guarantees the line is strict JSON that any reader accepts.
    _append_line(self._jsonl, self._path, (json.dumps(record, allow_nan=False) + '\n').encode())
    for name, value in values.items():
      self._tensorboard.add_scalar(name, value, step)

  def write_image(self, step: int, tag: str, image) -> None:
    """Logs a uint8 image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) at `step`."""
    if not self.enabled:
      return
    self._check_open()
    image = np.asarray(image)
    if image.dtype != np.uint8:
      # tensorboardX would silently scale floats by 255, assuming [0, 1]; [-1, 1]
      # samples would come out wrong without any error.
      raise ValueError(f'write_image expects uint8 pixels, got {image.dtype}; '
                       f'use image_grid or scatter_plot to make one.')
    if image.ndim == 2:
      dataformats = 'HW'
    elif image.ndim == 3 and image.shape[-1] in (1, 3, 4):
      dataformats = 'HWC'
    else:
      raise ValueError(f'write_image expects an (H, W) or (H, W, C) image with C in '
                       f'(1, 3, 4), got shape {image.shape}.')
    self._tensorboard.add_image(tag, image, int(step), dataformats=dataformats)

  def flush(self) -> None:
    """Flushes both files; events still queued in tensorboardX's writer thread follow.

    Only `close()` waits for that queue to drain (scalars are in metrics.jsonl at once).
    """
    if self.enabled and self._jsonl is not None:
      self._tensorboard.flush()  # metrics.jsonl is unbuffered.

  def close(self) -> None:
    """Writes out pending events and closes the files; calling it again does nothing."""
    if self.enabled and self._jsonl is not None:
      os.close(self._jsonl)
      self._tensorboard.close()
      self._jsonl = self._tensorboard = None

  def _check_open(self) -> None:
    if self._jsonl is None:
      raise ValueError(f'MetricWriter for {self.workdir} is closed.')

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()


def _append_line(fd: int, path: str, line: bytes) -> None:
  """Appends `line` to the file open as `fd`, whole or not at all.

  A failed write (disk full, quota, a read-only remount) is undone by cutting the file
  back to its size before it, then raised as an OSError naming `path`.
  """
  start = os.fstat(fd).st_size
  try:
    done = 0
    while done < len(line):  # A short write is legal; the next one reports the error.
      done += os.write(fd, line[done:])
  except OSError as error:
    try:
      os.ftruncate(fd, start)
      state = 'it was cut back to its last complete line'
    except OSError:
      state = 'its last line may be incomplete (readers skip it; a resumed run drops it)'
    raise OSError(error.errno, f'Cannot append to the metrics file {path} '
                  f'({error.strerror or error}); {state}.') from error


def _drop_torn_line(path: str) -> None:
  """Cuts an unterminated last line, left by a crash mid-write, so every line parses."""
  if not os.path.exists(path):
    return
  with open(path, 'rb+') as f:
    data = f.read()
    if data and not data.endswith(b'\n'):
      f.truncate(data.rfind(b'\n') + 1)


def _drop_records_after(path: str, step: int) -> None:
  """Rewrites the metrics file without records after `step` (atomically: temp + rename)."""
  if not os.path.exists(path):
    return
  with open(path, encoding='utf-8') as f:
    lines = [line for line in f if line.strip() and json.loads(line)['step'] <= step]
  temporary = f'{path}.{uuid.uuid4().hex}.tmp'
  with open(temporary, 'w', encoding='utf-8') as f:
    f.writelines(lines)
  os.replace(temporary, path)


def read_metrics(workdir) -> list[dict]:
  """The records of `workdir/metrics.jsonl`, one per step in step order.

  A step logged twice (a run resumed from a checkpoint before it) keeps its later record;
  `null` values come back as NaN.
  """
  by_step = {}
  with open(os.path.join(os.fspath(workdir), METRICS_FILE), encoding='utf-8') as f:
    for line in f:
      if not line.endswith('\n'):
        break  # Still being written, or torn by a crash.
      if line.strip():
        record = json.loads(line)
        by_step[record['step']] = {
            name: math.nan if value is None else value for name, value in record.items()}
  return [by_step[step] for step in sorted(by_step)]


def _to_uint8(images: np.ndarray) -> np.ndarray:
  """Maps [-1, 1] to [0, 255]; out-of-range values clip and NaN becomes mid gray."""
  images = np.nan_to_num(images, nan=0.0, posinf=1.0, neginf=-1.0)
  return np.rint((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def image_grid(images, ncols: int | None = None, padding: int = 2,
               min_cell_size: int = 32) -> np.ndarray:
  """Tiles images (N, H, W, C) in [-1, 1], C = 1 or 3, into one uint8 RGB (H', W', 3) picture.

  The grid has `ncols` columns (default: ceil(sqrt(N)), near square), `padding` gray pixels
  between and around the cells, and grayscale expanded to RGB so every picture this
  module makes has the same layout. Images smaller than `min_cell_size` pixels are
  enlarged by an integer factor with nearest-neighbour sampling, so 8x8 digits stay
  legible and their pixels stay sharp.
  """
  images = np.asarray(images, dtype=np.float32)
  if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
    raise ValueError(f'image_grid expects a non-empty batch (N, H, W, C) with C = 1 or 3, '
                     f'got shape {images.shape}.')
  count, height, width, _ = images.shape
  if ncols is None:
    ncols = math.ceil(math.sqrt(count))
  elif ncols < 1:
    raise ValueError(f'ncols must be positive, got {ncols}.')
  ncols = min(ncols, count)
  nrows = math.ceil(count / ncols)
  scale = max(1, math.ceil(min_cell_size / min(height, width)))

  cells = _to_uint8(images)
  cells = np.broadcast_to(cells, (count, height, width, 3))
  cells = cells.repeat(scale, axis=1).repeat(scale, axis=2)
  cell_h, cell_w = height * scale, width * scale
  grid = np.full((nrows * (cell_h + padding) + padding, ncols * (cell_w + padding) + padding, 3),
                 _GRID_BORDER, dtype=np.uint8)
  for index, cell in enumerate(cells):
    row, col = divmod(index, ncols)
    top, left = padding + row * (cell_h + padding), padding + col * (cell_w + padding)
    grid[top:top + cell_h, left:left + cell_w] = cell
  return grid


def save_image_grid(images, path, ncols: int | None = None, **grid_kwargs) -> np.ndarray:
  """Writes `image_grid(images, ncols, **grid_kwargs)` to the PNG file `path`; returns it."""
  grid = image_grid(images, ncols, **grid_kwargs)
  _save_png(grid, path)
  return grid


def _points(points, name: str) -> np.ndarray:
  points = np.asarray(points, dtype=np.float64)
  if points.ndim != 2 or points.shape[1] != 2:
    raise ValueError(f'{name} must have shape (N, 2), got {points.shape}.')
  return points[np.isfinite(points).all(axis=1)]


def _default_bounds(samples, real, means) -> tuple[float, float, float, float]:
  """A square view of the real data (and means), widened for samples within reason."""
  given = [p for p in (real, means) if p is not None and len(p)]
  reference = np.concatenate(given) if given else samples
  if not len(reference):
    return (-1.0, 1.0, -1.0, 1.0)
  low, high = reference.min(axis=0), reference.max(axis=0)
  center = (low + high) / 2
  half = float((high - low).max()) / 2 * 1.1 or 1.0  # A single point gets a unit view.
  if given and len(samples):
    reach = float(np.abs(samples - center).max()) * 1.05
    half = min(max(half, reach), _MAX_ZOOM_OUT * half)
  return (center[0] - half, center[0] + half, center[1] - half, center[1] + half)


def scatter_plot(samples, real=None, means=None, size: int = 512,
                 bounds: tuple[float, float, float, float] | None = None) -> np.ndarray:
  """Draws 2-D points as a uint8 RGB (size, size, 3) picture, with PIL only.

  Real points are light blue, generated `samples` red and drawn over them, and the
  mixture `means` (K, 2), if given, thin crosses underneath both. `bounds` is
  (xmin, xmax, ymin, ymax), drawn as the axes box with y growing upwards; by default a
  square around the real data and means (or the samples, without either) that samples
  can widen to at most 1.5 times its size. Points outside the bounds and non-finite
  points are left out; unless `size` is tiny, a caption above the box gives the bounds
  and how many samples fell outside them.
  """
  num_samples = len(samples)
  samples = _points(samples, 'samples')
  real = None if real is None else _points(real, 'real')
  means = None if means is None else _points(means, 'means')
  xmin, xmax, ymin, ymax = (_default_bounds(samples, real, means) if bounds is None
                            else (float(b) for b in bounds))
  if not (xmax > xmin and ymax > ymin):
    raise ValueError(f'bounds must be (xmin, xmax, ymin, ymax) with min < max, got {bounds}.')

  margin = max(4, size // 32)
  span = size - 1 - 2 * margin

  def to_pixels(points):
    inside = ((points[:, 0] >= xmin) & (points[:, 0] <= xmax) &
              (points[:, 1] >= ymin) & (points[:, 1] <= ymax))
    points = points[inside]
    x = margin + (points[:, 0] - xmin) / (xmax - xmin) * span
    y = margin + (ymax - points[:, 1]) / (ymax - ymin) * span  # Pixel rows grow downwards.
    return np.stack([x, y], axis=1)

  image = Image.new('RGB', (size, size), _BACKGROUND)
  draw = ImageDraw.Draw(image)
  draw.rectangle([margin, margin, size - 1 - margin, size - 1 - margin], outline=_AXES)
  # Means go underneath, thin, so they never hide the data; a mode without red nearby is
  # a mode the generator dropped.
  if means is not None:
    arm = max(3, size // 64)
    for x, y in to_pixels(means):
      draw.line([x - arm, y, x + arm, y], fill=_MEANS)
      draw.line([x, y - arm, x, y + arm], fill=_MEANS)
  for points, radius, colour in ((real, max(1, size // 512), _REAL),
                                 (samples, max(1, size // 256), _FAKE)):
    if points is not None:
      for x, y in to_pixels(points):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)

  if margin >= 12:  # Room for a line of text above the box.
    outside = num_samples - len(to_pixels(samples))  # Non-finite samples count too.
    caption = f'x [{xmin:.3g}, {xmax:.3g}]  y [{ymin:.3g}, {ymax:.3g}]'
    if outside:
      caption += f'  samples outside: {outside}/{num_samples}'
    draw.text((margin, 2), caption, fill=_AXES, font=ImageFont.load_default())
  return np.asarray(image)


def save_scatter_plot(path, samples, real=None, means=None, **plot_kwargs) -> np.ndarray:
  """Writes `scatter_plot(samples, real, means, **plot_kwargs)` to the PNG file `path`."""
  picture = scatter_plot(samples, real, means, **plot_kwargs)
  _save_png(picture, path)
  return picture


def remove_stale_temporaries(directory) -> None:
  """Deletes the temporary files that `_save_png` leaves under `directory` (and its
  subfolders) when its process is killed between writing and renaming one."""
  for root, _, names in os.walk(os.fspath(directory)):
    for name in names:
      if name.startswith('.') and name.endswith('.tmp'):
        os.remove(os.path.join(root, name))


def _save_png(pixels: np.ndarray, path) -> None:
  """Writes a PNG next to `path` under a temporary name, then renames it into place.

  The rename is atomic, so readers (TensorBoard, a notebook, rsync) see either the old
  file or the complete new one, never a partial write.
  """
  path = os.path.abspath(os.fspath(path))
  os.makedirs(os.path.dirname(path), exist_ok=True)
  # Named here rather than by mkstemp, whose 0600 mode the PNG would keep after the rename.
  temporary = os.path.join(os.path.dirname(path),
                           f'.{os.path.basename(path)}.{uuid.uuid4().hex}.tmp')
  try:
    Image.fromarray(pixels).save(temporary, format='PNG')
    os.replace(temporary, path)
  except OSError as error:
    raise OSError(error.errno, f'Cannot write the picture {path} '
                  f'({error.strerror or error}); no partial file was left.') from error
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)
