"""What a run reads and writes besides data: checkpoints, metrics, pictures, caches.

  checkpoint.py  orbax checkpoints: state + data position + config + meta
  integrity.py   integrity records of checkpoints: size and SHA-256 of every file
  lock.py        one run per workdir: a lock the kernel releases when the run dies
  writers.py     metrics.jsonl, TensorBoard events, PNG grids, 2-D scatter plots
  preview.py     the sample grids of a run (fixed noise; one row per class)
  cache.py       the cache root ($GAN_JAX_CACHE) and the persistent compilation cache
"""
