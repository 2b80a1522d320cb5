#!/bin/sh
# replay_frag.sh -- replays the fuzz_frag corpus: fragment operation streams through the reassembly table (TAP, make check).
exec "${top_builddir:-.}/tests/fuzz/replay_frag" frag "${top_srcdir:-.}/tests/fuzz/corpus/frag"
