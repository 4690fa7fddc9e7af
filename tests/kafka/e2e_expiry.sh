#!/usr/bin/env bash
# e2e_expiry: idle leads are deleted with a tombstone on the leads changelog,
# and a restart does not bring them back.
#
# One partition, process.lead_idle_ttl_days 1 and lead_min_score 1000 (so
# any score counts as decayed). Lead A gets three events at day 0
# (2026-03-02), lead B two at day 3 (2026-03-05): the partition's clock (its
# latest event time) is day 3, so A is idle for 3 days > 1 and the sweep
# (every EXPIRE_PERIOD_MS, 10 s) deletes it; B is not idle. Asserted, within
# 45 s: the changelog (read_committed) holds a live record of A, then a
# tombstone (null value) for A as A's last record, and a live record for B
# as B's last. Then SIGTERM (exit 0) and restart: the daemon restores the
# partition (its log line says "now 1 lead(s)"); one more event for B (day
# 3, +1 min) is processed (a new live record for B), and for 12 s after the
# restore (more than one sweep) no record for A appears: the restored state
# has no A (had the restore kept A, the next sweep would tombstone it
# again).
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init expiry

sed -e 's|"lead_idle_ttl_days": 365|"lead_idle_ttl_days": 1|' \
	-e 's|"lead_min_score": 0.5|"lead_min_score": 1000|' \
	"$HERE/e2e.json" >"$WORK/expiry.tmpl"
grep -q '"lead_idle_ttl_days": 1,' "$WORK/expiry.tmpl" &&
	grep -q '"lead_min_score": 1000' "$WORK/expiry.tmpl" ||
	fail "could not make the config template"
export E2E_JSON="$WORK/expiry.tmpl"

A="expiry-lead-a"
B="expiry-lead-b"
ev() { # ev USER MSGID TIME PATH: a page view
	printf '{"type":"page","userId":"%s","messageId":"%s","timestamp":"%s","name":"P","properties":{"path":"%s"}}\n' \
		"$1" "$2" "$3" "$4"
}
{
	ev "$A" m-a-1 2026-03-02T00:00:00.000Z /docs/a
	ev "$A" m-a-2 2026-03-02T00:00:10.000Z /pricing
	ev "$A" m-a-3 2026-03-02T00:00:20.000Z /docs/b
	ev "$B" m-b-1 2026-03-05T00:00:00.000Z /docs/a
	ev "$B" m-b-2 2026-03-05T00:00:10.000Z /pricing
} >"$WORK/in1.jsonl"
ev "$B" m-b-3 2026-03-05T00:01:00.000Z /docs/c >"$WORK/in2.jsonl"

e2e_config "$WORK/expiry.json" 0 50
e2e_topics 1
e2e_produce "$WORK/in1.jsonl"

# read_leads OUT: the committed leads changelog now (ends 1.5 s after the
# last record).
read_leads() {
	"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$LEADS" --idle 1500 \
		--timeout 30000 >"$1" 2>"$1.err" || {
		cat "$1.err" >&2
		fail "could not read $LEADS"
	}
}
# last_value FILE KEY: "live", "tombstone" or "none" for KEY's last record.
last_value() {
	awk -F'\t' -v k="$2" '$3 == k { v = ($4 == "" ? "tombstone" : "live") }
		END { print v == "" ? "none" : v }' "$1"
}

e2e_start "$WORK/expiry.json" "$WORK/daemon-1.log"
pid=$DAEMON_PID
e2e_wait_drained 60 "$pid"
t0=$(date +%s)
while :; do
	e2e_alive "$pid"
	read_leads "$WORK/leads1.tsv"
	[ "$(last_value "$WORK/leads1.tsv" "$A")" != tombstone ] || break
	[ $(($(date +%s) - t0)) -lt 45 ] ||
		fail "no tombstone for $A within 45 s (last record of A: $(last_value "$WORK/leads1.tsv" "$A"))"
	sleep 1
done
note "tombstone for $A after $(($(date +%s) - t0)) s"
awk -F'\t' -v k="$A" '$3 == k && $4 != "" { f = 1 } END { exit !f }' "$WORK/leads1.tsv" ||
	fail "no live record of $A before its tombstone"
[ "$(last_value "$WORK/leads1.tsv" "$B")" = live ] ||
	fail "the last record of $B is $(last_value "$WORK/leads1.tsv" "$B"), want live"
ntomb=$(awk -F'\t' -v k="$A" '$3 == k && $4 == ""' "$WORK/leads1.tsv" | wc -l)
[ "$ntomb" = 1 ] || fail "$ntomb tombstones for $A, want 1"

# Restart: A stays deleted.
kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "no exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
read_leads "$WORK/leads1.tsv"
n1=$(wc -l <"$WORK/leads1.tsv")
[ "$(last_value "$WORK/leads1.tsv" "$A")" = tombstone ] ||
	fail "after the stop, the last record of $A is $(last_value "$WORK/leads1.tsv" "$A")"

e2e_start "$WORK/expiry.json" "$WORK/daemon-2.log"
pid=$DAEMON_PID
e2e_wait_log "$pid" "$WORK/daemon-2.log" 30 "from $LEADS:" -F
t0=$(date +%s)
note "restart: $(grep -F "from $LEADS:" "$WORK/daemon-2.log" | tail -1)"
grep -F "from $LEADS:" "$WORK/daemon-2.log" | tail -1 | grep -qF "now 1 lead(s)" ||
	fail "the restored state does not hold exactly one lead (B)"
e2e_produce "$WORK/in2.jsonl"
e2e_wait_drained 60 "$pid"
while [ $(($(date +%s) - t0)) -lt 12 ]; do
	e2e_alive "$pid"
	sleep 1
done
read_leads "$WORK/leads2.tsv"
head -n "$n1" "$WORK/leads2.tsv" | cmp -s - "$WORK/leads1.tsv" ||
	fail "the changelog before the restart changed"
tail -n +"$((n1 + 1))" "$WORK/leads2.tsv" >"$WORK/new.tsv"
awk -F'\t' -v k="$B" '$3 == k && $4 != "" { f = 1 } END { exit !f }' "$WORK/new.tsv" ||
	fail "no new record for $B after the restart ($(wc -l <"$WORK/new.tsv") new records)"
if awk -F'\t' -v k="$A" '$3 == k { f = 1 } END { exit !f }' "$WORK/new.tsv"; then
	fail "records for $A after the restart: it was restored ($(awk -F'\t' -v k="$A" '$3 == k' "$WORK/new.tsv" | wc -l) records)"
fi
[ "$(last_value "$WORK/leads2.tsv" "$B")" = live ] || fail "$B is not live at the end"
echo "PASS: idle lead tombstoned within the sweep, active lead kept; not resurrected by a restart"
