# bench/servers.mk -- benchmarks of the AS and the DC.
# Built by make, never run by make check (bench/README.md says how to run).
noinst_PROGRAMS += bench/bench_pki
bench_bench_pki_SOURCES = bench/bench_pki.c
bench_bench_pki_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
bench_bench_pki_LDADD = $(NTM_LIBS)

EXTRA_DIST += bench/bench_dns.sh bench/README.md doc/BENCH.md
