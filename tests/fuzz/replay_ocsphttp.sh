#!/bin/sh
# replay_ocsphttp.sh -- replays the fuzz_ocsphttp corpus through the DC's OCSP-over-HTTP parser (dc/ocsphttp) (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_ocsphttp" ocsphttp "${top_srcdir:-.}/tests/fuzz/corpus/ocsphttp"
