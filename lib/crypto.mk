# lib/crypto.mk -- crypto part of libntm (sources, unit tests, fuzz targets).
lib_libntm_la_SOURCES += lib/crypto.c lib/crypto.h lib/aead.c lib/aead.h \
	lib/x25519.c lib/x25519.h lib/rsakem.c lib/rsakem.h \
	lib/rand.c lib/rand.h
# rsakem.c does its own bignum arithmetic (mpz_powm_sec) on nettle's GMP
# numbers; hogweed links GMP but does not re-export it.
lib_libntm_la_LIBADD += $(GMP_LIBS)

check_PROGRAMS += tests/unit/test_crypto tests/unit/test_aead \
	tests/unit/test_x25519 tests/unit/test_rsakem tests/unit/test_rand
TESTS += tests/unit/test_crypto tests/unit/test_aead \
	tests/unit/test_x25519 tests/unit/test_rsakem tests/unit/test_rand

tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c
tests_unit_test_crypto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_crypto_LDADD = $(TEST_LIBS)

tests_unit_test_aead_SOURCES = tests/unit/test_aead.c
tests_unit_test_aead_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_aead_LDADD = $(TEST_LIBS)

tests_unit_test_x25519_SOURCES = tests/unit/test_x25519.c
tests_unit_test_x25519_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_x25519_LDADD = $(TEST_LIBS)

tests_unit_test_rsakem_SOURCES = tests/unit/test_rsakem.c
tests_unit_test_rsakem_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rsakem_LDADD = $(TEST_LIBS)

tests_unit_test_rand_SOURCES = tests/unit/test_rand.c
tests_unit_test_rand_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rand_LDADD = $(TEST_LIBS)
