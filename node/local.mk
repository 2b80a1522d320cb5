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

# Integration: two namespaces, a TUN in each, the data plane between them
# driven by a harness with fixed keys (not the product's key exchange).
check_PROGRAMS += tests/dataplane/dptest
tests_dataplane_dptest_SOURCES = tests/dataplane/dptest.c
tests_dataplane_dptest_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	$(LIBMNL_CFLAGS) -I$(top_srcdir)/node
tests_dataplane_dptest_LDADD = $(NODE_LIBS)
TESTS += tests/integration/tun.sh
dist_check_SCRIPTS += tests/integration/tun.sh

# Corpus replay of the data-packet fuzz target, run by make check.
check_PROGRAMS += tests/fuzz/replay_data
tests_fuzz_replay_data_SOURCES = tests/fuzz/fuzz_data.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_data_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/node
tests_fuzz_replay_data_LDADD = $(NODE_LIBS)
TESTS += tests/fuzz/replay_data.test
CLEANFILES += tests/fuzz/replay_data.test
EXTRA_DIST += tests/fuzz/corpus/data
tests/fuzz/replay_data.test: Makefile
	$(AM_V_GEN)mkdir -p tests/fuzz && \
	printf '#!/bin/sh\nexec "%s" data "%s"\n' \
	    '$(abs_top_builddir)/tests/fuzz/replay_data' \
	    '$(abs_top_srcdir)/tests/fuzz/corpus/data' >$@ && chmod +x $@

# The data path is compiled into the fuzz target so libFuzzer's coverage
# sees it (libntm's objects are built without the instrumentation).
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_data
tests_fuzz_fuzz_data_SOURCES = tests/fuzz/fuzz_data.c node/dataplane.c node/tso.c node/tun.c \
	lib/msg.c lib/buf.c lib/replay.c
tests_fuzz_fuzz_data_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/node -fsanitize=fuzzer
tests_fuzz_fuzz_data_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_data_LDADD = $(NTM_LIBS)
endif
