#!/usr/bin/env bash
# bench_kafka.sh - leadrouter against a real Kafka broker: throughput next
# to a pass-through baseline, and event-to-handoff latency.
#
# usage: sh bench/bench_kafka.sh build/leadrouter      (make bench-kafka)
#
# Starts its own single-node broker (tests/kafka/broker.sh, stopped on exit),
# preloads EVENTS events from bench/gen_events (LEADS leads, the rules of
# bench/bench.json) into a topic with PARTITIONS partitions, then:
#  (a) pass-through: build/tests/kafka/lr_passthrough, the daemon's Kafka
#      setup with no processing (consumer group, read_committed, one
#      transactional producer, offsets sent to the transaction, commit every
#      100 ms or 1,000 records: the daemon's defaults), copies the backlog;
#  (b) leadrouter drains the same backlog with bench/bench.json (its own
#      group and internal topics per run).
#  Throughput = events committed per second by the group, measured from the
#  first committed offset that moves to the moment the committed offsets
#  reach the end of the topic (lr_consume --lag --wait-lag 0, polling every
#  50 ms): start-up, group join and state restore are left out. Each is run
#  RUNS times; the table quotes the median.
#  (c) latency, LAT_RUNS times (a p99 of one 20-s run is noisy): a fresh
#      daemon and topics, events (tests/kafka/gen_stream.sh) produced
#      at RATE/s for about LAT_SECONDS s with their "timestamp" set to the
#      moment they are produced (lr_produce --stamp), so a handoff's
#      qualified_at_ms is when its qualifying event entered Kafka. lr_consume --latency qualified_at_ms reads the handoff
#      topics read_committed and reports, per handoff, (receipt time - that):
#      what a rep's consumer sees, both commits included; and (CreateTime
#      of the handoff record - that): until the daemon produced it, before
#      its transaction committed.
# Both run with the daemon's own Kafka defaults (lr_passthrough sets the
# same ones: producer retry.backoff.ms=20, consumer fetch.wait.max.ms=50;
# see README.md, "Configuration reference"); KAFKA_EXTRA (default none) adds the same producer
# settings to both, e.g. "retry.backoff.ms=10".
#
# Environment: EVENTS (500000), LEADS (100000), PARTITIONS (6), RUNS (3),
# RATE (1000), LAT_SECONDS (20), LAT_RUNS (3), KAFKA_EXTRA (""), BOOTSTRAP (use a running broker instead).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

bin=${1:?usage: bench_kafka.sh path/to/leadrouter}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
build=$(dirname "$bin")
tools=$build/tests/kafka
events=${EVENTS:-500000}
leads=${LEADS:-100000}
parts=${PARTITIONS:-6}
runs=${RUNS:-3}
rate=${RATE:-1000}
lat_secs=${LAT_SECONDS:-20}
lat_runs=${LAT_RUNS:-3}
extra=${KAFKA_EXTRA-}
id="bench-$(date +%s)-$$"

make -s -C "$root" BUILD="$build" "$tools/lr_produce" "$tools/lr_consume" \
	"$tools/lr_passthrough" "$tools/lr_admin" >&2
mkdir -p "$build/bench"
gen=$build/bench/gen_events
if [ ! -x "$gen" ] || [ "$here/gen_events.c" -nt "$gen" ]; then
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		-o "$gen" "$here/gen_events.c" -lm
fi
input=$build/bench/kafka-events-$events-$leads.jsonl
if [ ! -s "$input" ] || [ "$gen" -nt "$input" ]; then
	"$gen" -n "$events" -l "$leads" >"$input.tmp"
	mv "$input.tmp" "$input"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-kafka.XXXXXX")
kdir=""
pids=()
cleanup() {
	local rc=$? p
	trap - EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	[ -z "$kdir" ] || sh "$root/tests/kafka/broker.sh" stop "$kdir" || true
	if [ $rc -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work" "$kdir"; else echo "kept: $work $kdir" >&2; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${BOOTSTRAP:-}" ]; then
	kdir=$(mktemp -d "${TMPDIR:-/tmp}/bench-broker.XXXXXX")
	# A production broker's JVM (kafka-server-start.sh's heap and
	# kafka-run-class.sh's flags, full JIT), not the tests' quick-starting
	# one: the broker's speed is part of every figure here.
	out=$(KAFKA_HEAP="-Xmx1G -Xms1G" \
		KAFKA_JVM_FLAGS="-XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent" \
		LR_ADMIN="$tools/lr_admin" sh "$root/tests/kafka/broker.sh" start "$kdir")
	BOOTSTRAP=${out#BOOTSTRAP=}
fi
case $BOOTSTRAP in 127.0.0.1:*) ;; *) echo "127.0.0.1 only" >&2 && exit 2 ;; esac
"$tools/lr_admin" -b "$BOOTSTRAP" ping >/dev/null || { echo "broker not answering" >&2; exit 1; }

