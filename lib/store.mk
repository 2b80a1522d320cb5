# lib/store.mk -- store part of libntm (sources, unit tests, fuzz targets).
lib_libntm_la_SOURCES += lib/db.c lib/db.h

check_PROGRAMS += tests/unit/test_db
TESTS += tests/unit/test_db
tests_unit_test_db_SOURCES = tests/unit/test_db.c
tests_unit_test_db_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_db_LDADD = $(TEST_LIBS)
