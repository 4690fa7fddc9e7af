#!/usr/bin/env bash
# e2e_reload: a SIGHUP that reorders the score rules changes nothing, and a
# SIGHUP with a broken config leaves the daemon running on the old one.
#
# Per-lead score records point at their rule by index, so a reload that
# reorders the rules must rebuild the lead tables under the new order (the
# daemon restores them from the changelogs, whose records name the rules).
# One daemon gets the first third of a stream, then a SIGHUP with the score
# rules reversed (same rules), the second third, a SIGHUP with a config
# that does not validate, and the last third. Its handoffs and its final
# lead state (the latest leads-changelog record per key) must be those of
# an uninterrupted run under the original config. Without the rebuild, the
# leads scored half under each order have points and caps charged to the
# wrong rules and the changelog names the wrong rules.
#
# What may differ with the order is normalised before comparing: the
# order of a record's rules and of a handoff's score reasons follows the
# config, and the score is a sum whose last bits follow the summation order.
# One partition, so stage 2 sees the assign commands in the same order in
# both runs.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init reload
command -v jq >/dev/null || fail "jq is needed to edit and compare configs"

"$HERE/gen_stream.sh" -l 300 -s 17 >"$WORK/in.jsonl"
n=$(wc -l <"$WORK/in.jsonl")
a=$((n / 3)) b=$((2 * n / 3))
head -n "$a" "$WORK/in.jsonl" >"$WORK/in1.jsonl"
sed -n "$((a + 1)),${b}p" "$WORK/in.jsonl" >"$WORK/in2.jsonl"
tail -n "+$((b + 1))" "$WORK/in.jsonl" >"$WORK/in3.jsonl"
note "$n events in three parts of $a, $((b - a)) and $((n - b))"

e2e_clean_run ref "$WORK/in.jsonl" 1

cfg=$WORK/run.json
e2e_config "$cfg" reload 50
jq '.scoring.rules |= reverse' "$cfg" >"$WORK/reordered.json"
"$LEADROUTER" --check-config -c "$WORK/reordered.json" >/dev/null ||
	fail "the reordered config does not validate"
jq '.scoring.rules[0].points = "many" | .scoring.half_life_days = -1' \
	"$cfg" >"$WORK/broken.json"
if "$LEADROUTER" --check-config -c "$WORK/broken.json" >/dev/null 2>&1; then
	fail "the broken config validates"
fi

# count PATTERN: lines of the daemon's log matching PATTERN.
count() {
	grep -c -- "$1" "$WORK/daemon.log" || true
}

# wait_log PATTERN N SECONDS: until the log has at least N such lines.
wait_log() {
	local i=0
	until [ "$(count "$1")" -ge "$2" ]; do
		e2e_alive "$pid"
		[ $i -lt $(($3 * 10)) ] || fail "no '$1' in the log after $3 s"
		sleep 0.1
		i=$((i + 1))
	done
}

e2e_topics 1
e2e_produce "$WORK/in1.jsonl"
e2e_start "$cfg" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_drained 120 "$pid"

# The reload: the daemon reads the file its -c names; replace it whole.
reloaded=$(count 'configuration reloaded')
restored=$(count "restored 1 partition(s) from $LEADS:")
cp "$WORK/reordered.json" "$cfg.new"
mv "$cfg.new" "$cfg"
kill -HUP "$pid"
wait_log 'configuration reloaded' $((reloaded + 1)) 30
wait_log "restored 1 partition(s) from $LEADS:" $((restored + 1)) 30
note "reload applied, lead state rebuilt"
e2e_produce "$WORK/in2.jsonl"
e2e_wait_drained 120 "$pid"

failed=$(count 'reload failed; keeping the running configuration')
cp "$WORK/broken.json" "$cfg.new"
mv "$cfg.new" "$cfg"
kill -HUP "$pid"
wait_log 'reload failed; keeping the running configuration' $((failed + 1)) 30
grep -q 'pipeline: reload: \$\.scoring' "$WORK/daemon.log" ||
	fail "the reload errors are not in the log with their paths"
[ "$(count 'configuration reloaded')" = $((reloaded + 1)) ] ||
	fail "the broken config was applied"
note "broken reload refused: $(grep -c 'pipeline: reload: \$' "$WORK/daemon.log") error line(s)"
e2e_produce "$WORK/in3.jsonl"
e2e_wait_drained 120 "$pid"

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
e2e_collect reload

# norm_leads TAG: the latest lead records, rules sorted by name and the
# score rounded.
norm_leads() {
	jq -Rr 'split("\t") as [$k, $v]
		| ($v | fromjson | .rules |= sort_by(.[0])
		   | .score |= ((. * 1e6) | round)) as $r
		| "\($k)\t\($r | tojson)"' "$WORK/$1.leads.tsv" |
		LC_ALL=C sort >"$WORK/$1.leads.norm"
}

# norm_handoffs TAG: the handoffs, score reasons sorted by rule, sorted.
norm_handoffs() {
	jq -c '.reasons.score |= sort_by(.rule)' "$WORK/$1.handoffs.jsonl" |
		LC_ALL=C sort >"$WORK/$1.handoffs.norm"
}

for t in ref reload; do
	norm_leads $t
	norm_handoffs $t
done
nh=$(wc -l <"$WORK/ref.handoffs.norm")
nl=$(wc -l <"$WORK/ref.leads.norm")
[ "$nh" -ge 50 ] || fail "the reference run gave only $nh handoffs"
dups=$(dup_ids "$WORK/reload.handoffs.jsonl")
[ -z "$dups" ] || fail "handoffs published twice: $(echo "$dups" | head -3 | tr '\n' ' ')"
if ! diff "$WORK/ref.handoffs.norm" "$WORK/reload.handoffs.norm" >"$WORK/handoffs.diff"; then
	head -4 "$WORK/handoffs.diff" | cut -c1-600 >&2
	fail "handoffs differ from the run without reloads ($(grep -c '^[<>]' "$WORK/handoffs.diff") lines; < ref, > reload)"
fi
if ! diff "$WORK/ref.leads.norm" "$WORK/reload.leads.norm" >"$WORK/leads.diff"; then
	head -4 "$WORK/leads.diff" | cut -c1-600 >&2
	fail "final lead state differs from the run without reloads ($(grep -c '^[<>]' "$WORK/leads.diff") lines; < ref, > reload)"
fi
echo "PASS: $nh handoffs and $nl leads as without reloads; the broken config was refused"
