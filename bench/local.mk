# bench/local.mk -- build rules for bench/: benchmarks, built by make but
# never run by make check; each prints ratios against a baseline measured
# in the same run.
noinst_PROGRAMS += bench/bench_dataplane
bench_bench_dataplane_SOURCES = bench/bench_dataplane.c
bench_bench_dataplane_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/node
bench_bench_dataplane_LDADD = $(NODE_LIBS)
