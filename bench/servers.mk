# bench/servers.mk -- benchmarks of the AS and the DC.
