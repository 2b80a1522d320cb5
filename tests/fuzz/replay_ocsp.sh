#!/bin/sh
# replay_ocsp.sh -- replays the fuzz_ocsp corpus: OCSP responses through ocsp_verify (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_ocsp" ocsp "${top_srcdir:-.}/tests/fuzz/corpus/ocsp"
