"""Data for training: datasets, samplers and the DataLoader, as ``torch.utils.data``.

Where things live:
- ``dataset.py`` Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, ChainDataset,
  random_split
- ``sampler.py`` SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler,
  BatchSampler
- ``collate.py`` default_collate, default_convert, collate
- ``dataloader.py`` DataLoader and its single-process iterator
- ``multiprocess.py`` the iterator with worker processes; ``worker.py`` the worker loop,
  get_worker_info; ``fetch.py`` sampler indices -> batch
- ``datasets/`` MNIST, FashionMNIST, Digits (embedded), TextDataset, load_digits
"""

from . import datasets
from .collate import collate, default_collate, default_collate_fn_map, default_convert
from .dataloader import DataLoader
from .dataset import (
                      ChainDataset,
                      ConcatDataset,
                      Dataset,
                      IterableDataset,
                      Subset,
                      TensorDataset,
                      random_split,
)
from .sampler import (
                      BatchSampler,
                      RandomSampler,
                      Sampler,
                      SequentialSampler,
                      SubsetRandomSampler,
                      WeightedRandomSampler,
)
from .worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "WorkerInfo",
           "collate", "datasets", "default_collate", "default_collate_fn_map", "default_convert",
           "get_worker_info", "random_split"]
