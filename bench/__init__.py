"""Benchmarks of Maillage. Each module runs as ``python -m bench.<name>`` from the repository
root and records its figures through :func:`bench.results.record` into bench/results.json."""
