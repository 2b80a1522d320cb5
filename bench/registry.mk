# bench/registry.mk -- the registry scale benchmark (1 M simulated nodes).
# Built by make, never run by make check (bench/README.md says how to run).
noinst_PROGRAMS += bench/bench_registry
bench_bench_registry_SOURCES = bench/bench_registry.c
bench_bench_registry_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) \
	-I$(top_srcdir)/dc
bench_bench_registry_LDADD = $(DC_LIBS)
