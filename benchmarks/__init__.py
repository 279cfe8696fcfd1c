"""Benchmarks of ember against NumPy and PyTorch; run each as ``python -m benchmarks.<name>``."""
