# tools/nat.mk -- lab topologies with NATs and IPv6-only hosts, and their integration tests.
dist_labdata_DATA += tools/lab/nat.topo

# The route grid in the nat topology (needs root, else a TAP skip; skipped
# while ntm-as, ntm-dc, ntmd or ntmctl is not built).
TESTS += tests/integration/nat.sh
dist_check_SCRIPTS += tests/integration/nat.sh
