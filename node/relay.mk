# node/relay.mk -- the node side of the relay: RS binding (node/rsbind.c,
# in libnode next to node/tunnelio.c, which drives it) and its unit test,
# which checks the hellos against the RS's own core (rs/librs.la).
node_libnode_la_SOURCES += node/rsbind.c node/rsbind.h

check_PROGRAMS += tests/unit/test_rsbind
TESTS += tests/unit/test_rsbind
tests_unit_test_rsbind_SOURCES = tests/unit/test_rsbind.c
tests_unit_test_rsbind_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/rs
tests_unit_test_rsbind_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rsbind_LDADD = node/libnode.la rs/librs.la $(TUNNEL_LIBS) \
	$(LIBMNL_LIBS) $(TEST_LIBS)
