# as/local.mk -- build rules for as/.
#
# as/libas.la holds every AS file except main (ntm-as.c), so the unit tests
# link exactly the objects the daemon runs.  The daemon's rule links
# as/libas.la $(NTM_LIBS) $(ARGON2_LIBS).
noinst_LTLIBRARIES += as/libas.la
as_libas_la_SOURCES = as/account.c as/account.h as/signer.c as/signer.h \
	as/outbox.c as/outbox.h
as_libas_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/as
as_libas_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) $(ARGON2_CFLAGS)
as_libas_la_LIBADD = $(ARGON2_LIBS)

AS_TEST_CFLAGS = $(TEST_CFLAGS) $(ARGON2_CFLAGS)
AS_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/as
AS_TEST_LIBS = as/libas.la $(TEST_LIBS) $(ARGON2_LIBS)

check_PROGRAMS += tests/unit/test_account
TESTS += tests/unit/test_account
tests_unit_test_account_SOURCES = tests/unit/test_account.c
tests_unit_test_account_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_account_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_account_LDADD = $(AS_TEST_LIBS)

check_PROGRAMS += tests/unit/test_signer
TESTS += tests/unit/test_signer
tests_unit_test_signer_SOURCES = tests/unit/test_signer.c
tests_unit_test_signer_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_signer_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_signer_LDADD = $(AS_TEST_LIBS)

check_PROGRAMS += tests/unit/test_outbox
TESTS += tests/unit/test_outbox
tests_unit_test_outbox_SOURCES = tests/unit/test_outbox.c
tests_unit_test_outbox_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_outbox_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_outbox_LDADD = $(AS_TEST_LIBS)
