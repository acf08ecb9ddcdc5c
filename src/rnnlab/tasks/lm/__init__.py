"""Language models (article 3.2, 7.2): character and word RNN LMs, and text generation."""
