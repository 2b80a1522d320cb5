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
