"""ember, PyTorch and TensorFlow/Keras trained side by side: ``python -m benchmarks.comparison``.

W2's CNN on the embedded handwritten digits and W4's LSTM language model on embedded text
(*Emma*, vol. I), in each framework with the same initial weights, batch order and
hyperparameters, several seeds, one process per run. Writes
``benchmarks/results/comparison-<date>.json`` and ``docs/comparison.md``.

- ``data.py``: the digits (upsampled to 28x28) and text windows, the seeded batch order
- ``trainers.py``: one trainer per framework (ember, torch, keras)
- ``worker.py``: one (task, framework, seed) run in its own process -> one JSON line
- ``analysis.py``: mean ± std over seeds, time to a target accuracy, the claims' verdicts
- ``report.py``: the Markdown page
- ``__main__.py``: the command line; runs the workers and writes the results
"""
