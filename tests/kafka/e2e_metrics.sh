#!/usr/bin/env bash
# e2e_metrics: the operations endpoint of a running daemon, with curl.
#
# One daemon listens on a free loopback port and drains a stream with bad
# and duplicate events (gen_stream.sh -b, -d). Asserted:
# - /healthz answers 200 "ok"; /readyz answers 200 once ready;
# - /metrics has the Prometheus 0.0.4 content type, one HELP and TYPE per
#   family, leadrouter_up 1, leadrouter_ready 1, build_info with a version;
#   the events counted (accepted + rejected + duplicate) are the stream's
#   lines, rejected ones are simulate's rejects and equal the DLQ counter,
#   handoffs and MQLs are simulate's handoffs, transactions committed,
#   every configured team has its handoffs_total series;
# - other paths answer 404, POST answers 405;
# - a second daemon asked to listen on the same port exits 1 at start-up
#   and says why;
# - with IPv6 loopback, "[::1]:PORT" serves /healthz too;
# - after SIGTERM (exit 0) the port is closed;
# - consumer lag: drained, leadrouter_consumer_lag has a series for each
#   events partition and every series is 0; with a backlog (a stream
#   produced before the start, read by a daemon that commits each record,
#   so it drains slowly whatever the machine), the events topic's lag is
#   > 0 and at most the group's committed lag; once a second instance
#   joins, each instance has a series for its own events partition only
#   (the revoked one's series is gone).
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init metrics
command -v curl >/dev/null || fail "curl is missing (make deps)"
ADMIN=${LR_ADMIN:-$LR_TOOLS/lr_admin}

port=$("$ADMIN" freeport) || fail "lr_admin freeport failed"
url="http://127.0.0.1:$port"

# with_listen IN OUT ADDR: the config IN with process.http_listen = ADDR.
# The stream is produced before the daemon starts; the daemon forces
# auto.offset.reset=earliest (the config rejects the key), so a group with
# no committed offsets still reads it.
with_listen() {
	sed -e "s|\"http_listen\": \"\"|\"http_listen\": \"$3\"|" "$1" >"$2"
	grep -qF "\"http_listen\": \"$3\"" "$2" || fail "could not set http_listen in $2"
}

# http METHOD URL OUT: the status code on stdout, the body in OUT, the
# headers in OUT.hdr; 000 when nothing answers. Bounded by --max-time.
http() {
	curl -s -g -o "$3" -D "$3.hdr" -w '%{http_code}' --max-time 5 \
		-X "$1" "$2" 2>/dev/null || true
}

# wait_status URL CODE SECONDS [PID]: until URL answers CODE.
wait_status() {
	local i=0 code
	while :; do
		[ -z "${4:-}" ] || e2e_alive "$4"
		code=$(http GET "$1" "$WORK/wait.body")
		[ "$code" != "$2" ] || return 0
		[ $i -lt $(($3 * 5)) ] || fail "$1 answered $code, not $2, for ${3}s"
		sleep 0.2
		i=$((i + 1))
	done
}

# metric NAME_WITH_LABELS: the value of one sample of the last scrape.
metric() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "none" }' \
		"$WORK/metrics.txt"
}

# family_sum NAME: the sum of all samples of a family (no suffixes).
family_sum() {
	awk -v k="$1" '$1 == k || index($1, k "{") == 1 { s += $2 } END { print s + 0 }' \
		"$WORK/metrics.txt"
}

# scrape URL OUT: GET URL/metrics into OUT; fail unless it answers 200.
scrape() {
	local code
	code=$(http GET "$1/metrics" "$2")
	[ "$code" = 200 ] || fail "$1/metrics answered $code"
}

# lag_samples FILE [TOPIC]: "topic partition value" per consumer lag sample
# of FILE (only TOPIC's when given), sorted by topic and partition.
lag_samples() {
	sed -n 's/^leadrouter_consumer_lag{topic="\([^"]*\)",partition="\([0-9]*\)"} \([0-9]*\)$/\1 \2 \3/p' "$1" |
		awk -v t="${2:-}" 't == "" || $1 == t' | LC_ALL=C sort -k1,1 -k2,2n
}

