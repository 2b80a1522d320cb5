# benchlab.sh -- what the lab benchmarks share: checks, names and the removal of their lab (sourced, not run).
#
# bench_lab_init TAG BUILDDIR [FILE...]
#   Needs root and each FILE built under BUILDDIR (default: as/ntm-as,
#   dc/ntm-dc, node/ntmd, tools/ntmctl); exits 2 with a one-line reason
#   otherwise.  Sets srcdir, builddir (absolute), LABCMD, NTMCTL, L (the lab:
#   TAG and the script's pid), S (its state directory), T (a temporary
#   directory) and NTM_BUILDDIR (exported: ntm-lab takes the daemons from
#   there).  On exit it calls bench_atexit when the script defines one, then
#   takes the lab down and removes T; an interrupt ends the script.
# wait_for SECONDS CMD...
#   Runs CMD every 20 ms until it succeeds (0) or SECONDS pass (1).

bench_lab_init() {
	bl_tag=$1
	builddir=$(cd "$2" && pwd) || exit 2
	shift 2
	srcdir=$(cd "$(dirname "$0")/.." && pwd)
	[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
	[ $# -gt 0 ] || set -- as/ntm-as dc/ntm-dc node/ntmd tools/ntmctl
	for bl_f in "$@"; do
		[ -e "$builddir/$bl_f" ] ||
		    { echo "$0: $builddir/$bl_f is not built" >&2; exit 2; }
	done
	LABCMD=$srcdir/tools/ntm-lab
	NTMCTL=$builddir/tools/ntmctl
	L=$bl_tag$$
	S=/run/ntm-lab/$L
	T=$(mktemp -d "/tmp/ntm-bench-$bl_tag.XXXXXX") || exit 1
	NTM_BUILDDIR=$builddir
	export NTM_BUILDDIR
	trap bench_lab_cleanup EXIT
	trap 'exit 1' INT TERM
}

bench_lab_cleanup() {
	if command -v bench_atexit >/dev/null 2>&1; then
		bench_atexit
	fi
	"$LABCMD" down --name "$L" >/dev/null 2>&1
	rm -rf "$T"
}

wait_for() {
	w_end=$(( $(date +%s) + $1 ))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.02
	done
}
