#!/usr/bin/env bash
# e2e_handoff: events in -> exactly the expected handoffs out.
#
# A few thousand events from gen_stream.sh go to a one-partition events
# topic (one partition: stage 2 then sees the assign commands in input
# order, as simulate does, so even weighted round robin must agree); one
# daemon drains them. The handoffs on the rep queues (read_committed) must
# be the handoffs `leadrouter simulate` writes for the same input and
# config: the same set of (lead, team, rep, handoff_id), no duplicates,
# each on the topic of its team with the rep as the record key. Then
# SIGTERM must stop the daemon with status 0.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init handoff

cfg=$WORK/e2e.json
e2e_config "$cfg" 0 50
e2e_topics 1
"$HERE/gen_stream.sh" -l 300 -s 11 >"$WORK/in.jsonl"
e2e_simulate "$cfg" "$WORK/in.jsonl" "$WORK/expected.jsonl"
nexp=$(wc -l <"$WORK/expected.jsonl")
[ "$nexp" -ge 100 ] || fail "simulate gave only $nexp handoffs: the generator and e2e.json disagree"
note "$(wc -l <"$WORK/in.jsonl") events, simulate expects $nexp handoffs"

e2e_produce "$WORK/in.jsonl"
e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"
e2e_read "$HANDOFF_RE" "$WORK/out.tsv"

# Record placement: topic = PREFIX.sales.handoffs.<team>, key = rep.
awk -F'\t' -v p="$PREFIX.sales.handoffs." '{
	team = $4; sub(/.*"routing":\{"team":"/, "", team); sub(/".*/, "", team)
	rep = $4; sub(/.*"rep":"/, "", rep); sub(/".*/, "", rep)
	if ($1 != p team) { print "record on " $1 " for team " team; bad = 1 }
	if ($3 != rep) { print "record key " $3 " for rep " rep; bad = 1 }
} END { exit bad }' "$WORK/out.tsv" >&2 || fail "handoffs on the wrong topic or with the wrong key"

cut -f4 "$WORK/out.tsv" >"$WORK/out.jsonl"
dups=$(dup_ids "$WORK/out.jsonl")
[ -z "$dups" ] || fail "duplicate handoff ids: $(echo "$dups" | head -5 | tr '\n' ' ')"
handoff_keys "$WORK/expected.jsonl" "$WORK/expected.keys"
handoff_keys "$WORK/out.jsonl" "$WORK/out.keys"
if ! diff "$WORK/expected.keys" "$WORK/out.keys" >"$WORK/keys.diff"; then
	head -20 "$WORK/keys.diff" >&2
	fail "handoffs differ from simulate ($(wc -l <"$WORK/out.keys") out, $nexp expected; < simulate, > daemon)"
fi
if LC_ALL=C sort "$WORK/expected.jsonl" | cmp -s - <(LC_ALL=C sort "$WORK/out.jsonl"); then
	note "handoff records byte-identical to simulate"
else
	note "note: same handoffs as simulate by lead/team/rep/id, but the bytes differ"
fi

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: $nexp handoffs, exactly those of simulate"
