# tools/local.mk -- build rules for tools/: ntmctl (one file per noun).
bin_PROGRAMS += tools/ntmctl
tools_ntmctl_SOURCES = tools/ntmctl.c tools/ntmctl.h tools/ntmctl_ca.c
tools_ntmctl_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
tools_ntmctl_LDADD = $(NTM_LIBS)

# End to end: ntmctl ca checked by openssl and certtool (no root needed).
TESTS += tests/integration/pki.sh
dist_check_SCRIPTS += tests/integration/pki.sh

dist_man_MANS += doc/ntmctl.8
tools_ntmctl_SOURCES += tools/ntmctl_node.c
tools_ntmctl_SOURCES += tools/ntmctl_account.c
tools_ntmctl_SOURCES += tools/ntmctl_as.c
tools_ntmctl_SOURCES += tools/ntmctl_stats.c

# ntmctl's exit codes and error lines on bad input (no daemon, no root).
TESTS += tests/integration/ntmctl-cli.sh
dist_check_SCRIPTS += tests/integration/ntmctl-cli.sh
