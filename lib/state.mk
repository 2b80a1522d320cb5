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

lib_libntm_la_SOURCES += lib/loop.c lib/loop.h

check_PROGRAMS += tests/unit/test_loop
TESTS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c
tests_unit_test_loop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_loop_LDADD = $(TEST_LIBS)
