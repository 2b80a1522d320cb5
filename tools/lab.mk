# tools/lab.mk -- the test lab (tools/ntm-lab).
