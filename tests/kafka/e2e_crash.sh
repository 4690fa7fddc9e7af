#!/usr/bin/env bash
# e2e_crash: SIGKILL in the middle of a stream, restart: every expected
# handoff exactly once and the same final lead state as a clean run.
#
# About 4,600 events over 600 leads go to 6 partitions at 900 events/s
# while the daemon runs (commit every 50 ms or 200 records), so it is
# killed with transactions open and outputs in flight. It is SIGKILLed
# twice, at about a quarter and at about two thirds of the stream, and
# restarted each time with the same instance id. Asserted, reading
# read_committed: no handoff id twice; the handoffs are simulate's (lead,
# team, handoff id); the latest leads changelog record of every lead equals
# that of an uninterrupted run over the same input.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init crash

"$HERE/gen_stream.sh" -l 600 -s 41 >"$WORK/in.jsonl"
total=$(wc -l <"$WORK/in.jsonl")
e2e_config "$WORK/sim.json" sim 50
e2e_simulate "$WORK/sim.json" "$WORK/in.jsonl" "$WORK/expected.jsonl"
note "$total events, $(wc -l <"$WORK/expected.jsonl") handoffs expected"

e2e_clean_run clean "$WORK/in.jsonl" 6

e2e_config "$WORK/crash.json" 0 50
e2e_topics 6
e2e_start "$WORK/crash.json" "$WORK/daemon-crash.log"
pid=$DAEMON_PID
e2e_produce_paced "$WORK/in.jsonl" 900
for frac in 25 65; do
	e2e_wait_committed $((total * frac / 100)) 60 "$pid"
	kill -KILL "$pid"
	e2e_wait_exit "$pid" 10 || fail "SIGKILL did not end the daemon"
	note "SIGKILLed the daemon with $COMMITTED of $total events committed"
	[ "$COMMITTED" -lt "$total" ] || fail "the stream was over before the kill: nothing tested"
	e2e_start "$WORK/crash.json" "$WORK/daemon-crash.log"
	pid=$DAEMON_PID
done
e2e_wait_producer 60
e2e_wait_drained 180 "$pid"
e2e_collect crash

e2e_check_handoffs crash "$WORK/expected.jsonl"
e2e_compare_leads clean crash
echo "PASS: killed twice mid-stream; $(wc -l <"$WORK/crash.keys") handoffs exactly once, lead state equals the clean run's"
