# as/daemon.mk -- the ntm-as daemon: enrollment, status, notices.
as_libas_la_SOURCES += as/enroll.c as/enroll.h as/status.c as/status.h \
	as/notice.c as/notice.h as/config.c as/control.c as/as.h

sbin_PROGRAMS += as/ntm-as
dist_man_MANS += doc/ntm-as.8 doc/ntm-as.conf.5
as_ntm_as_SOURCES = as/as.c
as_ntm_as_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/as
as_ntm_as_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) $(ARGON2_CFLAGS)
as_ntm_as_LDADD = as/libas.la $(NTM_LIBS) $(ARGON2_LIBS)

check_PROGRAMS += tests/unit/test_enroll
TESTS += tests/unit/test_enroll
tests_unit_test_enroll_SOURCES = tests/unit/test_enroll.c
tests_unit_test_enroll_CPPFLAGS = $(AS_TEST_CPPFLAGS)
tests_unit_test_enroll_CFLAGS = $(AS_TEST_CFLAGS)
tests_unit_test_enroll_LDADD = $(AS_TEST_LIBS)

# Test tools (not installed): a stand-in DC receiving notices, and the
# node side of the AS channel.
check_PROGRAMS += tests/as/dcrecv tests/as/asnode
tests_as_dcrecv_SOURCES = tests/as/dcrecv.c
tests_as_dcrecv_CFLAGS = $(TEST_CFLAGS)
tests_as_dcrecv_LDADD = $(NTM_LIBS)
tests_as_asnode_SOURCES = tests/as/asnode.c
tests_as_asnode_CFLAGS = $(TEST_CFLAGS)
tests_as_asnode_LDADD = $(NTM_LIBS)

# End to end on loopback (no root needed).
TESTS += tests/integration/as.sh
dist_check_SCRIPTS += tests/integration/as.sh
TESTS += tests/integration/as-notice.sh
dist_check_SCRIPTS += tests/integration/as-notice.sh
