# lib/state.mk -- state part of libntm: replay window, fragment reassembly,
# config loading and libuv glue, with their unit and golden tests.
lib_libntm_la_SOURCES += lib/replay.c lib/replay.h

check_PROGRAMS += tests/unit/test_replay
TESTS += tests/unit/test_replay
tests_unit_test_replay_SOURCES = tests/unit/test_replay.c
tests_unit_test_replay_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_replay_LDADD = $(TEST_LIBS)

lib_libntm_la_SOURCES += lib/frag.c lib/frag.h

check_PROGRAMS += tests/unit/test_frag
TESTS += tests/unit/test_frag
tests_unit_test_frag_SOURCES = tests/unit/test_frag.c
tests_unit_test_frag_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_frag_LDADD = $(TEST_LIBS)

lib_libntm_la_SOURCES += lib/loop.c lib/loop.h lib/statsock.c lib/statsock.h

check_PROGRAMS += tests/unit/test_loop
TESTS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c
tests_unit_test_loop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_loop_LDADD = $(TEST_LIBS)

lib_libntm_la_SOURCES += lib/config.c lib/config_table.h

check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c \
	tests/config/testtable.c tests/config/testtable.h
tests_unit_test_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/config
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(TEST_LIBS)

# Golden config tests: tests/config/N.conf -> N.out through conftest.
check_PROGRAMS += tests/config/conftest
tests_config_conftest_SOURCES = tests/config/conftest.c \
	tests/config/testtable.c tests/config/testtable.h
tests_config_conftest_LDADD = $(NTM_LIBS)
TESTS += tests/config/golden.sh
dist_check_SCRIPTS += tests/config/golden.sh
EXTRA_DIST += \
	tests/config/defaults.conf tests/config/defaults.out \
	tests/config/empty.conf tests/config/empty.out \
	tests/config/errors.conf tests/config/errors.out \
	tests/config/missing.conf tests/config/missing.out \
	tests/config/ranges.conf tests/config/ranges.out \
	tests/config/ranges2.conf tests/config/ranges2.out \
	tests/config/syntax.conf tests/config/syntax.out \
	tests/config/valid.conf tests/config/valid.out

# TLS 1.3 server channels on libuv (DESIGN.md 3, PROTOCOL.md 12).
lib_libntm_la_SOURCES += lib/tls.c lib/tls.h lib/tls_creds.c lib/tls_local.h

check_PROGRAMS += tests/unit/test_tls
TESTS += tests/unit/test_tls
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c
tests_unit_test_tls_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tls_LDADD = $(TEST_LIBS)
