"""Benchmarks of claim-review on synthetic knowledge bases: see bench.py and the README."""
