# lib_e2e.sh - shared helpers of the end-to-end tests (tests/kafka/e2e_*.sh),
# sourced by them; bash only.
#
# Each test gets from tests/kafka/run.sh (or from its caller) BOOTSTRAP (the
# broker, 127.0.0.1 only) and LEADROUTER (the daemon binary); LR_TOOLS,
# TEST_TMP and TEST_ID are optional. e2e_init makes a unique prefix for every
# topic, the consumer group and the transactional ids of the run, a scratch
# directory, and an EXIT trap that kills every daemon the test started
# (TERM, then KILL after 5 s). Every wait in here is bounded.
#
# The config of a run is tests/kafka/e2e.json with the placeholders filled
# in (e2e_config; E2E_JSON names another template, e.g. to try a config
# workaround by hand). Topic names: $EVENTS, $FEEDBACK, $ASSIGN, $LEADS, $TEAMS,
# $DLQ and the handoff topics matching $HANDOFF_RE.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() {
	echo "$(date +%T) $*" >&2
}

# e2e_init NAME: checks the environment, sets the names, installs the trap.
e2e_init() {
	local name=$1
	[ -n "${BOOTSTRAP:-}" ] || fail "BOOTSTRAP is not set (run via tests/kafka/run.sh)"
	[ -n "${LEADROUTER:-}" ] && [ -x "$LEADROUTER" ] ||
		fail "LEADROUTER is not an executable: '${LEADROUTER:-}'"
	case $BOOTSTRAP in
	127.0.0.1:*) ;;
	*) fail "tests run only against 127.0.0.1 (BOOTSTRAP=$BOOTSTRAP)" ;;
	esac
	LR_TOOLS=${LR_TOOLS:-$(dirname "$LEADROUTER")/tests/kafka}
	for t in lr_produce lr_consume lr_admin; do
		[ -x "$LR_TOOLS/$t" ] || fail "missing tool $LR_TOOLS/$t (make $LR_TOOLS/$t)"
	done
	if [ -z "${TEST_TMP:-}" ]; then
		TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lr-$name.XXXXXX")
		OWN_TMP=1
	fi
	mkdir -p "$TEST_TMP"
	WORK=$TEST_TMP
	E2E_NAME=$name
	BASE_PREFIX="e2e-$name-${TEST_ID:-$$}-$RANDOM"
	e2e_names "$BASE_PREFIX"
	DAEMON_PIDS=()
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" ping >/dev/null 2>&1 ||
		fail "the broker at $BOOTSTRAP does not answer"
	note "prefix $PREFIX, scratch $WORK"
}

# e2e_names PREFIX: the names of one run's topics and group (a test that
# compares two runs on one broker switches between two prefixes).
e2e_names() {
	PREFIX=$1
	GROUP="$PREFIX-group"
	EVENTS="$PREFIX.marketing.events"
	FEEDBACK="$PREFIX.sales.feedback"
	ASSIGN="$PREFIX.leadrouter.assign"
	LEADS="$PREFIX.leadrouter.leads"
	TEAMS="$PREFIX.leadrouter.teams"
	DLQ="$PREFIX.leadrouter.dlq"
	HANDOFF_RE="^${PREFIX//./\\.}\\.sales\\.handoffs\\..*"
}

e2e_cleanup() {
	local rc=$? pid i
	trap - EXIT
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${DAEMON_PIDS[@]}"; do
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		for f in "$WORK"/daemon*.log; do
			[ -f "$f" ] || continue
			echo "---- last lines of $f ----" >&2
			tail -n 25 "$f" >&2
		done
		echo "scratch directory kept: $WORK" >&2
	elif [ "${OWN_TMP:-0}" = 1 ]; then
		rm -rf "$WORK"
	fi
	exit $rc
}

# e2e_config OUT INSTANCE [COMMIT_MS] [PREFIX]: a config for this run.
e2e_config() {
	local out=$1 inst=$2 commit=${3:-50} prefix=${4:-$PREFIX}
	sed -e "s|@BOOTSTRAP@|$BOOTSTRAP|g" -e "s|@PREFIX@|$prefix|g" \
		-e "s|@INSTANCE@|$inst|g" -e "s|@COMMIT_MS@|$commit|g" \
		"${E2E_JSON:-$HERE/e2e.json}" >"$out"
	"$LEADROUTER" --check-config -c "$out" >/dev/null ||
		fail "e2e config $out does not validate"
}