# metric_in FILE NAME_WITH_LABELS: as metric, from FILE; "none" if absent.
metric_in() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "none" }' "$1"
}

# lag_sum FILE TOPIC: the sum of TOPIC's lag samples (0 when none).
lag_sum() {
	lag_samples "$1" "$2" | awk '{ s += $3 } END { print s + 0 }'
}

e2e_config "$WORK/base.json" 0 50
with_listen "$WORK/base.json" "$WORK/run.json" "127.0.0.1:$port"
"$LEADROUTER" --check-config -c "$WORK/run.json" >/dev/null || fail "run.json does not validate"
e2e_topics 2
"$HERE/gen_stream.sh" -l 60 -s 5 -b 25 -d 15 >"$WORK/in.jsonl"
total=$(wc -l <"$WORK/in.jsonl")
e2e_simulate "$WORK/base.json" "$WORK/in.jsonl" "$WORK/expected.jsonl"
nbad=$(grep -c '^{"line":' "$WORK/expected.jsonl.rejected" || true)
nho=$(wc -l <"$WORK/expected.jsonl")
note "$total events, $nbad bad, $nho handoffs expected; http on port $port"

e2e_produce "$WORK/in.jsonl"
e2e_start "$WORK/run.json" "$WORK/daemon.log"
pid=$DAEMON_PID
wait_status "$url/healthz" 200 60 "$pid"
[ "$(cat "$WORK/wait.body")" = ok ] || fail "/healthz body is '$(cat "$WORK/wait.body")', not ok"
wait_status "$url/readyz" 200 60 "$pid"
note "/healthz and /readyz answer 200"
e2e_wait_drained 120 "$pid"

code=$(http GET "$url/metrics" "$WORK/metrics.txt")
[ "$code" = 200 ] || fail "/metrics answered $code"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/metrics.txt.hdr" ||
	fail "/metrics content type: $(grep -i '^content-type' "$WORK/metrics.txt.hdr")"
dups=$(grep -E '^# (HELP|TYPE) ' "$WORK/metrics.txt" | awk '{ print $2, $3 }' | sort | uniq -d)
[ -z "$dups" ] || fail "HELP/TYPE more than once: $dups"
nhelp=$(grep -c '^# HELP ' "$WORK/metrics.txt")
ntype=$(grep -c '^# TYPE ' "$WORK/metrics.txt")
[ "$nhelp" = "$ntype" ] && [ "$nhelp" -ge 15 ] || fail "$nhelp HELP and $ntype TYPE lines"
# Every sample line is "name[{labels}] value" with a number.
bad=$(grep -v '^#' "$WORK/metrics.txt" |
	grep -Evc '^leadrouter_[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [-+0-9.eE]+$' || true)
[ "$bad" = 0 ] || fail "$bad malformed sample lines"

[ "$(metric leadrouter_up)" = 1 ] || fail "leadrouter_up is $(metric leadrouter_up)"
[ "$(metric leadrouter_ready)" = 1 ] || fail "leadrouter_ready is $(metric leadrouter_ready)"
grep -q '^leadrouter_build_info{version="[^"]\+"} 1$' "$WORK/metrics.txt" || fail "no build_info"
events=$(family_sum leadrouter_events_total)
rejected=$(metric 'leadrouter_events_total{result="rejected"}')
dup=$(metric 'leadrouter_events_total{result="duplicate"}')
[ "$events" = "$total" ] || fail "events_total sums to $events for $total events"
[ "$rejected" = "$nbad" ] || fail "rejected $rejected, simulate rejects $nbad"
[ "$(family_sum leadrouter_dlq_total)" = "$nbad" ] || fail "dlq_total $(family_sum leadrouter_dlq_total), want $nbad"
[ "$dup" -gt 0 ] || fail "no duplicate counted (gen_stream -d 15)"
[ "$(family_sum leadrouter_handoffs_total)" = "$nho" ] ||
	fail "handoffs_total $(family_sum leadrouter_handoffs_total), simulate $nho"
