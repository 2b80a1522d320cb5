# node/gro.mk -- receive coalescing (node/tso.c tso_gro_*): its unit tests.
check_PROGRAMS += tests/unit/test_gro
TESTS += tests/unit/test_gro
tests_unit_test_gro_SOURCES = tests/unit/test_gro.c
tests_unit_test_gro_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/node
tests_unit_test_gro_LDADD = node/libnode.la $(LIBMNL_LIBS) $(TEST_LIBS)
