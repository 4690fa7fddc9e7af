#!/usr/bin/env bash
# e2e_dedupe: a duplicate messageId never scores twice, also across a
# restart.
#
# Stream A (gen_stream.sh) runs once through a clean daemon. Stream B is A
# with every third event sent twice; it is fed to a second daemon (its own
# topics and group) in two halves with a SIGTERM restart in between, and the
# last 150 events of the first half are sent again after the restart, as a
# producer that retries after its own crash would. Asserted: B's handoffs
# are exactly simulate(A)'s (lead, team, handoff id, each once) with the
# same score per lead, and the final changelog state of every lead equals
# the clean run's.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init dedupe

"$HERE/gen_stream.sh" -l 200 -s 31 >"$WORK/a.jsonl"
"$HERE/gen_stream.sh" -l 200 -s 31 -d 3 >"$WORK/b.jsonl"
e2e_config "$WORK/sim.json" sim 50
e2e_simulate "$WORK/sim.json" "$WORK/a.jsonl" "$WORK/expected.jsonl"
e2e_simulate "$WORK/sim.json" "$WORK/b.jsonl" "$WORK/expected-b.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/expected-b.jsonl" ||
	fail "simulate itself scores duplicates: its handoffs for A and B differ"
note "A: $(wc -l <"$WORK/a.jsonl") events, B: $(wc -l <"$WORK/b.jsonl") with duplicates; $(wc -l <"$WORK/expected.jsonl") handoffs expected"

e2e_clean_run clean "$WORK/a.jsonl" 3

# The duplicate run.
e2e_config "$WORK/dup.json" 0 50
e2e_topics 3
n=$(wc -l <"$WORK/b.jsonl")
half=$((n / 2))
head -n "$half" "$WORK/b.jsonl" >"$WORK/b1.jsonl"
{
	tail -n 150 "$WORK/b1.jsonl"
	tail -n +"$((half + 1))" "$WORK/b.jsonl"
} >"$WORK/b2.jsonl"
e2e_produce "$WORK/b1.jsonl"
e2e_start "$WORK/dup.json" "$WORK/daemon-dup.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"
kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "no exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
e2e_produce "$WORK/b2.jsonl"
e2e_start "$WORK/dup.json" "$WORK/daemon-dup.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"
e2e_collect dup

e2e_check_handoffs dup "$WORK/expected.jsonl"
paste -d' ' <(json_field lead <"$WORK/expected.jsonl") <(json_field score <"$WORK/expected.jsonl") |
	LC_ALL=C sort >"$WORK/expected.scores"
paste -d' ' <(json_field lead <"$WORK/dup.handoffs.jsonl") <(json_field score <"$WORK/dup.handoffs.jsonl") |
	LC_ALL=C sort >"$WORK/dup.scores"
diff "$WORK/expected.scores" "$WORK/dup.scores" >&2 || fail "handoff scores differ from simulate"
e2e_compare_leads clean dup
echo "PASS: $(wc -l <"$WORK/dup.keys") handoffs as simulate with the same scores; lead state equals the clean run's"
