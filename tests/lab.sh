# lab.sh -- sourced after tap.sh by the tests that run a lab (tools/ntm-lab):
# the bring-up they share, and helpers around a lab node's ntmd.
#
# lab_begin TAG [CMD...]     skip all unless root, the commands the lab needs
#                            (ip nsd unbound python3 setsid) and each CMD are
#                            there and ntm-as, ntm-dc, ntmd and ntmctl are
#                            built; set LABCMD NTMCTL NTMD, L (TAG and the
#                            pid), S (/run/ntm-lab/$L), T (a scratch dir);
#                            on exit run lab_atexit if the test defines it,
#                            take the lab down and remove T (unless KEEP is
#                            set: then both stay for a look)
# lab_up DESC [UP_ARGS...]   ntm-lab up UP_ARGS --name $L as one check DESC;
#                            on failure the logs, the plan, exit 1.  Its
#                            output stays in LAB_UP_OUT
# lab_need_registered NODE...  skip all unless each NODE's ntmd registered
# lab_down_checks            three checks to end with: no daemon log reports
#                            a sanitizer error, ntm-lab down exits 0 and
#                            leaves no namespace, /etc/netns entry or state
#                            dir behind
#
# A node's ntmd is stopped by the PID the lab records in $S/HOST/ntmd.pid
# and started again (node_start), in the node's namespace, with
# $S/HOST/ntmd.conf; the new PID is recorded the lab's way ("PID
# STARTTIME"), so ntm-lab status and down still find it.  Its log goes on
# in $S/HOST/ntmd.log; log_mark / log_since look at the lines written after
# a point.

lab_begin() {
	lab_tag=$1
	shift
	tap_need_root
	tap_need_cmd ip nsd unbound python3 setsid "$@"
	for b in as/ntm-as dc/ntm-dc node/ntmd tools/ntmctl; do
		[ -x "$top_builddir/$b" ] || tap_skip_all "$b is not built"
	done
	LABCMD=$top_srcdir/tools/ntm-lab
	NTMCTL=$top_builddir/tools/ntmctl
	NTMD=$top_builddir/node/ntmd
	L=$lab_tag$$
	S=/run/ntm-lab/$L
	NTM_BUILDDIR=$top_builddir
	export NTM_BUILDDIR
	T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-$L.XXXXXX") || exit 1
	trap lab_cleanup EXIT
	# An interrupt ends the test (through the EXIT trap), not only the lab.
	trap 'exit 1' INT TERM
}

lab_cleanup() {
	if command -v lab_atexit >/dev/null 2>&1; then
		lab_atexit
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "# KEEP: lab $L and $T left in place" >&2
		return
	fi
	"$LABCMD" down --name "$L" >/dev/null 2>&1
	rm -rf "$T"
}

lab_up() {
	_desc=$1
	shift
	if LAB_UP_OUT=$(lab up "$@" --name "$L" 2>&1); then
		ok "$_desc"
		return 0
	fi
	not_ok "$_desc" "$LAB_UP_OUT"
	dump $(cd "$S" 2>/dev/null && ls)
	tap_done
	exit 1
}

lab_need_registered() {
	for _n in "$@"; do
		registered "$_n" ||
		    tap_skip_all "$_n: ntmd is not registered in this lab"
	done
}

lab_down_checks() {
	# Sanitizer builds (--enable-sanitizers) report into the daemons' logs.
	check_eq "no daemon log reports a sanitizer error" "" \
	    "$(grep -l -e 'runtime error:' -e 'ERROR: AddressSanitizer' \
	    -e 'ERROR: LeakSanitizer' "$S"/*/*.log 2>/dev/null)"
	check "down --name $L exits 0" lab down --name "$L"
	check_eq "down leaves no namespace, /etc/netns entry or state dir" "" \
	    "$(ls -d /run/netns/ntm-"$L"-* /etc/netns/ntm-"$L"-* "$S" 2>/dev/null)"
}

lab() {
	"$LABCMD" "$@"
}

# ctl NODE ARGS...: ntmctl against NODE's ntmd (its control socket); a
# wedged ntmd must not hang the test.
ctl() {
	_n=$1
	shift
	timeout 10 "$NTMCTL" "$@" -s "$S/$_n/ntmd.sock"
}

