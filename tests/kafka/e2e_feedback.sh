#!/usr/bin/env bash
# e2e_feedback: sales feedback through Kafka frees a rep's open slot and
# restarts a rejected lead's lifecycle.
#
# Config: e2e.json with team emea reduced to one rep, anna.schmidt, with
# max_open 1 (overflow queue emea-overflow). Events and feedback topics have
# 3 partitions; feedback is keyed by the lead with lr_produce's murmur2
# partitioner, so it lands on the lead's partition. Phases, each waited for
# (the group's lag on the topic it fed, then the expected handoff count):
#  1. lead A qualifies -> handoff to anna (weighted_round_robin, cycle 1);
#  2. lead B qualifies -> anna is at max_open: handoff to emea-overflow,
#     strategy overflow, reason "no rep available: 1 at max open leads";
#  3. feedback "accepted" for A (team, rep, handoff_id) frees anna's slot;
#     the leads changelog shows A accepted, cycle 1;
#  4. lead C qualifies -> anna again;
#  5. feedback "rejected" for A -> A is known again with cycle 2 (changelog);
#     A's new qualifying events give a second handoff for A, cycle 2, with a
#     new handoff_id. A was already answered (accepted), so the rejection
#     must not free a second slot: anna still holds C, and A's cycle-2
#     handoff goes to emea-overflow (max_open counts handoffs "not yet
#     answered", README.md "Handoff format");
#  5b. a late "accepted" for A naming its cycle-1 handoff_id is stale: A
#     stays handed_off in cycle 2 (it would otherwise close cycle 2's open
#     handoff) and anna's slot count does not move;
#  6. malformed feedback records (not JSON, no type, unknown type, unknown
#     team, a handoff_id not of leadrouter's form) -> the DLQ with their
#     original bytes and the reason header, and no further handoff.
# Everything is read back read_committed: the handoff topic, the DLQ and the
# leads changelog (latest record per key). simulate has no feedback input,
# so the expected values are written out here.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init feedback

# The config: emea = anna.schmidt alone, max_open 1.
e2e_config "$WORK/base.json" 0 50
jq '(.teams[] | select(.name == "emea") | .reps) |=
	[.[] | select(.id == "anna.schmidt") | .max_open = 1]' \
	"$WORK/base.json" >"$WORK/fb.json"
"$LEADROUTER" --check-config -c "$WORK/fb.json" >/dev/null ||
	fail "derived config $WORK/fb.json does not validate"
cfg=$WORK/fb.json
HO_TOPIC="$PREFIX.sales.handoffs.emea"

e2e_topics 3

# Events that make a lead qualify for emea: fit 55 (B: senior title, 200+
# employees, Software, DE), score 15 + 40 = 55 >= 50.
sfx=$RANDOM
LA="fb-a-$sfx" LB="fb-b-$sfx" LC="fb-c-$sfx"
qualify_events() { # LEAD TAG DAY
	local l=$1 tag=$2 d=$3
	cat <<EOF
{"type":"identify","userId":"$l","messageId":"$l-$tag-1","timestamp":"2026-03-${d}T09:00:00.000Z","traits":{"email":"$l@company.test","name":"Person $l","title":"VP Marketing","company":{"name":"Company $l","employees":500,"industry":"Software"},"address":{"country":"DE"}}}
{"type":"page","userId":"$l","messageId":"$l-$tag-2","timestamp":"2026-03-${d}T09:01:00.000Z","name":"Pricing","properties":{"path":"/pricing"}}
{"type":"track","userId":"$l","messageId":"$l-$tag-3","timestamp":"2026-03-${d}T09:02:00.000Z","event":"Demo Requested","properties":{"source":"web"}}
EOF
}

produce_feedback() { # FILE
	"$LR_TOOLS/lr_produce" -b "$BOOTSTRAP" -t "$FEEDBACK" --key-field lead \
		<"$1" 2>"$WORK/produce-fb.log" || {
		cat "$WORK/produce-fb.log" >&2
		fail "could not produce $1 to $FEEDBACK"
	}
}

# feedback_of TYPE LEAD HANDOFF_ID TIMESTAMP: one record from anna.schmidt.
feedback_of() {
	echo "{\"type\":\"$1\",\"lead\":\"$2\",\"rep\":\"anna.schmidt\",\"team\":\"emea\",\"handoff_id\":\"$3\",\"timestamp\":\"$4\"}"
}

