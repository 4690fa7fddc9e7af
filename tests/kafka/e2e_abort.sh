#!/usr/bin/env bash
# e2e_abort: the abort path on a real broker. A delivery fails, the
# transaction aborts, the daemon drops its state, restores it from the
# changelogs, rewinds to the committed offsets and carries on; nothing is
# lost and nothing is handed off twice.
#
# The DLQ topic is created up front with max.message.bytes=2048, and one
# bad event of about 4 KiB (no identity; below the 32 KiB input limit) sits
# in the middle of a stream on 3 partitions. Its DLQ record is refused by
# the broker (MESSAGE_TOO_LARGE, not retriable), so every transaction that
# holds it aborts, and the replay fails the same way. Once the daemon has
# aborted and restored at least twice (and is still running), the test
# raises the topic's limit with Kafka's ConfigCommand and the next replay
# commits; from the second abort in a row the replay must pause first
# (200 ms, doubling), not loop hot. Asserted, reading read_committed: the DLQ holds the bad event
# once, byte for byte; the handoffs are simulate's (lead, team, handoff id),
# none twice; the latest leads changelog record per lead equals that of an
# uninterrupted run (state rolled back, not applied twice); SIGTERM then
# stops the daemon with status 0.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init abort

libs=$(ls -d "${LEADROUTER_CACHE:-${HOME:-/tmp}/.cache/leadrouter}"/kafka-*/libs 2>/dev/null | tail -n 1)
[ -n "$libs" ] && command -v java >/dev/null ||
	fail "need java and the broker's jars (sh tests/kafka/broker.sh fetch) for ConfigCommand"

"$HERE/gen_stream.sh" -l 200 -s 71 >"$WORK/good.jsonl"
n=$(wc -l <"$WORK/good.jsonl")
pad=$(head -c 4000 /dev/zero | tr '\0' 'x')
bad="{\"type\":\"track\",\"event\":\"Oversized\",\"messageId\":\"m-oversized\",\"properties\":{\"pad\":\"$pad\"}}"
{
	head -n $((n / 2)) "$WORK/good.jsonl"
	printf '%s\n' "$bad"
	tail -n +$((n / 2 + 1)) "$WORK/good.jsonl"
} >"$WORK/in.jsonl"
printf '%s\n' "$bad" >"$WORK/bad.txt"
e2e_config "$WORK/sim.json" sim 50
e2e_simulate "$WORK/sim.json" "$WORK/in.jsonl" "$WORK/expected.jsonl"
grep -q '^{"line":' "$WORK/expected.jsonl.rejected" ||
	fail "simulate does not reject the oversized event: the test needs a bad one"
note "$(wc -l <"$WORK/in.jsonl") events (one bad, $(wc -c <"$WORK/bad.txt") bytes), $(wc -l <"$WORK/expected.jsonl") handoffs expected"

e2e_clean_run clean "$WORK/in.jsonl" 3

e2e_config "$WORK/abort.json" 0 50
e2e_topics 3
"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" create "$DLQ" 1 max.message.bytes=2048 >/dev/null ||
	fail "could not create $DLQ"
e2e_produce "$WORK/in.jsonl"
e2e_start "$WORK/abort.json" "$WORK/daemon.log"
pid=$DAEMON_PID

aborts() {
	grep -c 'transaction aborted; restoring state' "$WORK/daemon.log" || true
}
i=0
until [ "$(aborts)" -ge 2 ]; do
	e2e_alive "$pid"
	[ $i -lt 600 ] || fail "fewer than 2 aborts within 60 s ($(aborts))"
	sleep 0.1
	i=$((i + 1))
done
grep -q "delivery to $DLQ .*failed: Broker: Message size too large" "$WORK/daemon.log" ||
	fail "aborted, but the daemon did not log the DLQ delivery failure as the cause"
grep -q 'rewound .* to the committed offsets' "$WORK/daemon.log" ||
	fail "aborted without rewinding to the committed offsets"
# The pause is logged once the second rollback's restore is done.
e2e_wait_log "$pid" "$WORK/daemon.log" 30 'txn: 2 aborts in a row; replaying in 200 ms'
note "$(aborts) aborts so far, daemon alive; raising max.message.bytes of $DLQ"

timeout 60 java -Xmx256m -cp "$libs/*" kafka.admin.ConfigCommand \
	--bootstrap-server "$BOOTSTRAP" --alter --entity-type topics \
	--entity-name "$DLQ" --add-config max.message.bytes=1048588 \
	>"$WORK/config.log" 2>&1 || {
	cat "$WORK/config.log" >&2
	fail "ConfigCommand could not raise max.message.bytes"
}

e2e_wait_drained 120 "$pid"
note "drained after $(aborts) aborts"
e2e_collect abort

e2e_read "$DLQ" "$WORK/dlq.tsv"
ndlq=$(wc -l <"$WORK/dlq.tsv")
[ "$ndlq" = 1 ] || fail "DLQ holds $ndlq records, want the bad event once"
cut -f4 "$WORK/dlq.tsv" | cmp -s - "$WORK/bad.txt" ||
	fail "the DLQ record is not the bad event's bytes"
e2e_check_handoffs abort "$WORK/expected.jsonl"
e2e_compare_leads clean abort

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: $(aborts) aborts rolled back and replayed; DLQ once, $(wc -l <"$WORK/abort.keys") handoffs exactly once, lead state equals the clean run's"
