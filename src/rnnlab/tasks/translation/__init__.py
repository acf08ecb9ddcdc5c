"""Machine translation on Multi30k (article 6.2 encoder-decoder, 8.1 attention)."""
