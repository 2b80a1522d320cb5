# node/intunnel.mk -- in-tunnel messages: rekey, certificate update and status re-stapling.
# node/intunnel.c joins libnode (ntmd's objects) next to node/tunnelio.c,
# which feeds it; it calls node/peercheck and the schemes (TUNNEL_LIBS).
node_libnode_la_SOURCES += node/intunnel.c node/intunnel.h

check_PROGRAMS += tests/unit/test_intunnel
TESTS += tests/unit/test_intunnel
tests_unit_test_intunnel_SOURCES = tests/unit/test_intunnel.c
tests_unit_test_intunnel_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/plugins
tests_unit_test_intunnel_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_intunnel_LDADD = node/libnode.la $(TUNNEL_LIBS) \
	$(LIBMNL_LIBS) $(TEST_LIBS)

# Golden ntmd.conf tests of [tunnel] rekey_interval (run by
# tests/ntmdconf/golden.sh with the others there).
EXTRA_DIST += tests/ntmdconf/rekey-interval.conf \
	tests/ntmdconf/rekey-interval.out tests/ntmdconf/rekey-bad.conf \
	tests/ntmdconf/rekey-bad.out

# Root: two lab nodes rekeying every 3 s under ping, iperf3 and curl; the
# tunnel outliving its first 60 s staples through CERT_UPDATEs; closed
# after the peer's revocation.
TESTS += tests/integration/rekey.sh
dist_check_SCRIPTS += tests/integration/rekey.sh
