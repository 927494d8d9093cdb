"""Benchmarks: replayed typing sessions for latency (and, later, completion quality)."""
