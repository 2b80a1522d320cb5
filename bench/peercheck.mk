# bench/peercheck.mk -- bench_peercheck: a tunnel peer's check (node/peercheck)
# cold, after the Route Direction and cached, against one ECDSA verification.
noinst_PROGRAMS += bench/bench_peercheck
bench_bench_peercheck_SOURCES = bench/bench_peercheck.c
bench_bench_peercheck_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/node \
	-I$(top_srcdir)/plugins
bench_bench_peercheck_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
bench_bench_peercheck_LDADD = $(TUNNEL_LIBS) $(NTM_LIBS)
