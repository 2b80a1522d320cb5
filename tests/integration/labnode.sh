# labnode.sh -- helpers for lab tests that change a node's ntmd and restart it
# (sourced after tests/tap.sh, with L (lab name), S (/run/ntm-lab/$L),
# LABCMD, NTMCTL and NTMD set).
#
# A node's ntmd is stopped by the PID the lab records in
# $S/HOST/ntmd.pid and started again, in the node's namespace, with
# $S/HOST/ntmd.conf; the new PID is recorded the lab's way ("PID
# STARTTIME"), so ntm-lab status and down still find it.  Its log goes on
# in $S/HOST/ntmd.log; log_mark / log_since look at the lines written after
# a point.

lab() {
	"$LABCMD" "$@"
}

ctl() {
	_n=$1
	shift
	"$NTMCTL" "$@" -s "$S/$_n/ntmd.sock"
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

_node_gone() {
	! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"
}

# node_stop NODE: SIGTERM to its ntmd, then waits until it is gone.
node_stop() {
	_pid=$(cut -d' ' -f1 "$S/$1/ntmd.pid")
	kill "$_pid" 2>/dev/null
	wait_for 10 _node_gone "$_pid"
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

dump() {
	for h in "$@"; do
		for f in "$S/$h"/*.log; do
			[ -f "$f" ] && tail -n 25 "$f" | sed "s|^|# $h/${f##*/}: |"
		done
	done
}
