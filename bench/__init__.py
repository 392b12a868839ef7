"""Benchmarks: ``make bench`` (``python -m bench``).

Each prints figures and ratios against a baseline measured in the same run.
"""
