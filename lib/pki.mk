# lib/pki.mk -- pki part of libntm: certificates, OCSP responses, CRLs.
lib_libntm_la_SOURCES += lib/cert.c lib/cert.h lib/ocsp.c lib/ocsp.h \
	lib/crl.c lib/crl.h

# The OCSP ASN.1 module is compiled into libtasn1 tables in the build tree.
nodist_lib_libntm_la_SOURCES = lib/ocsp_asn1_tab.c
BUILT_SOURCES += lib/ocsp_asn1_tab.c
CLEANFILES += lib/ocsp_asn1_tab.c lib/ocsp_asn1_tab.log
EXTRA_DIST += lib/ocsp.asn
# asn1Parser says "Done." on success; show its output only on failure.
lib/ocsp_asn1_tab.c: $(srcdir)/lib/ocsp.asn
	$(AM_V_GEN)$(MKDIR_P) lib && \
	$(ASN1PARSER) -o $@ -n ocsp_asn1_tab $(srcdir)/lib/ocsp.asn \
	    >lib/ocsp_asn1_tab.log 2>&1 || { cat lib/ocsp_asn1_tab.log; \
	    rm -f $@; exit 1; }

check_PROGRAMS += tests/unit/test_cert tests/unit/test_ocsp
TESTS += tests/unit/test_cert tests/unit/test_ocsp

tests_unit_test_cert_SOURCES = tests/unit/test_cert.c tests/testca.h
tests_unit_test_cert_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cert_LDADD = $(TEST_LIBS)

tests_unit_test_ocsp_SOURCES = tests/unit/test_ocsp.c tests/testca.h
tests_unit_test_ocsp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ocsp_LDADD = $(TEST_LIBS)

dist_doc_DATA += doc/PKI.md
