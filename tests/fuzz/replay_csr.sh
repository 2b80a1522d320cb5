#!/bin/sh
# replay_csr.sh -- replays the fuzz_csr corpus: PKCS#10 requests through the AS's CSR check (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_csr" csr "${top_srcdir:-.}/tests/fuzz/corpus/csr"
