# dc/local.mk -- ntm-dc: the Direction Coordinator.  Its non-main files form
# dc/libdc.la, which the daemon and the tests link.
noinst_LTLIBRARIES += dc/libdc.la
dc_libdc_la_SOURCES = dc/dc.h dc/config.c dc/notice.c dc/notice.h \
	dc/ocsphttp.c dc/ocsphttp.h dc/federation.c dc/federation.h \
	dc/dns.c dc/dns.h dc/zone.c dc/zone.h dc/rrl.c dc/rrl.h \
	dc/xfr.c dc/xfr.h dc/dnsnet.c dc/dnsnet.h dc/control.c \
	dc/policy.c dc/policy.h
dc_libdc_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
dc_libdc_la_LIBADD = lib/libntm.la $(LDNS_LIBS) $(SQLITE_LIBS) $(UV_LIBS) \
	$(INIH_LIBS)

DC_LIBS = dc/libdc.la $(NTM_LIBS)

sbin_PROGRAMS += dc/ntm-dc
dc_ntm_dc_SOURCES = dc/dc.c
dc_ntm_dc_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
dc_ntm_dc_LDADD = $(DC_LIBS)

check_PROGRAMS += tests/unit/test_dns tests/unit/test_zone
TESTS += tests/unit/test_dns tests/unit/test_zone
tests_unit_test_dns_SOURCES = tests/unit/test_dns.c
tests_unit_test_dns_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_dns_LDADD = dc/libdc.la $(TEST_LIBS)
tests_unit_test_zone_SOURCES = tests/unit/test_zone.c
tests_unit_test_zone_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_zone_LDADD = dc/libdc.la $(TEST_LIBS)

# Integration tests (loopback, no root): dig/kdig and NSD against ntm-dc.
TESTS += tests/integration/dc-dns.sh tests/integration/dc-xfr.sh
dist_check_SCRIPTS += tests/integration/dc-dns.sh tests/integration/dc-xfr.sh

# The query handler's fuzz target; its seed corpus is replayed by make check.
check_PROGRAMS += tests/fuzz/replay_dns
tests_fuzz_replay_dns_SOURCES = tests/fuzz/fuzz_dns.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_dns_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) -I$(top_srcdir)/dc
tests_fuzz_replay_dns_LDADD = $(DC_LIBS)
TESTS += tests/fuzz/replay_dns.sh
dist_check_SCRIPTS += tests/fuzz/replay_dns.sh
EXTRA_DIST += tests/fuzz/corpus/dns

# The DC's DNS code is compiled into the target so libFuzzer instruments it.
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_dns
tests_fuzz_fuzz_dns_SOURCES = tests/fuzz/fuzz_dns.c dc/dns.c dc/zone.c \
	dc/rrl.c dc/xfr.c lib/buf.c
tests_fuzz_fuzz_dns_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -fsanitize=fuzzer
tests_fuzz_fuzz_dns_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_dns_LDADD = $(NTM_LIBS)
endif

dist_man_MANS += doc/ntm-dc.8 doc/ntm-dc.conf.5

# Node signalling in the daemon: a test node that registers with a ticket
# sealed under the DC's ticket key, and the loopback test around it.
check_PROGRAMS += tests/dc/regclient
tests_dc_regclient_SOURCES = tests/dc/regclient.c
tests_dc_regclient_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -I$(top_srcdir)/node
tests_dc_regclient_LDADD = node/libnode.la dc/libdc.la $(LIBMNL_LIBS) \
	$(NTM_LIBS)
TESTS += tests/integration/dc-signal.sh
dist_check_SCRIPTS += tests/integration/dc-signal.sh

# AS -> DC notices (dc/notice): the core against a real database and
# AS-signed statuses.
check_PROGRAMS += tests/unit/test_notice
TESTS += tests/unit/test_notice
tests_unit_test_notice_SOURCES = tests/unit/test_notice.c
tests_unit_test_notice_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_notice_LDADD = dc/libdc.la $(TEST_LIBS)
TESTS += tests/integration/dc-notice.sh
dist_check_SCRIPTS += tests/integration/dc-notice.sh

# DC <-> DC: NS lookups of a peer zone (against a DNS server played on
# loopback) and peer authorization by certificate.
check_PROGRAMS += tests/unit/test_federation
TESTS += tests/unit/test_federation
tests_unit_test_federation_SOURCES = tests/unit/test_federation.c
tests_unit_test_federation_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_federation_LDADD = dc/libdc.la $(TEST_LIBS)

# DC <-> DC on 4611: a test DC_MN asking ntm-dc (DC_CN) for a node.
check_PROGRAMS += tests/dc/fedclient
tests_dc_fedclient_SOURCES = tests/dc/fedclient.c
tests_dc_fedclient_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) -I$(top_srcdir)
tests_dc_fedclient_LDADD = $(DC_LIBS)
TESTS += tests/integration/dc-fed.sh
dist_check_SCRIPTS += tests/integration/dc-fed.sh

# The stats socket's answer (lib/statsock) and ntm-dc's counter names.
check_PROGRAMS += tests/unit/test_statsock
TESTS += tests/unit/test_statsock
tests_unit_test_statsock_SOURCES = tests/unit/test_statsock.c
tests_unit_test_statsock_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc $(NTM_DEP_CFLAGS)
tests_unit_test_statsock_LDADD = dc/libdc.la $(TEST_LIBS)

# The direction policy's rules ([policy] in ntm-dc.conf).
check_PROGRAMS += tests/unit/test_policy
TESTS += tests/unit/test_policy
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_policy_LDADD = dc/libdc.la $(TEST_LIBS)
