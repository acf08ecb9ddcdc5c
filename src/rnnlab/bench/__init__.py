"""`rnnlab bench`: training and inference throughput of RNN models, rnnlab against peers.

Each peer runs in its own process (Keras binds its backend at import); peers
alternate across repeats so that drifts of the machine hit all of them alike.
"""
