"""Grading on a cluster: where sandboxed jobs run (here, or on Dask workers)."""
