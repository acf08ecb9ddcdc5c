"""Task-independent data plumbing: padding (`padding`, without Keras), and padded, optionally
length-bucketed batches in a seeded order that can be replayed from any epoch and step, for resume
(`batches`)."""
