#!/bin/sh
# replay_cert.sh -- replays the fuzz_cert corpus: peer certificates through the cached AS-anchor check and GnuTLS, which must agree (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_cert" cert "${top_srcdir:-.}/tests/fuzz/corpus/cert"
