#!/bin/sh
# replay_notice.sh -- replays the fuzz_notice corpus through the DC's handler of AS frames (dc/notice) (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_notice" notice "${top_srcdir:-.}/tests/fuzz/corpus/notice"
