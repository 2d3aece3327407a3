"""pix2pix in the paper's setting: CMP Facades, label maps -> photographs, 256x256 (GPU).

For users who have the facades set in the pix2pix folder format (each file a 256x512
A|B image: the photo on the left, the label map on the right; e.g. from the pix2pix
repository's `datasets/download_pix2pix_dataset.sh facades`). Translation is B -> A
(`data.pairs_reverse`). The paper's recipe: random jitter (resize to 286, random
256x256 crop, the same for both halves), mirroring, batch 1, BatchNorm (which at batch
1 is instance normalisation in training), the U-Net of 8 halvings, the 70x70 PatchGAN,
L1 weight 100, Adam 2e-4 with beta1 0.5, 200 epochs of the 400 training images.

  python -m gan_jax.main --config=experiments/facades_pix2pix.py --workdir=runs/facades \
      --config.data.path=/path/to/facades/train

The folder source ignores `data.split`, so the reference set for the metrics is the
training folder; score held-out pairs by pointing `--config.data.path` of
`python -m gan_jax.evaluate` (or `load_run(wd).translate`) at `facades/val`.
"""

from gan_jax.default_config import get_base_config


def get_config():
  """U-Net 64 / PatchGAN 70x70 on 256x256 crops of 286x286 A|B halves, batch 1, 80,000 steps."""
  config = get_base_config()
  config.game.name = 'pix2pix'
  config.data.name = 'folder'
  config.data.path = ''
  config.data.pairs = 'side_by_side'
  config.data.pairs_reverse = True
  config.data.image_size = 286
  config.data.crop_size = 256
  config.data.random_flip = True
  config.model.name = 'unet'
  config.model.norm = 'batch'
  config.model.g_features = 64
  config.model.d_features = 64
  config.model.patch_layers = 3
  config.optim.ema_decay = 0.0  # The paper translates with the trained weights.
  config.batch_size = 1
  config.num_train_steps = 80_000  # 200 epochs of 400 images.
  config.log_every_steps = 400
  config.sample_every_steps = 4000
  config.checkpoint_every_steps = 4000
  config.num_grid_samples = 8
  config.eval.metrics = ('translation',)
  config.eval.primary = 'psnr'
  config.eval.num_samples = 100
  config.eval.num_real = 100
  return config
