"""``python -m benchmarks``: the benchmark suite's command (``ember bench`` runs the same).

    python -m benchmarks [run] [--workloads ...] [--frameworks ...] [--steps N] ...
    python -m benchmarks report RESULTS.jsonl [--out-dir DIR] [--run-id ID]
    python -m benchmarks sizes [--frameworks ...]

Without a subcommand (or with ``run``) it runs the suite (``benchmarks/runner.py``); ``report``
renders a results file again (``benchmarks/report.py``); ``sizes`` prints import time and
installed size only (``benchmarks/sizes.py``). The single-purpose scripts keep their own
entry points: ``python -m benchmarks.eager_overhead`` and so on.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the runner, the report or the size measurement."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "run"
    if command == "report":
        from benchmarks import report

        return report.main(argv[1:])
    if command == "sizes":
        from benchmarks import sizes

        return sizes.main(argv[1:])
    from benchmarks import runner

    return runner.main(argv[1:] if command == "run" else argv)


if __name__ == "__main__":
    sys.exit(main())
