"""The five benchmark workloads of WORKLOADS.md, defined once for every framework.

- ``spec.py``: ``WORKLOADS`` (the table), ``make_batch`` (synthetic data from a seed) and
  ``init_weights`` (one canonical set of initial weights, in PyTorch names and layouts).
"""
from .spec import WORKLOADS, ParamSpec, Workload, init_weights, make_batch, param_specs

__all__ = ["WORKLOADS", "Workload", "ParamSpec", "make_batch", "init_weights", "param_specs"]
