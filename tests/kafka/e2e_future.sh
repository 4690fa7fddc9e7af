#!/usr/bin/env bash
# e2e_future: an event dated far ahead of the daemon's clock goes to the DLQ
# as bad_timestamp and leaves its lead alone; so does a far-future feedback
# record.
#
# One partition, e2e.json (process.event_time_max_ahead_days not set: the
# default, 1 day). Lead L: an identify (fit 55, grade B) and a /pricing page
# dated ten years from now (a device with a wrong clock), then a /pricing
# page and a Demo Requested on 2026-03-02 (15 + 40 = 55 >= 50). Taken in,
# the future page would have moved L's clock ten years on and the later
# events would decay to ~0 there: simulate, which reads no clock and so
# applies no bound, shows it (no handoff for this input). Asserted:
# - exactly one handoff, for L, to team emea;
# - the DLQ holds the future event with its original bytes, reason
#   bad_timestamp, a message saying how far ahead of the daemon's clock it
#   is, and the events topic as its source;
# - a feedback "accepted" for L dated ten years ahead then goes to the DLQ
#   as bad_timestamp too (source: the feedback topic);
# - after SIGTERM (exit 0), the daemon's final stats line counts 2 DLQ
#   records.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init future

cfg=$WORK/e2e.json
e2e_config "$cfg" 0 50
e2e_topics 1

L="future-lead-$RANDOM"
FUTURE=$(date -u -d '+3650 days' +%Y-%m-%dT%H:%M:%S.000Z)
cat >"$WORK/in.jsonl" <<EOF
{"type":"identify","userId":"$L","messageId":"$L-1","timestamp":"2026-03-02T09:00:00.000Z","traits":{"email":"$L@company.test","title":"VP Marketing","company":{"name":"Company $L","employees":500,"industry":"Software"},"address":{"country":"DE"}}}
{"type":"page","userId":"$L","messageId":"$L-2","timestamp":"$FUTURE","name":"Pricing","properties":{"path":"/pricing"}}
{"type":"page","userId":"$L","messageId":"$L-3","timestamp":"2026-03-02T09:01:00.000Z","name":"Pricing","properties":{"path":"/pricing"}}
{"type":"track","userId":"$L","messageId":"$L-4","timestamp":"2026-03-02T09:02:00.000Z","event":"Demo Requested","properties":{"source":"web"}}
EOF
future_line=$(sed -n 2p "$WORK/in.jsonl")
e2e_simulate "$cfg" "$WORK/in.jsonl" "$WORK/simulate.jsonl"
[ ! -s "$WORK/simulate.jsonl" ] ||
	fail "simulate hands L off: the input does not show what the future event does"

e2e_produce "$WORK/in.jsonl"
e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_drained 60 "$pid"

e2e_read "$HANDOFF_RE" "$WORK/out.tsv"
[ "$(wc -l <"$WORK/out.tsv")" = 1 ] ||
	fail "$(wc -l <"$WORK/out.tsv") handoffs, want 1 (for L)"
[ "$(cut -f4 "$WORK/out.tsv" | json_field lead)" = "\"$L\"" ] ||
	fail "the handoff is not for L: $(cut -f4 "$WORK/out.tsv" | cut -c1-200)"
[ "$(cut -f4 "$WORK/out.tsv" | json_field team)" = '"emea"' ] ||
	fail "L went to team $(cut -f4 "$WORK/out.tsv" | json_field team), want emea"

# A far-future feedback record for L.
echo "{\"type\":\"accepted\",\"lead\":\"$L\",\"timestamp\":\"$FUTURE\"}" >"$WORK/fb.jsonl"
"$LR_TOOLS/lr_produce" -b "$BOOTSTRAP" -t "$FEEDBACK" --key-field lead \
	<"$WORK/fb.jsonl" 2>"$WORK/produce-fb.log" || {
	cat "$WORK/produce-fb.log" >&2
	fail "could not produce the feedback"
}
i=0
until [ "$(e2e_lag "$FEEDBACK")" = 0 ]; do
	e2e_alive "$pid"
	[ $i -lt 600 ] || fail "the feedback record was not consumed within 60 s"
	sleep 0.1
	i=$((i + 1))
done

e2e_read "$DLQ" "$WORK/dlq.tsv" --headers
[ "$(wc -l <"$WORK/dlq.tsv")" = 2 ] ||
	fail "the DLQ holds $(wc -l <"$WORK/dlq.tsv") records, want 2"
paste <(hdr source.topic <"$WORK/dlq.tsv") <(hdr reason <"$WORK/dlq.tsv") \
	<(hdr message <"$WORK/dlq.tsv") <(cut -f4 "$WORK/dlq.tsv") >"$WORK/dlq.fields"
awk -F'\t' -v t="$EVENTS" '$1 == t' "$WORK/dlq.fields" >"$WORK/dlq.events"
awk -F'\t' -v t="$FEEDBACK" '$1 == t' "$WORK/dlq.fields" >"$WORK/dlq.feedback"
[ "$(wc -l <"$WORK/dlq.events")" = 1 ] && [ "$(wc -l <"$WORK/dlq.feedback")" = 1 ] ||
	fail "want one DLQ record from each input topic: $(cut -f1,2 "$WORK/dlq.fields" | tr '\n' ' ')"
[ "$(cut -f2 "$WORK/dlq.events")" = bad_timestamp ] ||
	fail "the future event's reason is $(cut -f2 "$WORK/dlq.events"), want bad_timestamp"
[ "$(cut -f4- "$WORK/dlq.events")" = "$future_line" ] ||
	fail "the DLQ record is not the future event's bytes: $(cut -f4- "$WORK/dlq.events" | cut -c1-200)"
grep -Eq 'event time is 3153[0-9]{5} s \(3650\.0 days\) ahead of the daemon.s clock; at most 86400 s are allowed' "$WORK/dlq.events" ||
	fail "unexpected DLQ message: $(cut -f3 "$WORK/dlq.events")"
[ "$(cut -f2 "$WORK/dlq.feedback")" = bad_timestamp ] ||
	fail "the future feedback's reason is $(cut -f2 "$WORK/dlq.feedback"), want bad_timestamp"

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "no exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
grep 'pipeline: stats:' "$WORK/daemon.log" | tail -n 1 | grep -q ', dlq 2,' ||
	fail "the final stats line does not count 2 DLQ records: $(grep 'pipeline: stats:' "$WORK/daemon.log" | tail -n 1)"
echo "PASS: far-future event and feedback in the DLQ as bad_timestamp; L still handed off"
