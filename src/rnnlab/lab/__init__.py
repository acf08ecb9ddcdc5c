"""Experiments that teach: `rnnlab lab gradients` (vanishing and exploding gradients)."""
