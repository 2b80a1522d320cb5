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
