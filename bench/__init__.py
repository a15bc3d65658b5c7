"""Benchmarks run by ``make bench`` (see docs/benchmarks.md). Never run by the test suite."""
