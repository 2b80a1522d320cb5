# bench/system.mk -- whole-system benchmarks (AS notices, tunnel setup, throughput, NSS).
# Shell scripts run by hand in the lab (as root), never by make check;
# doc/BENCH.md "Whole system" says how and what they measured.
dist_noinst_SCRIPTS = bench/bench_setup.sh bench/bench_notice.sh \
	bench/bench_tput.sh bench/bench_nss.sh
dist_noinst_DATA += bench/benchlab.sh

# bench_nss.sh's timer: getaddrinfo / getnameinfo as a program calls them.
noinst_PROGRAMS += bench/bench_lookup
bench_bench_lookup_SOURCES = bench/bench_lookup.c