# e2e_topics PARTITIONS [PREFIX]: the input topics (events, feedback).
e2e_topics() {
	local p=$1 prefix=${2:-$PREFIX}
	"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" create "$prefix.marketing.events" "$p" >/dev/null ||
		fail "could not create $prefix.marketing.events"
	"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" create "$prefix.sales.feedback" "$p" >/dev/null ||
		fail "could not create $prefix.sales.feedback"
	# Visible in the metadata with every partition before anyone uses them.
	local t i
	for t in "$prefix.marketing.events" "$prefix.sales.feedback"; do
		i=0
		until [ "$(e2e_partitions "$t")" = "$p" ]; do
			[ $i -lt 100 ] || fail "topic $t not visible with $p partitions after 10 s"
			sleep 0.1
			i=$((i + 1))
		done
	done
}

# e2e_produce FILE [TOPIC]: JSON Lines into the events topic.
e2e_produce() {
	local f=$1 topic=${2:-$EVENTS}
	"$LR_TOOLS/lr_produce" -b "$BOOTSTRAP" -t "$topic" <"$f" 2>"$WORK/produce.log" ||
		{
			cat "$WORK/produce.log" >&2
			fail "could not produce $f to $topic"
		}
}

# e2e_start CFG LOG: start a daemon in the background; its pid in DAEMON_PID.
e2e_start() {
	"$LEADROUTER" -c "$1" >>"$2" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	note "started daemon pid $DAEMON_PID ($1)"
}

# e2e_wait_exit PID SECONDS: wait for the daemon PID (a child of this shell)
# to exit and put its status in EXIT_STATUS; returns 1 when it still runs
# after SECONDS.
e2e_wait_exit() {
	local pid=$1 secs=$2 i=0
	while kill -0 "$pid" 2>/dev/null; do
		[ $i -lt $((secs * 10)) ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	EXIT_STATUS=0
	wait "$pid" 2>/dev/null || EXIT_STATUS=$?
}

# e2e_alive PID: fail when the daemon exited.
e2e_alive() {
	kill -0 "$1" 2>/dev/null || fail "daemon $1 exited early"
}

# e2e_wait_log PID FILE SECONDS PATTERN [GREP-OPTION...]: wait for a line
# matching PATTERN in FILE while daemon PID runs; fail after SECONDS.
e2e_wait_log() {
	local pid=$1 file=$2 secs=$3 pat=$4 i=0
	shift 4
	until grep -q "$@" -e "$pat" "$file"; do
		e2e_alive "$pid"
		[ $i -lt $((secs * 10)) ] ||
			fail "no line matching '$pat' in $file within $secs s"
		sleep 0.1
		i=$((i + 1))
	done
}

# e2e_lag [TOPIC]: total lag of the group on a topic (-1 on error).
e2e_lag() {
	"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "${1:-$EVENTS}" --lag "$GROUP" 2>/dev/null |
		awk -F'\t' '$1 == "total" { print $5; found = 1 } END { if (!found) print -1 }'
}

# e2e_wait_drained SECONDS [PIDS...]: wait until the group committed the end
# of the events topic and of the assign topic (stage 2 done too). A daemon
# of PIDS that exits meanwhile fails the test, and so does a lag that does
# not move for 30 s (longer than a dead member's session and open
# transaction in e2e.json). End offsets are high watermarks, which count
# transaction markers; a consumer's position moves past them, but should a
# remainder of at most one per partition stay on the assign topic, it must
# hold still for 2 s.
e2e_wait_drained() {
	local secs=$1 i=0 lag alag prev="" stable=0 pid last="" still=0
	shift
	while :; do
		for pid in "$@"; do e2e_alive "$pid"; done
		lag=$(e2e_lag "$EVENTS")
		alag=""
		if [ "$lag" = 0 ]; then
			alag=$(e2e_lag "$ASSIGN")
			if [ "$alag" = 0 ]; then
				break
			fi
			if [ "$alag" != -1 ] && [ "$alag" = "$prev" ] &&
				[ "$alag" -le "$(e2e_partitions "$ASSIGN")" ]; then
				stable=$((stable + 1))
				[ $stable -lt 4 ] || break
			else
				stable=0
			fi
			prev=$alag
		fi
		if [ "$lag/$alag" = "$last" ]; then
			still=$((still + 1))
		else
			still=0
			last="$lag/$alag"
		fi
		if [ $still -ge 60 ]; then
			fail "no progress for 30 s: events lag $lag, assign lag ${alag:-?}, $(e2e_committed) events committed by group $GROUP$(
				[ "$(e2e_committed)" -gt 0 ] ||
					echo " (the daemon consumed nothing: does it start a new group at the end of the topics, auto.offset.reset=latest?)"
			)"
		fi
		[ $i -lt $((secs * 2)) ] ||
			fail "not drained after ${secs}s (events lag $lag, assign lag ${alag:-?})"
		sleep 0.5
		i=$((i + 1))
	done
	{
		date +%T.%N
		"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$EVENTS,$ASSIGN" --lag "$GROUP" 2>&1
	} >>"$WORK/drained.log"
	note "drained (events lag 0, assign lag ${alag:-0})"
}

