"""Data for GANs: sources chosen by name (`config.data.name`) and the grain pipeline.

`make_source(config.data, seed)` gives a random-access source of raw examples;
`make_pipeline(source, config.data, batch_size, seed, shard_index, shard_count)` turns
it into an endless, resumable iterator of preprocessed batches for one process;
`make_semi_supervised_pipeline` adds a labelled stream of `data.num_labeled` examples.
"""

from gan_jax.data.labeled import make_semi_supervised_pipeline
from gan_jax.data.pipeline import make_pipeline
from gan_jax.data.pipeline import read_examples
from gan_jax.data.sources import SOURCES
from gan_jax.data.sources import make_source
from gan_jax.data.sources import mixture_means
from gan_jax.data.unpaired import make_unpaired_pipeline

__all__ = ['SOURCES', 'make_pipeline', 'make_semi_supervised_pipeline', 'make_unpaired_pipeline', 'make_source', 'mixture_means', 'read_examples']