[ "$(metric leadrouter_mql_total)" = "$nho" ] || fail "mql_total $(metric leadrouter_mql_total), want $nho"
# Every configured team has its series, whether or not it got a handoff.
for team in $(jq -r '.teams[].name' "$WORK/run.json"); do
	metric "leadrouter_handoffs_total{team=\"$team\",strategy=\"overflow\"}" | grep -q '^[0-9]' ||
		fail "no handoffs_total series for configured team $team"
done
[ "$(metric 'leadrouter_transactions_total{result="committed"}')" -gt 0 ] || fail "no commit counted"
[ "$(metric leadrouter_commit_seconds_count)" = "$(metric 'leadrouter_transactions_total{result="committed"}')" ] ||
	fail "commit_seconds_count differs from committed transactions"
[ "$(metric leadrouter_partitions_assigned)" -gt 0 ] || fail "no partitions assigned"
[ "$(metric leadrouter_leads)" -gt 0 ] || fail "no leads tracked"
[ "$(metric leadrouter_lead_state_bytes)" -gt 0 ] || fail "lead_state_bytes is 0"
note "/metrics: $events events ($rejected rejected, $dup duplicate), $nho handoffs, $(metric 'leadrouter_transactions_total{result="committed"}') commits"

# Drained: one lag series per events partition (both got events), and
# every series of every topic is 0. The daemon's position may pass the
# last transaction marker on the assign topic a fetch after the group's
# commit, so this polls, for at most 20 s.
grep -q '^# TYPE leadrouter_consumer_lag gauge$' "$WORK/metrics.txt" || fail "no leadrouter_consumer_lag family"
i=0
while :; do
	scrape "$url" "$WORK/lag.txt"
	nz=$(lag_samples "$WORK/lag.txt" | awk '$3 != 0' | head -3 | tr '\n' ';')
	[ -n "$nz" ] || break
	[ $i -lt 100 ] || fail "drained, but consumer lag is not 0 after 20 s: $nz"
	sleep 0.2
	i=$((i + 1))
done
[ "$(lag_samples "$WORK/lag.txt" "$EVENTS" | awk '{ print $2 }' | tr '\n' ' ')" = "0 1 " ] ||
	fail "drained: lag series of $EVENTS are for partitions '$(lag_samples "$WORK/lag.txt" "$EVENTS" | awk '{ print $2 }' | tr '\n' ' ')', not '0 1'"
note "drained: consumer lag 0 in $(lag_samples "$WORK/lag.txt" | wc -l) series: $(lag_samples "$WORK/lag.txt" | awk '{ print $1 "[" $2 "]" }' | sed "s|^$PREFIX\.||" | tr '\n' ' ')"

[ "$(http GET "$url/nope" "$WORK/nope")" = 404 ] || fail "/nope did not answer 404"
[ "$(http GET "$url/" "$WORK/root")" = 404 ] || fail "/ did not answer 404"
[ "$(http POST "$url/metrics" "$WORK/post")" = 405 ] || fail "POST /metrics did not answer 405"
[ "$(http DELETE "$url/healthz" "$WORK/del")" = 405 ] || fail "DELETE /healthz did not answer 405"
[ "$(http GET "$url/metrics?x=1" "$WORK/q")" = 200 ] || fail "/metrics?x=1 did not answer 200"

# The port is taken: a second daemon must refuse to start.
e2e_config "$WORK/base2.json" 1 50
with_listen "$WORK/base2.json" "$WORK/taken.json" "127.0.0.1:$port"
e2e_start "$WORK/taken.json" "$WORK/daemon-taken.log"
e2e_wait_exit "$DAEMON_PID" 20 || fail "a daemon on a taken port still runs after 20 s"
[ "$EXIT_STATUS" = 1 ] || fail "a daemon on a taken port exited $EXIT_STATUS, not 1"
grep -q 'http: cannot listen on 127.0.0.1:'"$port" "$WORK/daemon-taken.log" ||
	fail "no 'cannot listen' message: $(tail -n 3 "$WORK/daemon-taken.log")"
