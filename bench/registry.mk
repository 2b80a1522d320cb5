# bench/registry.mk -- the registry scale benchmark (1 M simulated nodes).
