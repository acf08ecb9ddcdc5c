"""Greedy and beam search over an encoder-decoder's steps, in NumPy: the same search for a Keras
model (`rnnlab.models.seq2seq.Translator`) and an ONNX export (`rnnlab.export.runtime`), so both
give the same translations. A subclass says how to encode a batch and how to take one step.

Example:
>>> ids, attention = translator.greedy(source_ids, max_steps=50)  # doctest: +SKIP
"""

import numpy as np


class DecoderSearch:
    """Greedy and beam search given `encode` and `step`.

    Args:
        start_id, end_id: the target vocabulary's start and end ids.
    """

    def __init__(self, start_id, end_id):
        self.start_id, self.end_id = start_id, end_id

    def encode(self, source_ids):
        """`(source, encoder outputs, decoder initial states)` as NumPy arrays for `(batch, steps)`
        back-padded source ids."""
        raise NotImplementedError

    def step(self, tokens, states, encoder_outputs, source):
        """One decoder step for `(rows,)` previous tokens: `(log_probs (rows, vocab), new states,
        attention weights (rows, source steps) or None)`."""
        raise NotImplementedError

    def greedy(self, source_ids, max_steps):
        """Most likely token at each step. Returns `(ids, attention)`: lists (one per
        sentence) of target ids (without start/end) and `(steps, source_steps)` weights
        (None without attention)."""
        source, encoder_outputs, states = self.encode(source_ids)
        batch = len(source_ids)
        tokens = np.full(batch, self.start_id, "int32")
        outputs, attention = [[] for _ in range(batch)], [[] for _ in range(batch)]
        done = np.zeros(batch, bool)
        for _ in range(max_steps):
            log_probs, states, weights = self.step(tokens, states, encoder_outputs, source)
            tokens = log_probs.argmax(-1).astype("int32")
            for i in np.flatnonzero(~done):
                if tokens[i] == self.end_id:
                    done[i] = True
                    continue
                outputs[i].append(int(tokens[i]))
                if weights is not None:
                    attention[i].append(weights[i])
            if done.all():
                break
        return outputs, [np.array(a) if a else None for a in attention]

    def beam(self, source_ids, max_steps, beam_size=5, length_penalty=0.6):
        """Beam search per sentence (all beams of all sentences in one batch). Hypotheses are
        ranked by log-probability / ((5 + length) / 6) ** length_penalty (Wu et al., 2016).
        Returns `(ids, attention)` like `greedy`."""
        source, encoder_outputs, states = self.encode(source_ids)
        batch, k = len(source_ids), beam_size
        repeat = np.repeat(np.arange(batch), k)  # each sentence's row, k times
        source, encoder_outputs = source[repeat], encoder_outputs[repeat]
        states = [s[repeat] for s in states]
        scores = np.tile(np.r_[0.0, np.full(k - 1, -np.inf)], batch)  # one live beam at first
        tokens = np.full(batch * k, self.start_id, "int32")
        history = [[[] for _ in range(k)] for _ in range(batch)]
        attn = [[[] for _ in range(k)] for _ in range(batch)]
        finished = [[] for _ in range(batch)]  # (normalised score, ids, attention)

        def norm(score, length):
            return score / ((5 + length) / 6) ** length_penalty

        for _ in range(max_steps):
            log_probs, states, weights = self.step(tokens, states, encoder_outputs, source)
            vocab = log_probs.shape[-1]
            total = (scores[:, None] + log_probs).reshape(batch, k * vocab)
            best = np.argsort(-total, axis=1)[:, : 2 * k]  # room for beams that end here
            rows, new_tokens, new_scores = [], [], []
            new_history, new_attn = [], []
            for b in range(batch):
                kept = 0
                for flat in best[b]:
                    beam, token = divmod(int(flat), vocab)
                    score = total[b, flat]
                    if not np.isfinite(score):
                        continue
                    path = history[b][beam]
                    att = attn[b][beam] + ([weights[b * k + beam]] if weights is not None else [])
                    if token == self.end_id:
                        finished[b].append((norm(score, len(path) + 1), path, att))
                        continue
                    rows.append(b * k + beam)
                    new_tokens.append(token)
                    new_scores.append(score)
                    new_history.append(path + [token])
                    new_attn.append(att)
                    kept += 1
                    if kept == k:
                        break
                while kept < k:  # too few continuations: pad with dead beams
                    rows.append(b * k)
                    new_tokens.append(self.end_id)
                    new_scores.append(-np.inf)
                    new_history.append([])
                    new_attn.append([])
                    kept += 1
            rows = np.array(rows)
            states = [s[rows] for s in states]
            tokens = np.array(new_tokens, "int32")
            scores = np.array(new_scores)
            history = [new_history[b * k : (b + 1) * k] for b in range(batch)]
            attn = [new_attn[b * k : (b + 1) * k] for b in range(batch)]
            best_live = scores.reshape(batch, k).max(axis=1)
            if all(
                len(finished[b]) >= k and max(f[0] for f in finished[b]) > norm(best_live[b], max_steps)
                for b in range(batch)
            ):
                break
        outputs, attentions = [], []
        for b in range(batch):
            candidates = finished[b] or [
                (norm(scores[b * k + j], len(history[b][j])), history[b][j], attn[b][j]) for j in range(k)
            ]
            _, ids, att = max(candidates, key=lambda c: c[0])
            outputs.append(list(ids))
            attentions.append(np.array(att) if att else None)
        return outputs, attentions