note "a second daemon on the same port exits 1: $(grep -o 'cannot listen.*' "$WORK/daemon-taken.log" | head -1)"
e2e_alive "$pid"

kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "no exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
[ "$(http GET "$url/healthz" "$WORK/after")" = 000 ] || fail "the port still answers after the daemon stopped"

# IPv6 loopback, when the machine has it.
if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	port6=$("$ADMIN" freeport)
	e2e_config "$WORK/base6.json" 0 50
	with_listen "$WORK/base6.json" "$WORK/v6.json" "[::1]:$port6"
	e2e_start "$WORK/v6.json" "$WORK/daemon-v6.log"
	pid=$DAEMON_PID
	wait_status "http://[::1]:$port6/healthz" 200 60 "$pid"
	kill -TERM "$pid"
	e2e_wait_exit "$pid" 15 || fail "IPv6 daemon: no exit within 15 s of SIGTERM"
	note "[::1]:$port6 serves /healthz"
else
	note "no IPv6 loopback: [::1] not checked"
fi

# Consumer lag with a backlog, on topics and a group of their own. A
# transaction every 20 records (commit_max_records) makes a stream of
# some ten thousand events take seconds to drain even on a fast machine
# (longer on a slow one), while a wake-up's batch of 500 records still
# holds the loop for only 25 commits, so scrapes are answered meanwhile.
e2e_names "$BASE_PREFIX-lag"
# lag_config OUT INSTANCE PORT: this phase's config.
lag_config() {
	e2e_config "$WORK/lag-base-$2.json" "$2" 50
	sed -e 's|"commit_max_records": 200|"commit_max_records": 20|' \
		"$WORK/lag-base-$2.json" >"$WORK/lag-slow-$2.json"
	grep -q '"commit_max_records": 20,' "$WORK/lag-slow-$2.json" ||
		fail "could not set commit_max_records in $WORK/lag-slow-$2.json"
	with_listen "$WORK/lag-slow-$2.json" "$1" "127.0.0.1:$3"
}
porta=$("$ADMIN" freeport)
portb=$("$ADMIN" freeport)
[ "$porta" != "$portb" ] || portb=$("$ADMIN" freeport)
lag_config "$WORK/lag-a.json" a "$porta"
lag_config "$WORK/lag-b.json" b "$portb"
urla="http://127.0.0.1:$porta"
urlb="http://127.0.0.1:$portb"
e2e_topics 2
"$HERE/gen_stream.sh" -l 2000 -s 9 >"$WORK/lag-in.jsonl"
ltotal=$(wc -l <"$WORK/lag-in.jsonl")
e2e_produce "$WORK/lag-in.jsonl"
e2e_start "$WORK/lag-a.json" "$WORK/daemon-lag-a.log"
pida=$DAEMON_PID
wait_status "$urla/readyz" 200 60 "$pida"

# get URL OUT: GET URL/metrics into OUT, which is left empty unless it
# answers 200 (a restore in progress holds the loop: try again).
get() {
	[ "$(http GET "$1/metrics" "$2")" = 200 ] || : >"$2"
}

# A scrape with the backlog: the events topic's lag is > 0, and at most
# the group's committed lag read just before (the position is at or past
# the committed offset; the events topic has no transaction markers).
i=0
while :; do
	e2e_alive "$pida"
	clag=$(e2e_lag "$EVENTS")
	get "$urla" "$WORK/lag-a.txt"
	dlag=$(lag_sum "$WORK/lag-a.txt" "$EVENTS")
	[ "$dlag" = 0 ] || break
	[ "$clag" != 0 ] || fail "the group drained all $ltotal events while every scrape showed no consumer lag on $EVENTS; last: $(lag_samples "$WORK/lag-a.txt" | tr '\n' ';')"
	[ $i -lt 300 ] || fail "no consumer lag for $EVENTS within 60 s (committed lag $clag): $(lag_samples "$WORK/lag-a.txt" | tr '\n' ';')"
	sleep 0.2
	i=$((i + 1))
