#!/usr/bin/env bash
# e2e_eager: a handoff does not wait out the commit interval.
#
# commit_interval_ms is 30 s here and the stream is far shorter than
# commit_max_records, so neither of the two usual triggers fires during the
# test. Only the eager commit can make a handoff visible: a transaction
# that holds a command for stage 2 or a handoff commits as soon as the
# input is drained. Both hops (stage 1's command, then stage 2's handoff)
# need it. Every handoff simulate expects must be read, read_committed,
# within 20 s of producing the events; then the group's committed offsets
# must cover the whole input (the eager commit also commits what it read).
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init eager

cfg=$WORK/e2e.json
e2e_config "$cfg" 0 5000
# e2e.json's 10 s transaction timeout allows no 30 s interval: raise both.
sed -i -e 's|"transaction.timeout.ms": 10000|"transaction.timeout.ms": 60000|' \
	-e 's|"commit_interval_ms": 5000|"commit_interval_ms": 30000|' "$cfg"
"$LEADROUTER" --check-config -c "$cfg" >/dev/null || fail "the 30 s interval config does not validate"
e2e_topics 1
"$HERE/gen_stream.sh" -l 12 -s 5 >"$WORK/in.jsonl"
e2e_simulate "$cfg" "$WORK/in.jsonl" "$WORK/expected.jsonl"
nexp=$(wc -l <"$WORK/expected.jsonl")
nin=$(wc -l <"$WORK/in.jsonl")
[ "$nexp" -ge 3 ] || fail "simulate gave only $nexp handoffs: the generator and e2e.json disagree"
[ "$nin" -lt 200 ] || fail "$nin events reach commit_max_records (200): the test proves nothing"
note "$nin events, simulate expects $nexp handoffs"

e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_log "$pid" "$WORK/daemon.log" 30 'pipeline: ready'

t0=$(date +%s%N)
e2e_produce "$WORK/in.jsonl"
"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$HANDOFF_RE" --max "$nexp" \
	--timeout 20000 >"$WORK/out.tsv" 2>"$WORK/out.err" ||
	fail "$(wc -l <"$WORK/out.tsv") of $nexp handoffs visible within 20 s (commit interval 30 s): no eager commit"
ms=$((($(date +%s%N) - t0) / 1000000))
e2e_alive "$pid"
cut -f4 "$WORK/out.tsv" >"$WORK/out.jsonl"
handoff_keys "$WORK/expected.jsonl" "$WORK/expected.keys"
handoff_keys "$WORK/out.jsonl" "$WORK/out.keys"
diff "$WORK/expected.keys" "$WORK/out.keys" >&2 || fail "handoffs differ from simulate"
lag=$(e2e_lag)
[ "$lag" = 0 ] || fail "committed offsets lag the input by $lag after the handoffs"

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: $nexp handoffs visible ${ms} ms after the events were produced (interval 30 s)"
