# node/tunnel.mk -- node tunnel establishment: node/libtunnel.la (the
# sans-I/O tunnel state machine and the peer checks ntmd links) and its tests.
noinst_LTLIBRARIES += node/libtunnel.la
node_libtunnel_la_SOURCES = node/peercheck.c node/peercheck.h \
	node/tunnel.c node/tunnel.h
node_libtunnel_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins
node_libtunnel_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)

# Link order: libtunnel calls the schemes (libkex), both call libntm.
TUNNEL_LIBS = node/libtunnel.la plugins/libkex.la

check_PROGRAMS += tests/unit/test_peercheck
TESTS += tests/unit/test_peercheck
tests_unit_test_peercheck_SOURCES = tests/unit/test_peercheck.c
tests_unit_test_peercheck_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/plugins
tests_unit_test_peercheck_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_peercheck_LDADD = $(TUNNEL_LIBS) $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_tunnel
TESTS += tests/unit/test_tunnel
tests_unit_test_tunnel_SOURCES = tests/unit/test_tunnel.c
tests_unit_test_tunnel_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/plugins
tests_unit_test_tunnel_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tunnel_LDADD = $(TUNNEL_LIBS) $(TEST_LIBS)
