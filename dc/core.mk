# dc/core.mk -- DC registry, signalling core and route decision.

# The DC ticket is shared by the AS (sealing) and the DC (opening).
lib_libntm_la_SOURCES += lib/ticket.c lib/ticket.h

dc_libdc_la_SOURCES += dc/route.c dc/route.h dc/registry.c dc/registry.h \
	dc/signal.c dc/signal.h dc/sigio.c dc/sigio.h

check_PROGRAMS += tests/unit/test_ticket tests/unit/test_route \
	tests/unit/test_registry tests/unit/test_signal
TESTS += tests/unit/test_ticket tests/unit/test_route \
	tests/unit/test_registry tests/unit/test_signal

tests_unit_test_ticket_SOURCES = tests/unit/test_ticket.c
tests_unit_test_ticket_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ticket_LDADD = $(TEST_LIBS)

tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_route_LDADD = dc/libdc.la $(TEST_LIBS)

tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_registry_LDADD = dc/libdc.la $(TEST_LIBS)

tests_unit_test_signal_SOURCES = tests/unit/test_signal.c
tests_unit_test_signal_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dc
tests_unit_test_signal_LDADD = dc/libdc.la $(TEST_LIBS)

# The signalling input path's fuzz target; its corpus is replayed by make check.
check_PROGRAMS += tests/fuzz/replay_signal
tests_fuzz_replay_signal_SOURCES = tests/fuzz/fuzz_signal.c $(FUZZ_REPLAY_SRC)
tests_fuzz_replay_signal_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc
tests_fuzz_replay_signal_LDADD = $(DC_LIBS)
TESTS += tests/fuzz/replay_signal.sh
dist_check_SCRIPTS += tests/fuzz/replay_signal.sh
EXTRA_DIST += tests/fuzz/corpus/signal

if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_signal
tests_fuzz_fuzz_signal_SOURCES = tests/fuzz/fuzz_signal.c dc/signal.c \
	dc/registry.c dc/route.c lib/ticket.c lib/msg.c lib/buf.c
tests_fuzz_fuzz_signal_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -fsanitize=fuzzer
tests_fuzz_fuzz_signal_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_signal_LDADD = $(NTM_LIBS)
endif
