# as/daemon.mk -- the ntm-as daemon: enrollment, status, notices.
as_libas_la_SOURCES += as/enroll.c as/enroll.h as/status.c as/status.h

check_PROGRAMS += tests/unit/test_enroll
TESTS += tests/unit/test_enroll
tests_unit_test_enroll_SOURCES = tests/unit/test_enroll.c
tests_unit_test_enroll_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_enroll_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_enroll_LDADD = $(AS_TEST_LIBS)
