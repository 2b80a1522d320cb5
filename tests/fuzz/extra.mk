# tests/fuzz/extra.mk -- fuzz targets: certificate, status, fragment input.
#
# Each target's .c builds three ways: a corpus replay run by make check
# (with tests/fuzz/replay.c), the libFuzzer binary (--enable-fuzzers, with
# the code under test compiled in so coverage instrumentation reaches it),
# and, for the PKI targets, the seed-corpus writer (make pki-corpus).

FUZZ_PKI_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)

check_PROGRAMS += tests/fuzz/replay_csr tests/fuzz/replay_ocsp \
	tests/fuzz/replay_frag tests/fuzz/replay_cert
tests_fuzz_replay_csr_SOURCES = tests/fuzz/fuzz_csr.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_csr_CFLAGS = $(FUZZ_PKI_CFLAGS)
tests_fuzz_replay_csr_LDADD = $(NTM_LIBS)
tests_fuzz_replay_ocsp_SOURCES = tests/fuzz/fuzz_ocsp.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_ocsp_CFLAGS = $(FUZZ_PKI_CFLAGS)
tests_fuzz_replay_ocsp_LDADD = $(NTM_LIBS)
tests_fuzz_replay_cert_SOURCES = tests/fuzz/fuzz_cert.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_cert_CFLAGS = $(FUZZ_PKI_CFLAGS)
tests_fuzz_replay_cert_LDADD = $(NTM_LIBS)
tests_fuzz_replay_frag_SOURCES = tests/fuzz/fuzz_frag.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_frag_CFLAGS = $(AM_CFLAGS)
tests_fuzz_replay_frag_LDADD = lib/libntm.la

TESTS += tests/fuzz/replay_csr.sh tests/fuzz/replay_ocsp.sh \
	tests/fuzz/replay_frag.sh tests/fuzz/replay_cert.sh
dist_check_SCRIPTS += tests/fuzz/replay_csr.sh tests/fuzz/replay_ocsp.sh \
	tests/fuzz/replay_frag.sh tests/fuzz/replay_cert.sh
EXTRA_DIST += tests/fuzz/corpus/csr tests/fuzz/corpus/ocsp \
	tests/fuzz/corpus/frag tests/fuzz/corpus/cert

# The seed writers; the corpora they write are committed.  The OCSP
# responses are signed with the AS key fixed in fuzz_ocsp.c.
EXTRA_PROGRAMS = tests/fuzz/gen_csr_corpus tests/fuzz/gen_ocsp_corpus \
	tests/fuzz/gen_cert_corpus
CLEANFILES += tests/fuzz/gen_csr_corpus$(EXEEXT) \
	tests/fuzz/gen_ocsp_corpus$(EXEEXT) tests/fuzz/gen_cert_corpus$(EXEEXT)
tests_fuzz_gen_cert_corpus_SOURCES = tests/fuzz/fuzz_cert.c
tests_fuzz_gen_cert_corpus_CFLAGS = $(FUZZ_PKI_CFLAGS) -DFUZZ_CORPUS_GEN
tests_fuzz_gen_cert_corpus_LDADD = $(NTM_LIBS)
tests_fuzz_gen_csr_corpus_SOURCES = tests/fuzz/fuzz_csr.c
tests_fuzz_gen_csr_corpus_CFLAGS = $(FUZZ_PKI_CFLAGS) -DFUZZ_CORPUS_GEN
tests_fuzz_gen_csr_corpus_LDADD = $(NTM_LIBS)
tests_fuzz_gen_ocsp_corpus_SOURCES = tests/fuzz/fuzz_ocsp.c
tests_fuzz_gen_ocsp_corpus_CFLAGS = $(FUZZ_PKI_CFLAGS) -DFUZZ_CORPUS_GEN
tests_fuzz_gen_ocsp_corpus_LDADD = $(NTM_LIBS)

.PHONY: pki-corpus
pki-corpus: tests/fuzz/gen_csr_corpus$(EXEEXT) \
	    tests/fuzz/gen_ocsp_corpus$(EXEEXT) tests/fuzz/gen_cert_corpus$(EXEEXT)
	tests/fuzz/gen_csr_corpus$(EXEEXT) $(srcdir)/tests/fuzz/corpus/csr
	tests/fuzz/gen_ocsp_corpus$(EXEEXT) $(srcdir)/tests/fuzz/corpus/ocsp
	tests/fuzz/gen_cert_corpus$(EXEEXT) $(srcdir)/tests/fuzz/corpus/cert

if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_csr tests/fuzz/fuzz_ocsp \
	tests/fuzz/fuzz_frag tests/fuzz/fuzz_cert
tests_fuzz_fuzz_cert_SOURCES = tests/fuzz/fuzz_cert.c lib/cert.c
tests_fuzz_fuzz_cert_CFLAGS = $(FUZZ_PKI_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_cert_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_cert_LDADD = $(NTM_LIBS)
tests_fuzz_fuzz_csr_SOURCES = tests/fuzz/fuzz_csr.c lib/cert.c
tests_fuzz_fuzz_csr_CFLAGS = $(FUZZ_PKI_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_csr_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_csr_LDADD = $(NTM_LIBS)
tests_fuzz_fuzz_ocsp_SOURCES = tests/fuzz/fuzz_ocsp.c lib/ocsp.c lib/cert.c
tests_fuzz_fuzz_ocsp_CFLAGS = $(FUZZ_PKI_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ocsp_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ocsp_LDADD = $(NTM_LIBS)
tests_fuzz_fuzz_frag_SOURCES = tests/fuzz/fuzz_frag.c lib/frag.c
tests_fuzz_fuzz_frag_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_frag_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_frag_LDADD = lib/libntm.la
endif
