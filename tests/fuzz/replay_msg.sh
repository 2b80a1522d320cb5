#!/bin/sh
# replay_msg.sh -- replays the fuzz_msg corpus through the codec (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_msg" msg "${top_srcdir:-.}/tests/fuzz/corpus/msg"
