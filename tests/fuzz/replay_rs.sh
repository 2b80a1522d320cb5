#!/bin/sh
# replay_rs.sh -- replays the fuzz_rs corpus through the RS core (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_rs" rs "${top_srcdir:-.}/tests/fuzz/corpus/rs"
