# dc/local.mk -- ntm-dc: the Direction Coordinator.  Its non-main files form
# dc/libdc.la, which the daemon and the tests link.
noinst_LTLIBRARIES += dc/libdc.la
dc_libdc_la_SOURCES = dc/dc.h dc/config.c \
	dc/dns.c dc/dns.h dc/zone.c dc/zone.h dc/rrl.c dc/rrl.h \
	dc/xfr.c dc/xfr.h dc/dnsnet.c dc/dnsnet.h
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
TESTS += tests/integration/dc-dns.sh
dist_check_SCRIPTS += tests/integration/dc-dns.sh
