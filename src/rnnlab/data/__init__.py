"""Task-independent data plumbing: padded, optionally length-bucketed batches
in a seeded order that can be replayed from any epoch and step (for resume)."""

from rnnlab.data.batches import BatchOrder, Examples, pad

__all__ = ["BatchOrder", "Examples", "pad"]
