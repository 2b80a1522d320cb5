# tools/nat.mk -- lab topologies with NATs and IPv6-only hosts, and their integration tests.