# nstat NODE KEY: one value of ntmctl status --json.
nstat() {
	ctl "$1" status --json 2>/dev/null |
	    python3 -c "import json, sys; print(json.load(sys.stdin).get('$2', ''))" 2>/dev/null
}

# ntunnels NODE: how many tunnels ntmctl tunnels --json lists.
ntunnels() {
	ctl "$1" tunnels --json 2>/dev/null |
	    python3 -c "import json, sys; print(len(json.load(sys.stdin)))" 2>/dev/null
}

registered() {
	test "$(nstat "$1" registration)" = registered
}

no_tunnel() {
	test "$(ntunnels "$1")" = 0
}

# pid_gone PID: no such process, or only a zombie left of it.
pid_gone() {
	! kill -0 "$1" 2>/dev/null ||
	    grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# node_stop NODE: SIGTERM to its ntmd, then waits until it is gone.
node_stop() {
	_pid=$(cut -d' ' -f1 "$S/$1/ntmd.pid")
	kill "$_pid" 2>/dev/null
	wait_for 10 pid_gone "$_pid"
}

# node_start NODE: ntmd -d -f $S/NODE/ntmd.conf in NODE's namespace; returns
# once it is registered with its DC.
node_start() {
	rm -f "$S/$1/ntmd.newpid"
	setsid "$LABCMD" exec --name "$L" "$1" -- sh -c \
	    'echo $$ >"$1"; exec "$2" -d -f "$3"' sh "$S/$1/ntmd.newpid" \
	    "$NTMD" "$S/$1/ntmd.conf" </dev/null >>"$S/$1/ntmd.log" 2>&1 &
	wait_for 5 test -s "$S/$1/ntmd.newpid" || return 1
	_pid=$(cat "$S/$1/ntmd.newpid")
	_st=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$_pid/stat") ||
	    return 1
	echo "$_pid $_st" >"$S/$1/ntmd.pid"
	wait_for 20 registered "$1"
}

# node_restart NODE: node_stop, then node_start.
node_restart() {
	node_stop "$1" && node_start "$1"
}

# node_set NODE SECTION KEY VALUE: sets (or adds) "KEY = VALUE" in SECTION
# of NODE's ntmd.conf; VALUE empty removes the key.
node_set() {
	python3 - "$S/$1/ntmd.conf" "$2" "$3" "$4" <<'EOF'
import sys
path, section, key, value = sys.argv[1:]
out, cur, done = [], None, False
for line in open(path).read().splitlines():
    s = line.strip()
    if s.startswith('['):
        if cur == section and not done and value:
            out.append(f'{key} = {value}')
            done = True
        cur = s[1:s.index(']')]
    elif cur == section and s.split('=')[0].strip() == key:
        if value and not done:
            out.append(f'{key} = {value}')
            done = True
        continue
    out.append(line)
if cur == section and not done and value:
    out.append(f'{key} = {value}')
    done = True
if not done and value:
    out += ['', f'[{section}]', f'{key} = {value}']
open(path, 'w').write('\n'.join(out) + '\n')
EOF
}

# log_mark NODE: remembers how long NODE's ntmd.log is now.
log_mark() {
	eval "_mark_$1=\$(wc -l <\"\$S/\$1/ntmd.log\")"
}

# log_since NODE: the lines NODE's ntmd logged since its log_mark.
log_since() {
	eval "_m=\${_mark_$1:-0}"
	tail -n "+$((_m + 1))" "$S/$1/ntmd.log"
}

# log_has NODE ERE: NODE logged a line matching ERE since its log_mark.
log_has() {
	log_since "$1" | grep -Eq "$2"
}

# not_logged NODE1 NODE2 ERE: neither node logged a line matching ERE since
# its log_mark.
not_logged() {
	! log_has "$1" "$3" && ! log_has "$2" "$3"
}

# dump HOST...: the end of each HOST's logs and of the test's own in $T, as
# TAP comments (after a failed check).
dump() {
	for _h in "$@"; do
		for _f in "$S/$_h"/*.log; do
			[ -f "$_f" ] && tail -n 25 "$_f" | sed "s|^|# $_h/${_f##*/}: |"
		done
	done
	for _f in "$T"/*.log; do
		[ -f "$_f" ] && tail -n 20 "$_f" | sed "s|^|# ${_f##*/}: |"
	done
	return 0
}
