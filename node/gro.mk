# node/gro.mk -- receive coalescing (node/tso.c tso_gro_*): its unit tests and fuzz target.
check_PROGRAMS += tests/unit/test_gro
TESTS += tests/unit/test_gro
tests_unit_test_gro_SOURCES = tests/unit/test_gro.c
tests_unit_test_gro_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node
tests_unit_test_gro_LDADD = node/libnode.la $(LIBMNL_LIBS) $(TEST_LIBS)

# fuzz_tso: batches of opened inner packets through coalescing and the
# splitter; its corpus is replayed by make check.
check_PROGRAMS += tests/fuzz/replay_tso
tests_fuzz_replay_tso_SOURCES = tests/fuzz/fuzz_tso.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_tso_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/node
tests_fuzz_replay_tso_LDADD = node/libnode.la $(LIBMNL_LIBS) $(NTM_LIBS)
TESTS += tests/fuzz/replay_tso.test
CLEANFILES += tests/fuzz/replay_tso.test
EXTRA_DIST += tests/fuzz/corpus/tso
tests/fuzz/replay_tso.test: Makefile
	$(AM_V_GEN)mkdir -p tests/fuzz && \
	printf '#!/bin/sh\nexec "%s" tso "%s"\n' \
	    '$(abs_top_builddir)/tests/fuzz/replay_tso' \
	    '$(abs_top_srcdir)/tests/fuzz/corpus/tso' >$@ && chmod +x $@

if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_tso
tests_fuzz_fuzz_tso_SOURCES = tests/fuzz/fuzz_tso.c node/tso.c lib/buf.c
tests_fuzz_fuzz_tso_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/node \
	-fsanitize=fuzzer
tests_fuzz_fuzz_tso_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
endif
