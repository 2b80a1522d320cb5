# ctlclose.mk -- ntmctl close and the TUNNEL line options in the lab.
TESTS += tests/integration/ctlclose.sh
dist_check_SCRIPTS += tests/integration/ctlclose.sh
