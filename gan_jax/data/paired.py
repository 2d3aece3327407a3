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
  bicubic_x4    the source is the target downscaled 4x by PIL's bicubic resize of the
                uint8 image (super-resolution, SRGAN's degradation); the targets' sides
                must be multiples of 4.

A `PairedSource` serves {'src': source images, 'x': target images, 'y': labels}: the
target keeps the key 'x', so everything that reads a dataset's images (the reference
statistics, FID, the classifiers) reads the targets, and the pipeline applies the same
resize, crop and flip to 'src' as to 'x'. Operators whose source is smaller than the
target (`DERIVED_AFTER_AUGMENTATION`: bicubic_x4) are applied by the pipeline instead,
after it has resized, cropped, flipped and rotated the target: the geometric
augmentation acts on the HR image, and the LR image is always its exact degradation.
"""

import numpy as np

from gan_jax.data.sources import DataSource

PAIRS = ('side_by_side', 'edges', 'grayscale', 'bicubic_x4')
# Operators whose source the pipeline makes from the augmented target (see above).
DERIVED_AFTER_AUGMENTATION = ('bicubic_x4',)
# bicubic_x4's factor.
SR_SCALE = 4
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


def bicubic_downscale(images: np.ndarray, factor: int = SR_SCALE) -> np.ndarray:
  """uint8 images (N, H, W, C) shrunk `factor` times by PIL's bicubic resize (C = 1 or 3).

  PIL's BICUBIC (a = -0.5) widens its kernel by the factor when it shrinks, i.e. it
  antialiases, as MATLAB's imresize does; H and W must be multiples of `factor`.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  images = np.asarray(images)
  height, width = images.shape[1:3]
  if height % factor or width % factor:
    raise ValueError(f'config.data.pairs=bicubic_x4 shrinks images {factor}x, but they are '
                     f'{height}x{width}; their sides must be multiples of {factor} (set '
                     f'data.patch_size, data.image_size or data.crop_size accordingly).')
  size = (width // factor, height // factor)
  gray = images.shape[-1] == 1
  out = [np.asarray(Image.fromarray(image[..., 0] if gray else image).resize(size, Image.BICUBIC))
         for image in images]
  out = np.stack(out) if out else np.zeros((0, size[1], size[0], images.shape[-1]), np.uint8)
  return out[..., None] if gray and out.ndim == 3 else out


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
    # The pipeline makes derived sources itself, after augmenting the targets.
    self.derives_source = pairs in DERIVED_AFTER_AUGMENTATION
    self.src_shape = (height, width, source_channels(pairs, channels))
    if pairs == 'bicubic_x4':
      self.src_shape = (None if height is None else height // SR_SCALE,
                        None if width is None else width // SR_SCALE, channels)

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
    if self.pairs == 'bicubic_x4':
      return bicubic_downscale(images), images
    return luma(images), images

  def make_source_images(self, targets: np.ndarray) -> np.ndarray:
    """The source images of uint8 `targets` (N, H, W, C), which may have been augmented."""
    return self.split(targets)[0]

  def __getitem__(self, index: int) -> dict:
    example = self.base[index]
    src, dst = self.split(np.asarray(example['x'])[None])
    return {'src': src[0], 'x': dst[0], 'y': example['y']}

  def gather(self, indices: np.ndarray, image_fn=None, with_source: bool = True) -> dict:
    """{'src', 'x', 'y'} at `indices`; `image_fn` (a resize) maps each half separately.

    With `with_source=False` (the pipeline, for `derives_source` operators) only the
    targets come back, resized by `image_fn`: the source is made after augmentation.
    """
    batch = self.base.gather(indices)
    if not with_source:
      dst = np.asarray(batch['x'])
      if image_fn is not None:
        dst = np.stack([image_fn(image) for image in dst])
      return {'x': dst, 'y': batch['y']}
    src, dst = self.split(np.asarray(batch['x']))
    if image_fn is not None:
      dst = np.stack([image_fn(image) for image in dst])
      # A derived source is made from the resized target; the others are resized alike.
      src = (self.make_source_images(dst) if self.derives_source
             else np.stack([image_fn(image) for image in src]))
    return {'src': src, 'x': dst, 'y': batch['y']}


def source_channels(pairs: str, target_channels: int) -> int:
  """Channels of the source images that the operator `pairs` (`data.pairs`) makes for
  targets of `target_channels`."""
  return 1 if pairs in ('edges', 'grayscale') else int(target_channels)


def make_paired_source(base: DataSource, data_config) -> DataSource:
  """`base` itself when `data.pairs` is '', else its `PairedSource`."""
  check_pairs(data_config)
  if not data_config.pairs:
    return base
  return PairedSource(base, data_config.pairs, data_config.pairs_reverse)
