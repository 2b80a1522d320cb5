# rs/local.mk -- ntm-rs, the relay server.  Its non-main files form
# rs/librs.la, which the daemon, the tests and the fuzz replay link.
noinst_LTLIBRARIES += rs/librs.la
rs_librs_la_SOURCES = rs/rs.h rs/relay.c rs/relay.h rs/config.c \
	rs/rsio.c rs/rsio.h rs/control.c
rs_librs_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
rs_librs_la_LIBADD = lib/libntm.la $(UV_LIBS)

RS_LIBS = rs/librs.la $(NTM_LIBS)

check_PROGRAMS += tests/unit/test_relay
TESTS += tests/unit/test_relay
tests_unit_test_relay_SOURCES = tests/unit/test_relay.c
tests_unit_test_relay_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/rs
tests_unit_test_relay_LDADD = rs/librs.la $(TEST_LIBS)

sbin_PROGRAMS += rs/ntm-rs
rs_ntm_rs_SOURCES = rs/rs.c
rs_ntm_rs_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
rs_ntm_rs_LDADD = $(RS_LIBS)

# ntmctl rs stats (tools/ntmctl_rs.c) is built with ntmctl in tools/local.mk.

# In network namespaces (root): a test DC and test nodes against ntm-rs.
check_PROGRAMS += tests/rs/rsdc tests/rs/rsnode
tests_rs_rsdc_SOURCES = tests/rs/rsdc.c
tests_rs_rsdc_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
tests_rs_rsdc_LDADD = $(NTM_LIBS)
tests_rs_rsnode_SOURCES = tests/rs/rsnode.c
tests_rs_rsnode_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) -I$(top_srcdir)
tests_rs_rsnode_LDADD = $(RS_LIBS)
TESTS += tests/integration/rs.sh
dist_check_SCRIPTS += tests/integration/rs.sh

# The UDP input path and the DC channel handler under libFuzzer; the seed
# corpus (written by gen_rs_corpus, committed) is replayed by make check.
check_PROGRAMS += tests/fuzz/replay_rs
tests_fuzz_replay_rs_SOURCES = tests/fuzz/fuzz_rs.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_rs_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) -I$(top_srcdir)/rs
tests_fuzz_replay_rs_LDADD = $(RS_LIBS)
TESTS += tests/fuzz/replay_rs.sh
dist_check_SCRIPTS += tests/fuzz/replay_rs.sh
EXTRA_DIST += tests/fuzz/corpus/rs

# The writer is a check program (tests/fuzz/extra.mk sets EXTRA_PROGRAMS
# after this file is read); it is not a test.
check_PROGRAMS += tests/fuzz/gen_rs_corpus
tests_fuzz_gen_rs_corpus_SOURCES = tests/fuzz/fuzz_rs.c
tests_fuzz_gen_rs_corpus_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/rs -DFUZZ_CORPUS_GEN
tests_fuzz_gen_rs_corpus_LDADD = $(RS_LIBS)

.PHONY: rs-corpus
rs-corpus: tests/fuzz/gen_rs_corpus$(EXEEXT)
	$(MKDIR_P) $(srcdir)/tests/fuzz/corpus/rs
	tests/fuzz/gen_rs_corpus$(EXEEXT) $(srcdir)/tests/fuzz/corpus/rs

if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_rs
tests_fuzz_fuzz_rs_SOURCES = tests/fuzz/fuzz_rs.c rs/relay.c lib/msg.c \
	lib/buf.c
tests_fuzz_fuzz_rs_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/rs -fsanitize=fuzzer
tests_fuzz_fuzz_rs_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_rs_LDADD = $(NTM_LIBS)
endif

dist_man_MANS += doc/ntm-rs.8 doc/ntm-rs.conf.5