# feedback_apply FILE: produce FILE and wait until the daemon has acted on it.
feedback_apply() {
	produce_feedback "$1"
	wait_lag "$FEEDBACK" 60
	e2e_wait_drained 60 "$pid"
}

# wait_lag TOPIC SECONDS: the group committed the end of TOPIC.
wait_lag() {
	local t=$1 secs=$2 i=0 lag
	while :; do
		e2e_alive "$pid"
		lag=$(e2e_lag "$t")
		[ "$lag" != 0 ] || return 0
		[ $i -lt $((secs * 10)) ] || fail "lag $lag on $t after ${secs}s"
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_handoffs N: N committed handoffs on the emea topic (into handoffs.tsv).
wait_handoffs() {
	local n=$1
	"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$HO_TOPIC" --max "$n" \
		--timeout 60000 >"$WORK/handoffs.tsv" 2>"$WORK/handoffs.err" ||
		fail "fewer than $n handoffs on $HO_TOPIC after 60 s: $(wc -l <"$WORK/handoffs.tsv") ($(tail -1 "$WORK/handoffs.err"))"
	cut -f4 "$WORK/handoffs.tsv" >"$WORK/handoffs.jsonl"
}

# handoff_of N FILTER: jq FILTER (e.g. .routing.reason) of the Nth handoff.
handoff_of() {
	sed -n "${1}p" "$WORK/handoffs.jsonl" | jq -r "$2"
}

# expect_handoff N LEAD REP STRATEGY CYCLE
expect_handoff() {
	local n=$1 got
	got="$(handoff_of "$n" .lead) $(handoff_of "$n" .rep) $(handoff_of "$n" .routing.strategy) $(handoff_of "$n" .cycle)"
	[ "$got" = "$2 $3 $4 $5" ] ||
		fail "handoff $n: got (lead rep strategy cycle) '$got', want '$2 $3 $4 $5': $(sed -n "${n}p" "$WORK/handoffs.jsonl")"
	# Record key = the rep (or overflow queue).
	got=$(sed -n "${n}p" "$WORK/handoffs.tsv" | cut -f3)
	[ "$got" = "$3" ] || fail "handoff $n has key '$got', want '$3'"
	note "handoff $n: $2 -> $3 ($4, cycle $5): $(handoff_of "$n" .routing.reason)"
}

# lead_state LEAD: "lifecycle cycle" of the latest changelog record of LEAD.
lead_state() {
	e2e_read "$LEADS" "$WORK/leads.raw"
	latest_per_key "$WORK/leads.raw" "$WORK/leads.tsv"
	awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$WORK/leads.tsv" >"$WORK/lead.json"
	[ -s "$WORK/lead.json" ] || fail "no changelog record for lead $1"
	echo "$(json_field life <"$WORK/lead.json" | tr -d '"') $(json_field cycle <"$WORK/lead.json")"
}

# expect_state LEAD WANT WHEN: lead_state LEAD is WANT ("lifecycle cycle").
expect_state() {
	local st
	st=$(lead_state "$1")
	[ "$st" = "$2" ] || fail "lead $1 $3: '$st', want '$2'"
	note "lead $1 $3: $st"
}

e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID

# 1. A qualifies -> anna.
qualify_events "$LA" c1 02 >"$WORK/a1.jsonl"
e2e_produce "$WORK/a1.jsonl"
wait_handoffs 1
expect_handoff 1 "$LA" anna.schmidt weighted_round_robin 1
ho_a1=$(handoff_of 1 .handoff_id)

# 2. B qualifies -> anna is at max_open 1 -> overflow.
qualify_events "$LB" c1 02 >"$WORK/b1.jsonl"
e2e_produce "$WORK/b1.jsonl"
wait_handoffs 2
expect_handoff 2 "$LB" emea-overflow overflow 1
reason=$(handoff_of 2 .routing.reason)
[ "$reason" = "no rep available: 1 at max open leads" ] ||
	fail "overflow reason '$reason', want 'no rep available: 1 at max open leads'"

# 3. "accepted" for A frees anna's slot.
feedback_of accepted "$LA" "$ho_a1" 2026-03-02T10:00:00Z >"$WORK/fb-accept.jsonl"
feedback_apply "$WORK/fb-accept.jsonl"
expect_state "$LA" "accepted 1" "after accepted"

# 4. C qualifies -> anna again.
qualify_events "$LC" c1 02 >"$WORK/c1.jsonl"
e2e_produce "$WORK/c1.jsonl"
wait_handoffs 3
expect_handoff 3 "$LC" anna.schmidt weighted_round_robin 1

# 5. "rejected" for A: a new cycle; A qualifies again.
feedback_of rejected "$LA" "$ho_a1" 2026-03-02T11:00:00Z >"$WORK/fb-reject.jsonl"
feedback_apply "$WORK/fb-reject.jsonl"
expect_state "$LA" "known 2" "after rejected"
qualify_events "$LA" c2 03 >"$WORK/a2.jsonl"
e2e_produce "$WORK/a2.jsonl"
wait_handoffs 4
expect_handoff 4 "$LA" emea-overflow overflow 2
ho_a2=$(handoff_of 4 .handoff_id)
[ "$ho_a2" != "$ho_a1" ] || fail "A's second handoff reuses handoff_id $ho_a1"
expect_state "$LA" "handed_off 2" "after its second handoff"

# 5b. A stale "accepted" (cycle 1's handoff id) changes nothing.
feedback_of accepted "$LA" "$ho_a1" 2026-03-03T12:00:00Z >"$WORK/fb-stale.jsonl"
feedback_apply "$WORK/fb-stale.jsonl"
expect_state "$LA" "handed_off 2" "after a stale cycle-1 accepted"
# The routing state agrees: anna holds C only (open 1), 2 handoffs in all.
e2e_read "$TEAMS" "$WORK/teams.raw"
latest_per_key "$WORK/teams.raw" "$WORK/teams.tsv"
anna=$(awk -F'\t' '$1 == "emea" { print $2 }' "$WORK/teams.tsv" |
	jq -c '.reps[] | select(.id == "anna.schmidt") | {open, total}')
[ "$anna" = '{"open":1,"total":2}' ] ||
	fail "teams changelog: anna.schmidt is $anna, want {\"open\":1,\"total\":2}"

# 6. Malformed feedback -> DLQ with reason; nothing else happens.
{
	echo "{\"type\":\"accepted\",\"lead\":\"$LC\",\"rep\":"
	echo "{\"lead\":\"$LC\",\"rep\":\"anna.schmidt\",\"team\":\"emea\"}"
	echo "{\"type\":\"liked\",\"lead\":\"$LC\"}"
	echo "{\"type\":\"accepted\",\"lead\":\"$LC\",\"rep\":\"anna.schmidt\",\"team\":\"apac\"}"
	echo "{\"type\":\"accepted\",\"lead\":\"$LC\",\"rep\":\"anna.schmidt\",\"team\":\"emea\",\"handoff_id\":\"h-123\"}"
} >"$WORK/fb-bad.jsonl"
printf '%s\n' not_json missing_type unknown_type unknown_team bad_handoff_id >"$WORK/fb-bad.reasons"
feedback_apply "$WORK/fb-bad.jsonl"
e2e_read "$DLQ" "$WORK/dlq.tsv" --headers
[ "$(wc -l <"$WORK/dlq.tsv")" = 5 ] ||
	fail "DLQ holds $(wc -l <"$WORK/dlq.tsv") records, want 5"
paste <(hdr reason <"$WORK/dlq.tsv") <(cut -f4 "$WORK/dlq.tsv") | LC_ALL=C sort >"$WORK/dlq.got"
paste "$WORK/fb-bad.reasons" "$WORK/fb-bad.jsonl" | LC_ALL=C sort >"$WORK/dlq.want"
diff "$WORK/dlq.want" "$WORK/dlq.got" >&2 || fail "DLQ records differ (< want, > got)"
bad=$(hdr source.topic <"$WORK/dlq.tsv" | grep -vcx "$FEEDBACK" || true)
[ "$bad" = 0 ] || fail "$bad DLQ records without source.topic $FEEDBACK"
expect_state "$LC" "handed_off 1" "after malformed feedback"

e2e_read "$HANDOFF_RE" "$WORK/all.tsv"
[ "$(wc -l <"$WORK/all.tsv")" = 4 ] ||
	fail "$(wc -l <"$WORK/all.tsv") handoffs in all, want 4"
cut -f4 "$WORK/all.tsv" >"$WORK/all.jsonl"
[ -z "$(dup_ids "$WORK/all.jsonl")" ] || fail "a handoff id occurs twice"

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: max_open overflow, accepted frees the slot, rejected starts cycle 2 (new handoff id, no second slot freed), a stale cycle-1 accepted ignored, 5 malformed feedback records in the DLQ"
