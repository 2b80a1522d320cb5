# lib/local.mk -- libntm, the convenience library every daemon links.
# Concerns add their sources with lib_libntm_la_SOURCES += in their own .mk.
noinst_LTLIBRARIES += lib/libntm.la
lib_libntm_la_SOURCES = lib/log.c lib/log.h lib/buf.c lib/buf.h lib/proto.h
lib_libntm_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
lib_libntm_la_LIBADD = $(GNUTLS_LIBS) $(NETTLE_LIBS) $(TASN1_LIBS) \
	$(LDNS_LIBS) $(SQLITE_LIBS) $(UV_LIBS) $(INIH_LIBS)

check_PROGRAMS += tests/unit/test_buf
TESTS += tests/unit/test_buf
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_buf_LDADD = $(TEST_LIBS)
