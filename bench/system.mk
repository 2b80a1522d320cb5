# bench/system.mk -- whole-system benchmarks (AS notices, tunnel setup, throughput).
