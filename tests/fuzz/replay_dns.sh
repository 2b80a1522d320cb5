#!/bin/sh
# replay_dns.sh -- replays the fuzz_dns corpus through the DC's query handler (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_dns" dns "${top_srcdir:-.}/tests/fuzz/corpus/dns"
