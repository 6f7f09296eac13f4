"""Benchmarks, the weak-link TCP fault proxy, and their recorded results."""
