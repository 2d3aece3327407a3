"""Paired images for translation (pix2pix): each example is a source image and its target.

`config.data.pairs` turns any image source into a paired one by a fixed operator:

  side_by_side  each image is A|B, the source on the left and the target on the right,
                the format of the public pix2pix sets (facades, maps, edges2shoes);
                `data.pairs_reverse` translates B -> A instead.
  edges         the source is the target's edge map: the Sobel gradient magnitude of
                the grey image (in [0, 1]) above EDGE_THRESHOLD, white edges (255) on
                black (0). Fixed and parameter-free, so every run sees the same pairs.
  grayscale     the source is the target's luma (ITU-R BT.601: 0.299 R + 0.587 G +
                0.114 B), for colourisation.

A `PairedSource` serves {'src': source images, 'x': target images, 'y': labels}: the
target keeps the key 'x', so everything that reads a dataset's images (the reference
statistics, FID, the classifiers) reads the targets, and the pipeline applies the same
resize, crop and flip to 'src' as to 'x'.
"""

import numpy as np

from gan_jax.data.sources import DataSource

PAIRS = ('side_by_side', 'edges', 'grayscale')
# The Sobel magnitude (of a [0, 1] image, kernels summing |weights| to 4) above which a
# pixel is an edge: a quarter of a full black-to-white step.
EDGE_THRESHOLD = 1.0


def sobel_edges(images: np.ndarray) -> np.ndarray:
  """uint8 edge maps (N, H, W, 1) of uint8 images (N, H, W, C): 255 on edges, 0 elsewhere.

  The grey image (mean over channels, in [0, 1]) is padded by edge replication and
  correlated with the 3x3 Sobel kernels; a pixel is an edge when the gradient
  magnitude exceeds EDGE_THRESHOLD.
  """
  grey = images.astype(np.float32).mean(axis=-1) / 255.0
  padded = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode='edge')
  height, width = grey.shape[1:]

  def window(dy, dx):
    return padded[:, 1 + dy:1 + dy + height, 1 + dx:1 + dx + width]

  gx = (window(-1, 1) + 2 * window(0, 1) + window(1, 1)
        - window(-1, -1) - 2 * window(0, -1) - window(1, -1))
  gy = (window(1, -1) + 2 * window(1, 0) + window(1, 1)
        - window(-1, -1) - 2 * window(-1, 0) - window(-1, 1))
  edges = np.hypot(gx, gy) > EDGE_THRESHOLD
  return (edges * 255).astype(np.uint8)[..., None]


def luma(images: np.ndarray) -> np.ndarray:
  """uint8 grey images (N, H, W, 1) of uint8 RGB images: ITU-R BT.601 luma, rounded."""
  if images.shape[-1] == 1:
    return images
  weights = np.array([0.299, 0.587, 0.114], np.float32)
  return np.clip(np.rint(images.astype(np.float32) @ weights), 0, 255).astype(np.uint8)[..., None]


def source_channels(data_config, target_channels: int) -> int:
  """Channels of the source images that `data.pairs` makes for targets of `target_channels`."""
  return source_channels_for(data_config.pairs, target_channels)


def check_pairs(data_config) -> None:
  """Raises a ValueError naming `config.data.pairs` when it is unknown."""
  if data_config.pairs not in ('', *PAIRS):
    raise ValueError(f'config.data.pairs={data_config.pairs!r} is unknown; known: '
                     f'{", ".join(PAIRS)} (or \'\' for unpaired images).')


class PairedSource(DataSource):
  """A source of (src, target) image pairs made from `base`'s images by `pairs`."""

  def __init__(self, base: DataSource, pairs: str, reverse: bool = False):
    if not base.is_image:
      raise ValueError(f'config.data.pairs={pairs!r} makes pairs of images, but the source '
                       'holds points.')
    if pairs not in PAIRS:
      raise ValueError(f'config.data.pairs={pairs!r} is unknown; known: {", ".join(PAIRS)}.')
    self.base, self.pairs, self.reverse = base, pairs, bool(reverse)
    self.num_classes = base.num_classes
    height, width, channels = base.element_shape
    if pairs == 'side_by_side':
      if width is not None and width % 2:
        raise ValueError(f'config.data.pairs=side_by_side splits each image into A|B halves, '
                         f'but the images are {width} pixels wide (odd).')
      width = None if width is None else width // 2
    self.element_shape = (height, width, channels)
    self.src_shape = (height, width, source_channels_for(pairs, channels))

  def __len__(self) -> int:
    return len(self.base)

  def split(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sources, targets) of raw uint8 images (N, H, W, C) of the base source."""
    if self.pairs == 'side_by_side':
      half = images.shape[2] // 2
      left, right = images[:, :, :half], images[:, :, half:2 * half]
      return (right, left) if self.reverse else (left, right)
    if self.pairs == 'edges':
      return sobel_edges(images), images
    return luma(images), images

  def __getitem__(self, index: int) -> dict:
    example = self.base[index]
    src, dst = self.split(np.asarray(example['x'])[None])
    return {'src': src[0], 'x': dst[0], 'y': example['y']}

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    """{'src', 'x', 'y'} at `indices`; `image_fn` (a resize) maps each half separately."""
    batch = self.base.gather(indices)
    src, dst = self.split(np.asarray(batch['x']))
    if image_fn is not None:
      src = np.stack([image_fn(image) for image in src])
      dst = np.stack([image_fn(image) for image in dst])
    return {'src': src, 'x': dst, 'y': batch['y']}


def source_channels_for(pairs: str, target_channels: int) -> int:
  """Channels of the source images that the operator `pairs` makes."""
  return 1 if pairs in ('edges', 'grayscale') else int(target_channels)


def make_paired_source(base: DataSource, data_config) -> DataSource:
  """`base` itself when `data.pairs` is '', else its `PairedSource`."""
  check_pairs(data_config)
  if not data_config.pairs:
    return base
  return PairedSource(base, data_config.pairs, data_config.pairs_reverse)
