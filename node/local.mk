# node/local.mk -- build rules for node/: libnode (everything ntmd runs
# except its main), the data-plane tests, fuzz target and harness.
noinst_LTLIBRARIES += node/libnode.la
node_libnode_la_SOURCES = node/dataplane.c node/dataplane.h \
	node/tun.c node/tun.h node/netlink.c node/netlink.h
node_libnode_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) $(LIBMNL_CFLAGS)
node_libnode_la_LIBADD = $(LIBMNL_LIBS)

NODE_LIBS = node/libnode.la $(LIBMNL_LIBS) $(NTM_LIBS)

check_PROGRAMS += tests/unit/test_dataplane
TESTS += tests/unit/test_dataplane
tests_unit_test_dataplane_SOURCES = tests/unit/test_dataplane.c
tests_unit_test_dataplane_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node
tests_unit_test_dataplane_LDADD = node/libnode.la $(LIBMNL_LIBS) $(TEST_LIBS)
