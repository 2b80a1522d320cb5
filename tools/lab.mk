# tools/lab.mk -- the test lab (tools/ntm-lab): the script, its topologies
# (installed where the installed script looks: $(pkgdatadir)/lab, i.e.
# ../share/ntmobile/lab beside sbin), its man page and its integration test.
dist_sbin_SCRIPTS += tools/ntm-lab

labdatadir = $(pkgdatadir)/lab
dist_labdata_DATA = tools/lab/flat.topo

dist_man_MANS += doc/ntm-lab.8
dist_doc_DATA += doc/LAB.md

# Needs root (else a TAP skip); builds its own labs and removes them.
TESTS += tests/integration/lab.sh
dist_check_SCRIPTS += tests/integration/lab.sh

# The whole system in a lab (needs root, else a TAP skip; skipped too
# while ntm-as, ntm-dc, ntmd or ntmctl is not built).
TESTS += tests/integration/e2e.sh
dist_check_SCRIPTS += tests/integration/e2e.sh
