"""One torch-free module per system, each calling ``register(ModelSpec(...))`` on import."""
