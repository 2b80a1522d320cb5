# as/vip.mk -- virtual IPs from the home DC, ticket keys over notices, and the fuzz targets of the DC's TLS and HTTP inputs.
#
# dc/vip.c goes into libntm: this fragment is read before dc/local.mk sets
# dc/libdc.la's sources, and libdc links libntm.

lib_libntm_la_SOURCES += dc/vip.c dc/vip.h

check_PROGRAMS += tests/unit/test_vip
TESTS += tests/unit/test_vip
tests_unit_test_vip_SOURCES = tests/unit/test_vip.c
tests_unit_test_vip_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_vip_LDADD = $(TEST_LIBS)

# The AS's side: ticket keys it makes and sends (NOTICE_TICKET_KEY).
as_libas_la_SOURCES += as/tkey.c as/tkey.h

check_PROGRAMS += tests/unit/test_tkey
TESTS += tests/unit/test_tkey
tests_unit_test_tkey_SOURCES = tests/unit/test_tkey.c
tests_unit_test_tkey_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_tkey_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_tkey_LDADD = $(AS_TEST_LIBS)

# End to end on loopback: VIP_REQUEST and NOTICE_TICKET_KEY between the
# real ntm-as and ntm-dc (no root needed).
TESTS += tests/integration/as-vip.sh
dist_check_SCRIPTS += tests/integration/as-vip.sh

# Fuzz targets of the DC's TLS and HTTP inputs: the AS frames on 4611
# (dc/notice: notices and VIP_REQUEST) and the OCSP responder's HTTP
# parser.  Their seed corpora are replayed by make check.
check_PROGRAMS += tests/fuzz/replay_notice tests/fuzz/replay_ocsphttp
tests_fuzz_replay_notice_SOURCES = tests/fuzz/fuzz_notice.c \
	$(FUZZ_REPLAY_SRC)
tests_fuzz_replay_notice_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc
tests_fuzz_replay_notice_LDADD = $(DC_LIBS)
tests_fuzz_replay_ocsphttp_SOURCES = tests/fuzz/fuzz_ocsphttp.c \
	$(FUZZ_REPLAY_SRC)
tests_fuzz_replay_ocsphttp_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc
tests_fuzz_replay_ocsphttp_LDADD = $(DC_LIBS)
TESTS += tests/fuzz/replay_notice.sh tests/fuzz/replay_ocsphttp.sh
dist_check_SCRIPTS += tests/fuzz/replay_notice.sh \
	tests/fuzz/replay_ocsphttp.sh
EXTRA_DIST += tests/fuzz/corpus/notice tests/fuzz/corpus/ocsphttp

if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_notice tests/fuzz/fuzz_ocsphttp
tests_fuzz_fuzz_notice_SOURCES = tests/fuzz/fuzz_notice.c dc/notice.c \
	dc/vip.c lib/msg.c lib/buf.c
tests_fuzz_fuzz_notice_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -fsanitize=fuzzer
tests_fuzz_fuzz_notice_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_notice_LDADD = $(NTM_LIBS)
tests_fuzz_fuzz_ocsphttp_SOURCES = tests/fuzz/fuzz_ocsphttp.c \
	dc/ocsphttp.c dc/notice.c dc/vip.c lib/buf.c
tests_fuzz_fuzz_ocsphttp_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -fsanitize=fuzzer
tests_fuzz_fuzz_ocsphttp_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ocsphttp_LDADD = $(NTM_LIBS)
endif