e2e_partitions() {
	"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" watermarks "$1" 2>/dev/null | wc -l
}

# e2e_read TOPICS OUT [ARGS...]: every committed record of TOPICS (names or
# ^regex, comma-separated) into OUT; ends 3 s after the last record.
e2e_read() {
	local topics=$1 out=$2
	shift 2
	"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$topics" --idle 3000 \
		--timeout 120000 "$@" >"$out" 2>"$out.err" ||
		{
			cat "$out.err" >&2
			fail "could not read $topics"
		}
}

# json_field NAME: the first "NAME": value (string, number or literal) of
# each stdin line, or <none>.
json_field() {
	awk -v k="\"$1\":" '{
		i = index($0, k)
		if (!i) { print "<none>"; next }
		s = substr($0, i + length(k))
		if (match(s, /^"([^"\\]|\\.)*"/) || match(s, /^[^,}]*/))
			print substr(s, 1, RLENGTH)
		else
			print "<none>"
	}'
}

# handoff_keys IN OUT: "lead team rep handoff_id" per handoff JSON line of IN
# (one JSON object per line), sorted.
handoff_keys() {
	paste -d' ' <(json_field lead <"$1") <(json_field team <"$1") \
		<(json_field rep <"$1") <(json_field handoff_id <"$1") |
		LC_ALL=C sort >"$2"
}

# handoff_keys_norep IN OUT: "lead team handoff_id", sorted: with several
# input partitions the order in which one team's assign commands arrive is
# the consumer's interleaving of partitions, so weighted round robin may
# pick another rep than simulate; everything else must agree.
handoff_keys_norep() {
	paste -d' ' <(json_field lead <"$1") <(json_field team <"$1") \
		<(json_field handoff_id <"$1") | LC_ALL=C sort >"$2"
}

# hdr NAME: the value of header NAME from the headers column (JSON object)
# of lr_consume --headers lines on stdin, column COL (default 5).
hdr() {
	awk -F'\t' -v k="\"$1\":\"" -v c="${2:-5}" '{
		s = $c; i = index(s, k)
		if (!i) { print "<none>"; next }
		s = substr(s, i + length(k)); sub(/".*/, "", s); print s
	}'
}

# e2e_simulate CFG IN OUT: the handoffs simulate writes for IN (one per line)
# and the rejected lines in OUT.rejected.
e2e_simulate() {
	"$LEADROUTER" simulate -c "$1" <"$2" >"$3" 2>"$3.rejected" ||
		fail "simulate failed on $2"
}

# latest_per_key IN OUT: from lr_consume lines (topic, partition, key, value),
# the last value of each key: "key TAB value", sorted. Tombstones (empty
# values) delete the key.
latest_per_key() {
	awk -F'\t' '{ v[$3] = $4 } END { for (k in v) if (v[k] != "") print k "\t" v[k] }' "$1" |
		LC_ALL=C sort >"$2"
}

# dup_ids FILE: handoff ids that occur more than once in a handoff file.
dup_ids() {
	json_field handoff_id <"$1" | LC_ALL=C sort | uniq -d
}

# e2e_collect TAG: this run's handoffs into $WORK/TAG.handoffs.jsonl (values
# only) and the latest leads changelog record per key into
# $WORK/TAG.leads.tsv.
e2e_collect() {
	local tag=$1
	e2e_read "$HANDOFF_RE" "$WORK/$tag.handoffs.tsv"
	cut -f4 "$WORK/$tag.handoffs.tsv" >"$WORK/$tag.handoffs.jsonl"
	e2e_read "$LEADS" "$WORK/$tag.leads.raw"
	latest_per_key "$WORK/$tag.leads.raw" "$WORK/$tag.leads.tsv"
}

