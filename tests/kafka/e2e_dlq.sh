#!/usr/bin/env bash
# e2e_dlq: bad events go to the DLQ topic with their original bytes and the
# headers reason, source.topic, source.partition and source.offset; the good
# events around them are still processed.
#
# gen_stream.sh -b 40 puts a bad event (not JSON, not an object, no
# identity, a userId of the wrong type, an unknown type, in turn) after
# every 40th good one, over 3 partitions. Asserted:
# - the DLQ holds exactly the lines simulate rejects, each once, with the
#   reason simulate gives for that line;
# - each DLQ record's value is byte for byte the input record found at its
#   source.topic/partition/offset;
# - the handoffs are simulate's (by lead, team and handoff id).
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init dlq

cfg=$WORK/e2e.json
e2e_config "$cfg" 0 50
e2e_topics 3
"$HERE/gen_stream.sh" -l 200 -s 21 -b 40 >"$WORK/in.jsonl"
e2e_simulate "$cfg" "$WORK/in.jsonl" "$WORK/expected.jsonl"
# simulate's rejects: {"line":N,"reason":"..."} -> "reason TAB line text".
grep '^{"line":' "$WORK/expected.jsonl.rejected" >"$WORK/rej.json" || true
json_field line <"$WORK/rej.json" >"$WORK/rej.lines"
json_field reason <"$WORK/rej.json" | tr -d '"' >"$WORK/rej.reasons"
awk 'NR == FNR { want[$1] = 1; next } (FNR in want) { print FNR "\t" $0 }' \
	"$WORK/rej.lines" "$WORK/in.jsonl" | cut -f2- >"$WORK/rej.text"
paste "$WORK/rej.reasons" "$WORK/rej.text" | LC_ALL=C sort >"$WORK/expected.dlq"
nbad=$(wc -l <"$WORK/expected.dlq")
[ "$nbad" -ge 20 ] || fail "simulate rejects only $nbad lines; the generator should make more"
note "$(wc -l <"$WORK/in.jsonl") events, $nbad bad ones, simulate expects $(wc -l <"$WORK/expected.jsonl") handoffs"

e2e_produce "$WORK/in.jsonl"
e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"

e2e_read "$DLQ" "$WORK/dlq.tsv" --headers
e2e_read "$EVENTS" "$WORK/input.tsv" --offsets
ndlq=$(wc -l <"$WORK/dlq.tsv")
[ "$ndlq" = "$nbad" ] || fail "DLQ holds $ndlq records, simulate rejected $nbad lines"

# Headers and provenance.
paste <(hdr reason <"$WORK/dlq.tsv") <(hdr source.topic <"$WORK/dlq.tsv") \
	<(hdr source.partition <"$WORK/dlq.tsv") <(hdr source.offset <"$WORK/dlq.tsv") \
	<(cut -f4 "$WORK/dlq.tsv") >"$WORK/dlq.fields"
awk -F'\t' -v t="$EVENTS" 'NR == FNR { at[$2 "/" $5] = $4; next } {
	if ($2 != t) { print "source.topic " $2 " for " $5; bad = 1; next }
	if (!(($3 "/" $4) in at)) { print "no input record at " $3 "/" $4; bad = 1; next }
	if (at[$3 "/" $4] != $5) { print "DLQ value differs from input at " $3 "/" $4 ": " $5; bad = 1 }
	if ($1 == "<none>" || $1 == "") { print "no reason header for " $5; bad = 1 }
} END { exit bad }' "$WORK/input.tsv" "$WORK/dlq.fields" >&2 ||
	fail "DLQ records do not point at their original bytes"
cut -f1,5 "$WORK/dlq.fields" | LC_ALL=C sort >"$WORK/actual.dlq"
nreasons=$(cut -f1 "$WORK/actual.dlq" | sort -u | wc -l)
[ "$nreasons" -ge 5 ] || fail "expected 5 distinct reasons in the DLQ, got: $(cut -f1 "$WORK/actual.dlq" | sort -u | tr '\n' ' ')"
if ! diff "$WORK/expected.dlq" "$WORK/actual.dlq" >"$WORK/dlq.diff"; then
	head -10 "$WORK/dlq.diff" >&2
	fail "DLQ (reason, bytes) differ from simulate's rejects (< simulate, > daemon)"
fi

# The good events around them.
e2e_read "$HANDOFF_RE" "$WORK/out.tsv"
cut -f4 "$WORK/out.tsv" >"$WORK/out.jsonl"
dups=$(dup_ids "$WORK/out.jsonl")
[ -z "$dups" ] || fail "duplicate handoff ids: $(echo "$dups" | head -5 | tr '\n' ' ')"
handoff_keys_norep "$WORK/expected.jsonl" "$WORK/expected.keys"
handoff_keys_norep "$WORK/out.jsonl" "$WORK/out.keys"
diff "$WORK/expected.keys" "$WORK/out.keys" >"$WORK/keys.diff" || {
	head -10 "$WORK/keys.diff" >&2
	fail "handoffs differ from simulate"
}
echo "PASS: $ndlq bad events in the DLQ with provenance, $(wc -l <"$WORK/out.keys") handoffs as simulate"
