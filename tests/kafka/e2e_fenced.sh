#!/usr/bin/env bash
# e2e_fenced: a second daemon with the same process.instance_id (so the
# same transactional.id) fences the first, which must exit with status 1
# and one clear log line; the second takes over and the output stays exact.
#
# Daemon A runs alone over the first half of a stream on 4 partitions. Then
# B starts with A's instance id: its init_transactions bumps the producer
# epoch, which aborts A's open transaction and fences A's producer. The
# second half of the stream then reaches A's partitions; A's next
# transactional request fails with a fatal _FENCED error. Asserted: A exits
# with status 1 within 60 s and logs "fatal: fenced ... transactional.id";
# B survives, drains the stream, and the read_committed handoffs are
# simulate's (lead, team, handoff id), each exactly once; SIGTERM stops B
# with status 0.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init fenced

"$HERE/gen_stream.sh" -l 300 -s 61 >"$WORK/in.jsonl"
total=$(wc -l <"$WORK/in.jsonl")
half=$((total / 2))
head -n "$half" "$WORK/in.jsonl" >"$WORK/in1.jsonl"
tail -n +$((half + 1)) "$WORK/in.jsonl" >"$WORK/in2.jsonl"
e2e_config "$WORK/sim.json" sim 50
e2e_simulate "$WORK/sim.json" "$WORK/in.jsonl" "$WORK/expected.jsonl"
note "$total events, $(wc -l <"$WORK/expected.jsonl") handoffs expected"

# Same instance id, two files only so the logs name them apart.
e2e_config "$WORK/a.json" f 50
e2e_config "$WORK/b.json" f 50
e2e_topics 4

e2e_start "$WORK/a.json" "$WORK/daemon-a.log"
pa=$DAEMON_PID
e2e_produce "$WORK/in1.jsonl"
e2e_wait_committed $((half / 2)) 60 "$pa"
note "instance A committed $COMMITTED of $half events"

e2e_start "$WORK/b.json" "$WORK/daemon-b.log"
pb=$DAEMON_PID
e2e_wait_log "$pb" "$WORK/daemon-b.log" 30 'transactional producer ready'
note "instance B initialised transactions: A is fenced"
e2e_produce "$WORK/in2.jsonl"

e2e_wait_exit "$pa" 60 || fail "fenced instance A still runs 60 s after B started"
[ "$EXIT_STATUS" = 1 ] || fail "fenced instance A exited with status $EXIT_STATUS, want 1"
grep -q 'fatal: fenced: .*transactional.id' "$WORK/daemon-a.log" ||
	fail "instance A exited without the 'fatal: fenced' line"
note "A exited with status 1: $(grep -m1 'fatal: fenced' "$WORK/daemon-a.log")"

e2e_wait_drained 120 "$pb"
e2e_collect fenced
e2e_check_handoffs fenced "$WORK/expected.jsonl"

kill -TERM "$pb"
e2e_wait_exit "$pb" 15 || fail "instance B did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "instance B exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: fenced instance exited 1 with a clear line; $(wc -l <"$WORK/fenced.keys") handoffs exactly once"
