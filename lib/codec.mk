# lib/codec.mk -- codec part of libntm (sources, unit tests, fuzz targets).
lib_libntm_la_SOURCES += lib/msg.c lib/msg.h

check_PROGRAMS += tests/unit/test_msg
TESTS += tests/unit/test_msg
tests_unit_test_msg_SOURCES = tests/unit/test_msg.c tests/fuzz/msg_samples.c \
	tests/fuzz/msg_samples.h
tests_unit_test_msg_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tests/fuzz
tests_unit_test_msg_LDADD = $(TEST_LIBS)

# Corpus replay of the message fuzz target, run by make check.
check_PROGRAMS += tests/fuzz/replay_msg
tests_fuzz_replay_msg_SOURCES = tests/fuzz/fuzz_msg.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_msg_CFLAGS = $(AM_CFLAGS)
tests_fuzz_replay_msg_LDADD = lib/libntm.la
TESTS += tests/fuzz/replay_msg.sh
dist_check_SCRIPTS += tests/fuzz/replay_msg.sh
EXTRA_DIST += tests/fuzz/corpus/msg doc/PROTOCOL.md

# Writes the seed corpus (make msg-corpus); its output is committed.
check_PROGRAMS += tests/fuzz/gen_msg_corpus
tests_fuzz_gen_msg_corpus_SOURCES = tests/fuzz/gen_msg_corpus.c \
	tests/fuzz/msg_samples.c tests/fuzz/msg_samples.h
tests_fuzz_gen_msg_corpus_LDADD = lib/libntm.la

.PHONY: msg-corpus
msg-corpus: tests/fuzz/gen_msg_corpus$(EXEEXT)
	tests/fuzz/gen_msg_corpus$(EXEEXT) $(srcdir)/tests/fuzz/corpus/msg

# The codec is compiled into the target itself so libFuzzer's coverage
# instrumentation sees it (libntm's objects are built without it).
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_msg
tests_fuzz_fuzz_msg_SOURCES = tests/fuzz/fuzz_msg.c lib/msg.c lib/buf.c
tests_fuzz_fuzz_msg_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_msg_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
endif
