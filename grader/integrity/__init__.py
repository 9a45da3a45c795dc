"""Integrity: notebooks copied across the class (and from earlier years), found by winnowing
fingerprints of normalized Python tokens. Flags pairs for review; never takes points."""
from .flags import Flagged, flag_similar, similarity_for_folder, with_flags

__all__ = ["Flagged", "flag_similar", "similarity_for_folder", "with_flags"]
