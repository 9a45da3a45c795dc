"""Sandboxed auto-grader for the Deep Learning course notebooks."""
__version__ = "0.1.0"
