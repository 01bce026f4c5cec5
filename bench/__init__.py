"""Benchmarks for issue 7 (performance at scale): ``python -m tests.servers -- python bench/run.py``."""
