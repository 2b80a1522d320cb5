# node/daemon.mk -- the ntmd daemon: its core files join libnode (so the
# tests link exactly what ntmd runs), main, man pages, tests.
node_libnode_la_SOURCES += node/dcclient.c node/dcclient.h

check_PROGRAMS += tests/unit/test_dcclient
TESTS += tests/unit/test_dcclient
tests_unit_test_dcclient_SOURCES = tests/unit/test_dcclient.c
tests_unit_test_dcclient_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/dc
tests_unit_test_dcclient_LDADD = node/libnode.la dc/libdc.la $(LIBMNL_LIBS) \
	$(TEST_LIBS)
node_libnode_la_SOURCES += node/control.c node/control.h node/ntmd.h

check_PROGRAMS += tests/unit/test_control
TESTS += tests/unit/test_control
tests_unit_test_control_SOURCES = tests/unit/test_control.c
tests_unit_test_control_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node
tests_unit_test_control_LDADD = node/libnode.la $(LIBMNL_LIBS) $(TEST_LIBS)
node_libnode_la_SOURCES += node/config.c node/store.c node/store.h \
	node/enroll.c node/enroll.h
# The glue between node/tunnel (libtunnel, plugins/kex.h) and the daemon.
node_libnode_la_SOURCES += node/tunnelio.c node/tunnelio.h
node_libnode_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins

sbin_PROGRAMS += node/ntmd
node_ntmd_SOURCES = node/ntmd.c
node_ntmd_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) $(CAPNG_CFLAGS)
node_ntmd_LDADD = node/libnode.la $(TUNNEL_LIBS) $(LIBMNL_LIBS) $(CAPNG_LIBS) \
	$(NTM_LIBS)

# Root: ntmd in a namespace, TUN, routes, ntmctl status, -n, privileges.
TESTS += tests/integration/ntmd.sh
dist_check_SCRIPTS += tests/integration/ntmd.sh
# Root: the first tunnel in the lab (getent, ping, curl, reuse, kex_allowed).
TESTS += tests/integration/tunnel2.sh
dist_check_SCRIPTS += tests/integration/tunnel2.sh

dist_man_MANS += doc/ntmd.8 doc/ntmd.conf.5

# TUN offloads (issue 5): TCP super-segments split, checksums completed.
node_libnode_la_SOURCES += node/tso.c node/tso.h
check_PROGRAMS += tests/unit/test_tso
TESTS += tests/unit/test_tso
tests_unit_test_tso_SOURCES = tests/unit/test_tso.c
tests_unit_test_tso_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node
tests_unit_test_tso_LDADD = node/libnode.la $(LIBMNL_LIBS) $(TEST_LIBS)

# [tunnel] offload (TUN offloads on by default; no turns them off).
EXTRA_DIST += tests/ntmdconf/offload-no.conf tests/ntmdconf/offload-no.out \
	tests/ntmdconf/offload-bad.conf tests/ntmdconf/offload-bad.out
