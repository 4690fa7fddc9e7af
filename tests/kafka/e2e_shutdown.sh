#!/usr/bin/env bash
# e2e_shutdown: SIGTERM ends the daemon with status 0 within a few seconds,
# with its offsets committed, so a restart processes nothing twice.
#
# The first daemon drains 60% of a stream, then gets SIGTERM while the rest
# arrives at 1,000 events/s (so a transaction is open); it must exit 0
# within 5 s. A second daemon (same instance id) then drains the rest and is
# stopped the same way while idle. Asserted: both exits are clean and quick;
# no handoff twice and the handoffs are simulate's; the final lead state
# equals an uninterrupted run's; the events the two daemons report as
# consumed (their final "stats" log lines) add up to the stream exactly.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init shutdown

"$HERE/gen_stream.sh" -l 400 -s 61 >"$WORK/in.jsonl"
total=$(wc -l <"$WORK/in.jsonl")
first=$((total * 6 / 10))
head -n "$first" "$WORK/in.jsonl" >"$WORK/in1.jsonl"
tail -n +"$((first + 1))" "$WORK/in.jsonl" >"$WORK/in2.jsonl"
e2e_config "$WORK/sim.json" sim 50
e2e_simulate "$WORK/sim.json" "$WORK/in.jsonl" "$WORK/expected.jsonl"
note "$total events, $(wc -l <"$WORK/expected.jsonl") handoffs expected"

e2e_clean_run clean "$WORK/in.jsonl" 3

e2e_config "$WORK/run.json" 0 50
e2e_topics 3
e2e_produce "$WORK/in1.jsonl"
e2e_start "$WORK/run.json" "$WORK/daemon-1.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"
e2e_produce_paced "$WORK/in2.jsonl" 1000
sleep 1.5
e2e_alive "$pid"
t0=$(date +%s%N)
kill -TERM "$pid"
e2e_wait_exit "$pid" 5 || fail "daemon still running 5 s after SIGTERM (busy)"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM (busy)"
c1=$(e2e_committed)
note "busy daemon exited 0 in $ms ms after SIGTERM; $c1 of $total events committed"
[ "$c1" -gt "$first" ] && [ "$c1" -lt "$total" ] ||
	note "warning: the SIGTERM did not land mid-stream ($c1 committed)"

e2e_wait_producer 60
e2e_start "$WORK/run.json" "$WORK/daemon-2.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"
t0=$(date +%s%N)
kill -TERM "$pid"
e2e_wait_exit "$pid" 5 || fail "daemon still running 5 s after SIGTERM (idle)"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM (idle)"
note "idle daemon exited 0 in $ms ms after SIGTERM"
[ "$(e2e_committed)" = "$total" ] || fail "committed $(e2e_committed) of $total events at the end"

e2e_collect run
e2e_check_handoffs run "$WORK/expected.jsonl"
e2e_compare_leads clean run

# Nothing consumed twice: the events each run consumed add up to the stream.
consumed() {
	grep -o 'stats: consumed [0-9]* (events [0-9]*' "$1" | tail -n 1 | sed 's/.*events //'
}
e1=$(consumed "$WORK/daemon-1.log")
e2=$(consumed "$WORK/daemon-2.log")
if [ -n "$e1" ] && [ -n "$e2" ]; then
	[ $((e1 + e2)) = "$total" ] ||
		fail "the two runs consumed $e1 + $e2 events for a stream of $total: something was processed twice (or lost)"
	note "events consumed: $e1 + $e2 = $total"
else
	note "no stats lines in the daemon logs: consumed counts not checked"
fi
echo "PASS: SIGTERM exits 0 quickly, busy and idle; restart processed nothing twice; $(wc -l <"$WORK/run.keys") handoffs exactly once"
