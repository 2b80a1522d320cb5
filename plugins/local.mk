# plugins/local.mk -- build rules for plugins/: the NSS module libnss_ntm.so.2,
# the control line protocol (lib/ctlmsg) it shares with libntm, their tests.

# The line protocol is libc only; libntm carries it for ntmd and ntmctl.
lib_libntm_la_SOURCES += lib/ctlmsg.c lib/ctlmsg.h

# libnss_ntm.so.2: a libtool module named exactly as glibc dlopen()s it,
# exporting only _nss_ntm_* (nss_ntm.map), linking nothing but libc.  It is
# loaded into programs built without sanitizers, so it never gets NTM_SAN
# (the per-target flags replace AM_CFLAGS/AM_LDFLAGS); tests/nss/nsscall
# links the same sources with the sanitizers instead.
nss_LTLIBRARIES += plugins/libnss_ntm.la
plugins_libnss_ntm_la_SOURCES = plugins/nss_ntm.c lib/ctlmsg.c lib/ctlmsg.h
plugins_libnss_ntm_la_CFLAGS = -std=gnu11 $(NTM_WARN) $(NTM_HARDEN_CFLAGS)
plugins_libnss_ntm_la_LDFLAGS = $(NTM_HARDEN_LDFLAGS) -module -avoid-version \
	-shrext .so.2 -no-undefined \
	-Wl,--version-script=$(srcdir)/plugins/nss_ntm.map
EXTRA_plugins_libnss_ntm_la_DEPENDENCIES = plugins/nss_ntm.map
EXTRA_DIST += plugins/nss_ntm.map

dist_doc_DATA += doc/CONTROL.md
dist_man_MANS += doc/nss_ntm.8

# Unit tests of the line protocol and nss.conf.
check_PROGRAMS += tests/unit/test_ctlmsg
TESTS += tests/unit/test_ctlmsg
tests_unit_test_ctlmsg_SOURCES = tests/unit/test_ctlmsg.c
tests_unit_test_ctlmsg_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ctlmsg_LDADD = $(TEST_LIBS)

# The fuzz target's corpus, replayed by make check; the libFuzzer binary
# itself with --enable-fuzzers (CC=clang).
check_PROGRAMS += tests/fuzz/replay_ctlmsg
tests_fuzz_replay_ctlmsg_SOURCES = tests/fuzz/fuzz_ctlmsg.c $(FUZZ_REPLAY_SRC) \
	lib/ctlmsg.c lib/ctlmsg.h
tests_fuzz_replay_ctlmsg_CFLAGS = $(AM_CFLAGS)
TESTS += tests/fuzz/replay_ctlmsg.test
CLEANFILES += tests/fuzz/replay_ctlmsg.test
EXTRA_DIST += tests/fuzz/corpus/ctlmsg
tests/fuzz/replay_ctlmsg.test: Makefile
	$(AM_V_GEN)mkdir -p tests/fuzz && \
	printf '#!/bin/sh\nexec "%s" ctlmsg "%s"\n' \
	    '$(abs_top_builddir)/tests/fuzz/replay_ctlmsg' \
	    '$(abs_top_srcdir)/tests/fuzz/corpus/ctlmsg' >$@ && chmod +x $@
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_ctlmsg
tests_fuzz_fuzz_ctlmsg_SOURCES = tests/fuzz/fuzz_ctlmsg.c lib/ctlmsg.c \
	lib/ctlmsg.h
tests_fuzz_fuzz_ctlmsg_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ctlmsg_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
endif

# The NSS integration test: a scripted ntmd stand-in, a driver that calls
# the module's entry points directly, and getent inside a namespace.
check_PROGRAMS += tests/nss/ntm-nss-responder tests/nss/nsscall
tests_nss_ntm_nss_responder_SOURCES = tests/nss/responder.c lib/ctlmsg.c \
	lib/ctlmsg.h
tests_nss_ntm_nss_responder_CFLAGS = $(AM_CFLAGS)
tests_nss_nsscall_SOURCES = tests/nss/nsscall.c plugins/nss_ntm.c \
	lib/ctlmsg.c lib/ctlmsg.h
tests_nss_nsscall_CFLAGS = $(AM_CFLAGS)
dist_check_SCRIPTS += tests/integration/nss.sh
EXTRA_DIST += tests/nss/dnsstub.py
TESTS += tests/integration/nss.sh