# e2e_clean_run TAG INPUT PARTITIONS: an uninterrupted run of one daemon
# over INPUT under the prefix BASE_PREFIX-TAG (its own topics and group),
# collected as TAG (e2e_collect). Switches the names back afterwards.
e2e_clean_run() {
	local tag=$1 input=$2 parts=$3 saved=$PREFIX pid
	e2e_names "$BASE_PREFIX-$tag"
	e2e_config "$WORK/$tag.json" "$tag" 50
	e2e_topics "$parts"
	e2e_produce "$input"
	e2e_start "$WORK/$tag.json" "$WORK/daemon-$tag.log"
	pid=$DAEMON_PID
	e2e_wait_drained 120 "$pid"
	kill -TERM "$pid"
	e2e_wait_exit "$pid" 15 || fail "clean run: no exit within 15 s of SIGTERM"
	[ "$EXIT_STATUS" = 0 ] || fail "clean run: exit status $EXIT_STATUS after SIGTERM"
	e2e_collect "$tag"
	note "clean run $tag: $(wc -l <"$WORK/$tag.handoffs.jsonl") handoffs, $(wc -l <"$WORK/$tag.leads.tsv") leads"
	e2e_names "$saved"
}

# e2e_compare_leads A B: the latest changelog record per lead of two runs
# must be the same (state depends only on each lead's own events).
e2e_compare_leads() {
	if ! diff "$WORK/$1.leads.tsv" "$WORK/$2.leads.tsv" >"$WORK/leads.diff"; then
		head -6 "$WORK/leads.diff" | cut -c1-400 >&2
		fail "final lead state differs between the $1 and the $2 run ($(grep -c '^[<>]' "$WORK/leads.diff") lines)"
	fi
}

# e2e_check_handoffs TAG EXPECTED: no handoff twice, and the same handoffs
# (lead, team, handoff id) as EXPECTED (simulate's output).
e2e_check_handoffs() {
	local tag=$1 expected=$2 dups
	dups=$(dup_ids "$WORK/$tag.handoffs.jsonl")
	[ -z "$dups" ] || fail "$tag: handoffs published twice: $(echo "$dups" | wc -l) ids, e.g. $(echo "$dups" | head -3 | tr '\n' ' ')"
	handoff_keys_norep "$expected" "$WORK/$tag.expected.keys"
	handoff_keys_norep "$WORK/$tag.handoffs.jsonl" "$WORK/$tag.keys"
	if ! diff "$WORK/$tag.expected.keys" "$WORK/$tag.keys" >"$WORK/$tag.keys.diff"; then
		head -10 "$WORK/$tag.keys.diff" >&2
		fail "$tag: handoffs differ from simulate (< simulate, > daemon): $(grep -c '^<' "$WORK/$tag.keys.diff") missing, $(grep -c '^>' "$WORK/$tag.keys.diff") extra"
	fi
}

# e2e_committed: the group's committed offsets on the events topic, summed.
e2e_committed() {
	"$LR_TOOLS/lr_consume" -b "$BOOTSTRAP" -t "$EVENTS" --lag "$GROUP" 2>/dev/null |
		awk -F'\t' '$1 == "total" { print $3; found = 1 } END { if (!found) print -1 }'
}

# e2e_produce_paced FILE RATE: produce FILE at RATE events/s in the
# background (pid in PRODUCER_PID, killed by the EXIT trap).
e2e_produce_paced() {
	"$LR_TOOLS/lr_produce" -b "$BOOTSTRAP" -t "$EVENTS" --rate "$2" <"$1" \
		2>"$WORK/produce-paced.log" &
	PRODUCER_PID=$!
	DAEMON_PIDS+=("$PRODUCER_PID")
}

# e2e_wait_producer SECONDS: wait for the paced producer; fail on error.
e2e_wait_producer() {
	e2e_wait_exit "$PRODUCER_PID" "$1" || fail "the producer still runs after $1 s"
	[ "$EXIT_STATUS" = 0 ] || {
		cat "$WORK/produce-paced.log" >&2
		fail "the producer failed"
	}
}

# e2e_wait_committed N SECONDS [PIDS...]: wait until the group committed at
# least N events (summed over partitions).
e2e_wait_committed() {
	local want=$1 secs=$2 i=0 c pid
	shift 2
	while :; do
		for pid in "$@"; do e2e_alive "$pid"; done
		c=$(e2e_committed)
		[ "$c" -lt "$want" ] || break
		[ $i -lt $((secs * 10)) ] || fail "only $c of $want events committed after ${secs}s"
		sleep 0.1
		i=$((i + 1))
	done
	COMMITTED=$c
}
