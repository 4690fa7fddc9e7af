#!/usr/bin/env bash
# e2e_topics: the start-up topic check (kafka_topics_prepare, daemon/kafka.c).
#
# Each case has its own prefix (topics, group, transactional ids):
#  (a) events with 3 partitions, feedback with 2: the daemon exits 1 within
#      30 s and says "... has 3 partitions but ... has 2: the inputs must be
#      co-partitioned".
#  (b) topics.create_internal=false and the internal topics (assign, leads
#      and teams changelogs, DLQ) missing: exits 1, naming the assign topic
#      and "topics.create_internal is off"; nothing is created.
#  (c) an input topic missing (feedback, then events): exits exactly 1 (no
#      crash) with "input topic ... does not exist".
#  (d) a leads changelog that exists with the wrong partition count: exits 1
#      with "has 2 partitions, needs 3".
#  (e) create_internal=true, events and feedback with 3 partitions and
#      topics.partitions=2: the daemon creates the leads changelog with 3
#      partitions (= events), assign, teams changelog (= assign), DLQ and
#      the handoff topics with 2, the changelogs compacted (its log line),
#      logs "topics ready: 3 lead partitions, 2 team partitions", runs, and
#      exits 0 on SIGTERM.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init topics

# A config template with create_internal and partitions replaced.
template() {
	local out=$1 create=$2 parts=$3
	sed -e "s|\"create_internal\": true|\"create_internal\": $create|" \
		-e "s|\"partitions\": 0|\"partitions\": $parts|" \
		"$HERE/e2e.json" >"$out"
	grep -q "\"create_internal\": $create" "$out" &&
		grep -q "\"partitions\": $parts" "$out" ||
		fail "could not make the config template $out"
}
template "$WORK/nocreate.tmpl" false 0
template "$WORK/create.tmpl" true 0
template "$WORK/create2.tmpl" true 2

# create TOPIC PARTITIONS [compact]: a topic, visible with every partition.
create() {
	local i=0
	"$LR_ADMIN" -b "$BOOTSTRAP" create "$@" >/dev/null || fail "could not create $1"
	until [ "$(e2e_partitions "$1")" = "$2" ]; do
		[ $i -lt 100 ] || fail "topic $1 not visible with $2 partitions after 10 s"
		sleep 0.1
		i=$((i + 1))
	done
}

# exists TOPIC: whether the broker knows TOPIC (watermarks answers).
exists() {
	local n
	n=$(e2e_partitions "$1" || true)
	[ "$n" -gt 0 ]
}

# must_fail CASE TEMPLATE PATTERN...: run a daemon under a fresh config from
# TEMPLATE; it must exit with status exactly 1 within 30 s, and its log must
# match every PATTERN (grep -F).
must_fail() {
	local tag=$1 tmpl=$2 log pid t0 p
	shift 2
	log="$WORK/daemon-$tag.log"
	E2E_JSON=$tmpl e2e_config "$WORK/$tag.json" "$tag" 50
	t0=$(date +%s)
	e2e_start "$WORK/$tag.json" "$log"
	pid=$DAEMON_PID
	e2e_wait_exit "$pid" 30 || fail "$tag: the daemon still runs after 30 s"
	[ "$EXIT_STATUS" = 1 ] || fail "$tag: exit status $EXIT_STATUS, want 1"
	for p in "$@"; do
		grep -qF -- "$p" "$log" || fail "$tag: no '$p' in $log"
	done
	note "$tag: exit 1 after $(($(date +%s) - t0)) s: $(grep -F -- "$1" "$log" | head -1)"
}

# (a) inputs not co-partitioned.
e2e_names "$BASE_PREFIX-a"
create "$EVENTS" 3
create "$FEEDBACK" 2
must_fail a "$WORK/create.tmpl" \
	"$EVENTS has 3 partitions but $FEEDBACK has 2" "must be co-partitioned"
for t in "$ASSIGN" "$LEADS" "$TEAMS" "$DLQ"; do
	! exists "$t" || fail "a: $t was created although the inputs are bad"
done

# (b) internal topics missing and create_internal off.
e2e_names "$BASE_PREFIX-b"
e2e_topics 1
must_fail b "$WORK/nocreate.tmpl" \
	"topic $ASSIGN does not exist and topics.create_internal is off"
for t in "$ASSIGN" "$LEADS" "$TEAMS" "$DLQ"; do
	! exists "$t" || fail "b: $t was created although create_internal is off"
done

# (c) an input topic missing: feedback, then events.
e2e_names "$BASE_PREFIX-c1"
create "$EVENTS" 1
must_fail c1 "$WORK/create.tmpl" "input topic $FEEDBACK does not exist"
e2e_names "$BASE_PREFIX-c2"
create "$FEEDBACK" 1
must_fail c2 "$WORK/create.tmpl" "input topic $EVENTS does not exist"

# (d) an existing leads changelog with the wrong partition count.
e2e_names "$BASE_PREFIX-d"
e2e_topics 3
create "$LEADS" 2 compact
must_fail d "$WORK/create.tmpl" "topic $LEADS has 2 partitions, needs 3"

# (e) create_internal=true: created with the right partition counts.
e2e_names "$BASE_PREFIX-e"
e2e_topics 3
E2E_JSON="$WORK/create2.tmpl" e2e_config "$WORK/e.json" e 50
log="$WORK/daemon-e.log"
e2e_start "$WORK/e.json" "$log"
pid=$DAEMON_PID
e2e_wait_log "$pid" "$log" 30 "topics ready:" -F
grep -qF "topics ready: 3 lead partitions, 2 team partitions" "$log" ||
	fail "e: $(grep -F "topics ready:" "$log")"
check_parts() {
	local t=$1 want=$2 have i=0
	# Created by the daemon just now: wait until every partition shows.
	while have=$(e2e_partitions "$t" || true) && [ "$have" != "$want" ]; do
		[ $i -lt 100 ] || fail "e: $t has $have partitions, want $want"
		sleep 0.1
		i=$((i + 1))
	done
}
check_parts "$LEADS" 3
check_parts "$ASSIGN" 2
check_parts "$TEAMS" 2
check_parts "$DLQ" 2
for team in emea amer enterprise inbound; do
	check_parts "$PREFIX.sales.handoffs.$team" 2
done
grep -qF "creating topic $LEADS (3 partitions, compacted)" "$log" ||
	fail "e: the leads changelog was not created compacted with 3 partitions"
grep -qF "creating topic $TEAMS (2 partitions, compacted)" "$log" ||
	fail "e: the teams changelog was not created compacted with 2 partitions"
grep -qF "creating topic $ASSIGN (2 partitions)" "$log" ||
	fail "e: the assign topic was not created (uncompacted) with 2 partitions"
# It runs: alive 2 s after the check, then a clean stop.
sleep 2
e2e_alive "$pid"
kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "e: no exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "e: exit status $EXIT_STATUS after SIGTERM"
echo "PASS: bad layouts exit 1 with their message; internal topics created with the right partition counts"