log() { echo "$(date +%T) $*" >&2; }

in_topic="$id.marketing.events"
"$tools/lr_admin" -b "$BOOTSTRAP" create "$in_topic" "$parts" >/dev/null
"$tools/lr_admin" -b "$BOOTSTRAP" create "$id.sales.feedback" "$parts" >/dev/null
log "preloading $events events ($(du -h "$input" | cut -f1)) into $in_topic ($parts partitions)"
"$tools/lr_produce" -b "$BOOTSTRAP" -t "$in_topic" <"$input" 2>"$work/preload.log" ||
	{ cat "$work/preload.log" >&2; exit 1; }
log "$(tail -n 1 "$work/preload.log")"

xflags=()
kafka_json=""
if [ -n "$extra" ]; then
	for kv in $extra; do
		xflags+=(-X "$kv")
		kafka_json="$kafka_json, \"${kv%%=*}\": \"${kv#*=}\""
	done
fi

# A config for one daemon run: bench.json with this broker, the shared
# input topic (or $3) and run-specific internal topics, group and ids.
# The daemon forces auto.offset.reset=earliest (config rejects the key), so a
# new group reads the preloaded backlog.
make_config() {
	local out=$1 p=$2 events_topic=${3:-$in_topic}
	sed -e "s|\"bootstrap.servers\": \"[^\"]*\"|\"bootstrap.servers\": \"$BOOTSTRAP\"$kafka_json|" \
		-e "s|\"events\": \"marketing.events\"|\"events\": \"$events_topic\"|" \
		-e "s|\"feedback\": \"sales.feedback\"|\"feedback\": \"$id.sales.feedback\"|" \
		-e "s|\"leadrouter\.|\"$p.leadrouter.|g" \
		-e "s|\"sales.handoffs.|\"$p.sales.handoffs.|" \
		-e "s|\"group_id\": \"[^\"]*\"|\"group_id\": \"$p-group\"|" \
		-e "s|\"transactional_id_prefix\": \"[^\"]*\"|\"transactional_id_prefix\": \"$p-\"|" \
		-e "s|\"http_listen\": \"[^\"]*\"|\"http_listen\": \"\"|" \
		-e "s|\"log_level\": \"[^\"]*\"|\"log_level\": \"info\"|" \
		"$here/bench.json" >"$out"
	"$bin" --check-config -c "$out" >/dev/null
}

# measure GROUP CMD...: run CMD in the background and the lag watcher on
# GROUP; prints the events/s between the first committed offset that moved
# and the end.
measure() {
	local group=$1 pid wpid
	shift
	"$tools/lr_consume" -b "$BOOTSTRAP" -t "$in_topic" --lag "$group" \
		--wait-lag 0 --timeout 900000 >"$work/watch.out" 2>&1 &
	wpid=$!
	pids+=("$wpid")
	"$@" >>"$work/proc.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	if ! wait "$wpid"; then
		echo "lag watcher failed: $(cat "$work/watch.out")" >&2
		tail -n 20 "$work/proc.log" >&2
		exit 1
	fi
	kill -TERM "$pid" 2>/dev/null || true
	local i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	END {
		ms = v["end_ms"] - v["first_ms"]; n = v["committed_end"] - v["committed_first"]
		if (v["first_ms"] < 0 || ms <= 0) { print "0 0 0"; exit }
		printf "%.0f %.2f %.2f\n", n * 1000 / ms, ms / 1000, v["end_ms"] / 1000
	}' "$work/watch.out"
}

median() { tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

pt=() lr=()
for r in $(seq 1 "$runs"); do
	g="$id-pt$r"
	"$tools/lr_admin" -b "$BOOTSTRAP" create "$g.out" "$parts" >/dev/null
	read -r eps secs total <<<"$(measure "$g" "$tools/lr_passthrough" -b "$BOOTSTRAP" \
		-i "$in_topic" -o "$g.out" -g "$g" --txn-id "$g" "${xflags[@]}")"
	log "pass-through run $r: $eps events/s (${secs}s draining, ${total}s from start)"
	pt+=("$eps")
	p="$id-lr$r"
	make_config "$work/lr$r.json" "$p"
	read -r eps secs total <<<"$(measure "$p-group" "$bin" -c "$work/lr$r.json")"
	log "leadrouter run $r: $eps events/s (${secs}s draining, ${total}s from start)"
	lr+=("$eps")
done
pt_med=$(echo "${pt[@]}" | median)
lr_med=$(echo "${lr[@]}" | median)

# (c) latency: LAT_RUNS runs, each with a fresh daemon and topics, after a
# 5-s warm-up run that is shown but not counted (the broker has just
# drained the throughput runs' backlog; its first light-load run is
# slower). latency_run N SECONDS writes the run's "visible:" and
# "produced:" lines into $work/latN.out.
latency_run() {
	local r=$1 secs=$2 p="$id-lat$1" lat_in dpid cpid i nlat
	lat_in="$p.marketing.events"
	"$tools/lr_admin" -b "$BOOTSTRAP" create "$lat_in" "$parts" >/dev/null
	# The daemon refuses an input topic its metadata does not show yet.
	i=0
	until [ "$("$tools/lr_admin" -b "$BOOTSTRAP" watermarks "$lat_in" 2>/dev/null | wc -l)" = "$parts" ]; do
		[ $i -lt 100 ] || { echo "$lat_in has no $parts partitions after 10 s" >&2; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done
	make_config "$work/lat$r.json" "$p" "$lat_in"
	"$bin" -c "$work/lat$r.json" >"$work/lat$r-daemon.log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	i=0
	until grep -q 'pipeline: ready' "$work/lat$r-daemon.log"; do
		kill -0 "$dpid" 2>/dev/null || { tail "$work/lat$r-daemon.log" >&2; exit 1; }
		[ $i -lt 600 ] || { echo "latency daemon not ready in 60 s" >&2; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done
	"$tools/lr_consume" -b "$BOOTSTRAP" -t "^${p//./\\.}\\.sales\\.handoffs\\..*" \
		--latency qualified_at_ms --idle 5000 --min-ms $(((secs + 2) * 1000)) \
		--timeout $(((secs + 60) * 1000)) >"$work/lat$r.out" 2>"$work/lat$r.err" &
	cpid=$!
	pids+=("$cpid")
	# tests/kafka/gen_stream.sh: about 60% of its leads qualify (at their
	# 6th of 8 events) under bench.json's rules too, so a run yields
	# ~1,500 handoffs; gen_events' traffic qualifies too rarely for a p99
	# in 20 s. Every event's timestamp becomes its produce time.
	nlat=$((rate * secs))
	log "latency run $r: $nlat events at $rate/s"
	"$root/tests/kafka/gen_stream.sh" -l $((nlat * 10 / 76)) -s 7 |
		sed 's/"timestamp":"[^"]*"/"timestamp":"@NOW@"/' |
		"$tools/lr_produce" -b "$BOOTSTRAP" -t "$lat_in" --rate "$rate" --stamp 2>"$work/lat$r-produce.log"
	wait "$cpid" || true
	grep -q '^visible:' "$work/lat$r.out" || {
		cat "$work/lat$r.err" >&2
		echo "the latency consumer failed" >&2
		exit 1
	}
	kill -TERM "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
}

latency_run 0 5
for r in $(seq 1 "$lat_runs"); do latency_run "$r" "$lat_secs"; done
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

echo
echo "leadrouter Kafka benchmark: $events events, $leads leads, $parts partitions; commit every 100 ms or 1000 records; extra producer settings: ${extra:-none (daemon defaults)}"
echo "broker: Kafka $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/tests/kafka/pom.xml") (single node, loopback); librdkafka $(pkg-config --modversion rdkafka); $(nproc) CPUs"
printf '%-26s' "throughput (events/s)"
for r in $(seq 1 "$runs"); do printf '%10s' "run $r"; done
printf '%10s\n' "median"
printf '%-26s' "pass-through"
for v in "${pt[@]}"; do printf '%10s' "$v"; done
printf '%10s\n' "$pt_med"
printf '%-26s' "leadrouter"
for v in "${lr[@]}"; do printf '%10s' "$v"; done
printf '%10s\n' "$lr_med"
awk -v a="$lr_med" -v b="$pt_med" 'BEGIN { if (b > 0) printf "%-26s%10.2f\n", "ratio leadrouter/pass", a / b }'
echo "latency at $rate events/s, $lat_runs runs of ${lat_secs}s (each line: one run; then the median of the runs)"
printf '%-26s%8s%8s%8s%8s%8s\n' "event -> handoff (ms)" count p50 p90 p99 max
lat_row() { # LABEL LINE
	printf '%-26s%8s%8s%8s%8s%8s\n' "$1" "$(field "$2" count)" "$(field "$2" p50_ms)" \
		"$(field "$2" p90_ms)" "$(field "$2" p99_ms)" "$(field "$2" max_ms)"
}
for kind in visible produced; do
	label="visible (read_committed)"
	[ $kind = visible ] || label="produced (CreateTime)"
	lat_row "  warm-up, not counted" "$(grep "^$kind:" "$work/lat0.out" || echo "$kind: count=0")"
	rows=()
	for r in $(seq 1 "$lat_runs"); do
		rows+=("$(grep "^$kind:" "$work/lat$r.out" || echo "$kind: count=0")")
		lat_row "$label" "${rows[-1]}"
	done
	med="$kind:"
	for k in count p50_ms p90_ms p99_ms max_ms; do
		med="$med $k=$(for row in "${rows[@]}"; do field "$row" $k; done | median)"
	done
	lat_row "  median of $lat_runs" "$med"
done
