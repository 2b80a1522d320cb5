# plugins/kex.mk -- key-exchange schemes (plugins/libkex.la, linked by ntmd)
# and the tunnel handshake they plug into (lib/handshake, part of libntm).

lib_libntm_la_SOURCES += lib/handshake.c lib/handshake.h

# Link it before $(NTM_LIBS): the schemes call libntm (handshake, crypto).
noinst_LTLIBRARIES += plugins/libkex.la
plugins_libkex_la_SOURCES = plugins/kex.c plugins/kex.h plugins/kex_shared.c \
	plugins/kex_rsa.c plugins/kex_ecdhe.c
plugins_libkex_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)

check_PROGRAMS += tests/unit/test_kex tests/unit/test_handshake
TESTS += tests/unit/test_kex tests/unit/test_handshake

tests_unit_test_kex_SOURCES = tests/unit/test_kex.c
tests_unit_test_kex_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins
tests_unit_test_kex_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_kex_LDADD = plugins/libkex.la $(TEST_LIBS)

tests_unit_test_handshake_SOURCES = tests/unit/test_handshake.c
tests_unit_test_handshake_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_handshake_LDADD = $(TEST_LIBS)

dist_doc_DATA += doc/KEX.md
