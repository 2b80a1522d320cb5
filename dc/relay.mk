# dc/relay.mk -- the DC's relay client: RELAY_DIRECTION to ntm-rs (DESIGN 4, PROTOCOL 6.5).

dc_libdc_la_SOURCES += dc/relay.c dc/relay.h

# A scripted node (register, then ask or be directed) and the test of the
# whole relay flow in namespaces: two nodes behind two NATs, ntm-dc, ntm-rs.
check_PROGRAMS += tests/dc/dirclient
tests_dc_dirclient_SOURCES = tests/dc/dirclient.c
tests_dc_dirclient_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc -I$(top_srcdir)/node
tests_dc_dirclient_LDADD = node/libnode.la dc/libdc.la $(LIBMNL_LIBS) \
	$(NTM_LIBS)
TESTS += tests/integration/dc-relay.sh
dist_check_SCRIPTS += tests/integration/dc-relay.sh
