#!/bin/sh
# replay_signal.sh -- replays the fuzz_signal corpus through the DC's signalling core (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_signal" signal "${top_srcdir:-.}/tests/fuzz/corpus/signal"
