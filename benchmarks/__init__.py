"""Benchmark scripts; each prints a table with ratios against baselines measured in the same run."""