done
[ "$clag" -gt 0 ] && [ "$dlag" -le "$clag" ] ||
	fail "consumer lag $dlag on $EVENTS, but the group's committed lag was $clag just before"
aparts=$(metric_in "$WORK/lag-a.txt" leadrouter_partitions_assigned)
note "backlog: consumer lag $dlag on $EVENTS (committed lag $clag) of $ltotal events: $(lag_samples "$WORK/lag-a.txt" "$EVENTS" | tr '\n' ';')"

# A second instance joins: the range assignor gives each one events
# partition. Once B is ready and A holds fewer partitions, more events go
# to both partitions, so each instance reads from its own partition. Each
# must then have a series for its own events partition only: one left
# over from before the rebalance fails this.
e2e_start "$WORK/lag-b.json" "$WORK/daemon-lag-b.log"
pidb=$DAEMON_PID
wait_status "$urlb/readyz" 200 90 "$pidb"
i=0
while :; do
	e2e_alive "$pida"
	get "$urla" "$WORK/lag-a.txt"
	n=$(metric_in "$WORK/lag-a.txt" leadrouter_partitions_assigned)
	[ "$n" = none ] || [ "$n" -ge "$aparts" ] || break
	[ $i -lt 300 ] || fail "instance A still holds $n partitions 60 s after B was ready"
	sleep 0.2
	i=$((i + 1))
done
"$HERE/gen_stream.sh" -l 100 -s 10 >"$WORK/lag-in2.jsonl"
e2e_produce "$WORK/lag-in2.jsonl"
i=0
while :; do
	e2e_alive "$pida"
	e2e_alive "$pidb"
	get "$urla" "$WORK/lag-a.txt"
	get "$urlb" "$WORK/lag-b.txt"
	pa=$(lag_samples "$WORK/lag-a.txt" "$EVENTS" | awk '{ print $2 }' | tr '\n' ' ')
	pb=$(lag_samples "$WORK/lag-b.txt" "$EVENTS" | awk '{ print $2 }' | tr '\n' ' ')
	if [ -s "$WORK/lag-a.txt" ] && [ -s "$WORK/lag-b.txt" ] &&
		[ "$(echo "$pa" | wc -w)" = 1 ] && [ "$(echo "$pb" | wc -w)" = 1 ] &&
		[ "$pa" != "$pb" ]; then
		break
	fi
	[ $i -lt 300 ] || fail "60 s after the rebalance, lag series of $EVENTS: instance A partitions '$pa', B '$pb' (want one each, not the same); A assigned $(metric_in "$WORK/lag-a.txt" leadrouter_partitions_assigned), B $(metric_in "$WORK/lag-b.txt" leadrouter_partitions_assigned)"
	sleep 0.2
	i=$((i + 1))
done
note "after the rebalance: instance A has the series of $EVENTS [${pa% }], B of [${pb% }]"
kill -TERM "$pida" "$pidb"
e2e_wait_exit "$pida" 30 || fail "lag instance A: no exit within 30 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "lag instance A: exit status $EXIT_STATUS after SIGTERM"
e2e_wait_exit "$pidb" 30 || fail "lag instance B: no exit within 30 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "lag instance B: exit status $EXIT_STATUS after SIGTERM"
grep -h 'pipeline: stats:' "$WORK/daemon-lag-a.log" "$WORK/daemon-lag-b.log" | sed 's/^/lag run: /' >&2

echo "PASS: /healthz, /readyz and /metrics served; counters match simulate; consumer lag > 0 with a backlog, 0 drained, per instance after a rebalance; 404/405; taken port exits 1"
