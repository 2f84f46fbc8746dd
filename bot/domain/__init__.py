"""The domain: plain Python, standard library only."""
