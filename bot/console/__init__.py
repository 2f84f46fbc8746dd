"""Admin console backends: the embedded local directory and adapters to real consoles."""
