#!/bin/sh
# bench_simulate.sh - throughput and memory of `leadrouter simulate`.
#
# usage: sh bench/bench_simulate.sh build/leadrouter
#
# Generates the inputs once with bench/gen_events.c (cached next to the
# binary, in BUILD/bench/), then for each input runs simulate RUNS times and
# reports the median: events per second (input from the page cache, handoffs
# to /dev/null) by wall clock and by CPU time (user + system: the fairer
# figure on a shared machine, where wall clock also counts waiting for a
# core), and peak RSS per tracked lead, net of the RSS of a run with zero
# events (the config, the buffers, the libraries). Under the table, each
# input's lowest and highest events/s by CPU time, and how many runs met
# the target: one process to the next varies more than a median shows.
# Targets: >= 1,000,000 events/s and <= 200 bytes of RSS per lead at 1M
# leads. Environment: RUNS (5), EVENTS (5000000), LEADS (1000000),
# BENCH_CONFIG (bench/bench.json).
set -eu

bin=${1:?usage: bench_simulate.sh path/to/leadrouter}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$(dirname "$bin")" && pwd)
dir=$build/bench
cfg=${BENCH_CONFIG:-$here/bench.json}
runs=${RUNS:-5}
events=${EVENTS:-5000000}
leads=${LEADS:-1000000}
mkdir -p "$dir"

gen=$dir/gen_events
if [ ! -x "$gen" ] || [ "$here/gen_events.c" -nt "$gen" ]; then
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		-o "$gen" "$here/gen_events.c" -lm
fi

# Input files are named by their parameters, so a change makes a new one.
input() {
	f=$dir/events-$1.jsonl
	if [ ! -s "$f" ] || [ "$gen" -nt "$f" ]; then
		echo "generating $f" >&2
		"$gen" $2 >"$f.tmp" && mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# One run: prints "peak-RSS-KiB cpu-seconds". GNU time when present; else
# VmHWM polled from /proc (which can miss growth in the last poll interval)
# and no CPU time (0: the table then shows wall-clock figures only).
run_once() {
	in=$1
	err=$2
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M %U %S' -o "$err.rss" "$bin" simulate \
			-c "$cfg" --summary-json <"$in" >/dev/null 2>"$err"
		awk '{print $1, $2 + $3}' "$err.rss"
		return
	fi
	"$bin" simulate -c "$cfg" --summary-json <"$in" >/dev/null 2>"$err" &
	pid=$!
	hwm=0
	while kill -0 "$pid" 2>/dev/null; do
		h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$h" ] && hwm=$h
		sleep 0.05
	done
	wait "$pid"
	echo "$hwm 0"
}

now_ns() {
	date +%s%N
}

# The first "NAME":number in FILE: the summary's own keys come before the
# per-team ones of the same name ("handoffs").
json_num() {
	grep -o "\"$1\":[0-9]*" "$2" | head -n 1 | cut -d: -f2
}

median() {
	sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# bench NAME FILE: RUNS timed runs; prints one table row.
bench() {
	name=$1
	in=$2
	err=$dir/last.err
	: >"$dir/times"
	: >"$dir/stats"
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now_ns)
		run_once "$in" "$err" >>"$dir/stats"
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$dir/times"
		i=$((i + 1))
	done
	ns=$(median <"$dir/times")
	rss=$(awk '{print $1}' "$dir/stats" | median)
	cpu=$(awk '{print $2}' "$dir/stats" | median)
	n=$(json_num events "$err")
	l=$(json_num leads "$err")
	tb=$(json_num lead_table_bytes "$err")
	h=$(json_num handoffs "$err")
	awk -v name="$name" -v n="$n" -v l="$l" -v ns="$ns" -v rss="$rss" \
		-v base="$base_rss" -v tb="${tb:-0}" -v h="$h" -v cpu="$cpu" 'BEGIN {
		eps = n / (ns / 1e9)
		ceps = cpu > 0 ? n / cpu : 0
		per = l > 0 ? (rss - base) * 1024 / l : 0
		tpl = l > 0 ? tb / l : 0
		printf "%-11s %8d %8d %8d %7.2f %7.2f %10.0f %10.0f %8.1f %8.0f %8.0f\n",
			name, n, l, h, ns / 1e9, cpu, eps, ceps, rss / 1024, per, tpl
	}'
	# every run's CPU figure, for the spread line under the table
	awk -v name="$name" -v n="$n" '$2 > 0 {
		e = n / $2
		if (k == 0 || e < lo) lo = e
		if (k == 0 || e > hi) hi = e
		k++
		met += e >= 1000000
	} END {
		if (k > 0)
			printf "%-11s %.0f .. %.0f; %d of %d runs at or above 1000000\n",
				name, lo, hi, met, k
	}' "$dir/stats" >>"$dir/spread"
}

skewed=$(input "n$events-l$leads-s1" "-n $events -l $leads -s 1")
touched=$(input "n$((leads * 2))-l$leads-s2-a" "-n $((leads * 2)) -l $leads -s 2 -a")

base_rss=$(run_once /dev/null "$dir/empty.err" | awk '{print $1}')

echo "leadrouter simulate benchmark: median of $runs runs, config $cfg"
echo "baseline (zero events) peak RSS: $((base_rss / 1024)) MiB"
printf "%-11s %8s %8s %8s %7s %7s %10s %10s %8s %8s %8s\n" run events leads \
	handoffs wall-s cpu-s "ev/s wall" "ev/s cpu" "RSS MiB" "B/lead" "tbl B/ld"
: >"$dir/spread"
bench "skewed" "$skewed"
bench "every-lead" "$touched"
if [ -s "$dir/spread" ]; then
	echo "ev/s cpu of each run, lowest .. highest (the host's noise):"
	cat "$dir/spread"
fi
echo "B/lead: (peak RSS - baseline) / leads; tbl B/ld: lead_table_bytes / leads"
echo "targets: >= 1000000 events/s; <= 200 RSS bytes/lead at 1M leads"
