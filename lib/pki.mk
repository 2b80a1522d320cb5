# lib/pki.mk -- pki part of libntm: certificates, OCSP responses, CRLs.
lib_libntm_la_SOURCES += lib/cert.c lib/cert.h

check_PROGRAMS += tests/unit/test_cert
TESTS += tests/unit/test_cert
tests_unit_test_cert_SOURCES = tests/unit/test_cert.c
tests_unit_test_cert_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cert_LDADD = $(TEST_LIBS)
