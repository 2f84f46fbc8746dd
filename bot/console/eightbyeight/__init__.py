"""The 8x8 Administration API backend: a client that speaks the API exactly, and the Console adapter."""
