#!/bin/sh
# Real-broker test driver (make test-kafka):
#
#   sh tests/kafka/run.sh build/leadrouter [TEST...]
#
# Fetches the Kafka jars (cached), starts one single-node broker in a
# temporary directory (stopped by a trap on exit, whatever happens), runs
# smoke_txn (librdkafka transactions against this broker), the mock-cluster
# tests (mock_pipeline, mock_txn_resume, mock_restore), then every
# tests/kafka/e2e_*.sh, each with its output prefixed by its name. TEST
# arguments (e.g. smoke_txn e2e_restart) run only the named tests.
#
# Each e2e script gets in its environment:
#   BOOTSTRAP   host:port of the broker
#   LEADROUTER  absolute path of the daemon binary
#   KAFKA_DIR   the broker's directory (server.properties, broker.log)
#   LR_TOOLS    directory of the C helper tools (lr_admin, lr_produce, ...)
#   LR_ADMIN    path of lr_admin (topics, watermarks, committed offsets)
#   BROKER_SH   path of tests/kafka/broker.sh (BROKER_SH topic "$KAFKA_DIR" ...)
#   TEST_TMP    an empty scratch directory for this test
#   TEST_ID     a short id unique to this run, to make topic and group names
#               unique (the broker is shared by all tests)
# A script passes with exit status 0; it must clean up its own processes.
#
# Environment: BOOTSTRAP set = use that running broker instead of starting
# one (with KAFKA_DIR = its directory, if broker.sh started it);
# E2E_TIMEOUT = seconds per test (default 300); KEEP_KAFKA_DIR=1 keeps the
# broker directory even when everything passed.
#
# Ends with exactly one line "N passed, M failed"; the exit status is
# non-zero when a test failed or the broker could not start.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BROKER_SH="$HERE/broker.sh"

[ $# -ge 1 ] || {
	echo "usage: sh tests/kafka/run.sh path/to/leadrouter [TEST...]" >&2
	exit 2
}
LEADROUTER=$1
shift
[ -x "$LEADROUTER" ] || {
	echo "run.sh: $LEADROUTER is not an executable (run make first)" >&2
	exit 2
}
LEADROUTER=$(cd "$(dirname "$LEADROUTER")" && pwd)/$(basename "$LEADROUTER")
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
TEST_ID=$(date +%s)$$

# The list of tests: smoke_txn first, the mock-cluster fault-injection
# tests (they need no broker, but run here to share the tool build), then
# the e2e scripts in name order.
TESTS="smoke_txn mock_pipeline mock_txn_resume mock_restore"
for f in "$HERE"/e2e_*.sh; do
	[ -e "$f" ] || continue
	TESTS="$TESTS $(basename "$f" .sh)"
done
if [ $# -gt 0 ]; then
	for want in "$@"; do
		case " $TESTS " in
		*" $want "*) ;;
		*)
			echo "run.sh: no test named '$want' (have: $TESTS)" >&2
			exit 2
			;;
		esac
	done
	TESTS="$*"
fi
NTESTS=$(echo "$TESTS" | wc -w)

# The C helpers: the Makefile builds tests/kafka/*.c into
# BUILD/tests/kafka (BUILD = the daemon's directory); make them here too
# (a no-op under make test-kafka), so this script also runs alone. With
# LR_TOOLS set, the tools must already be there.
if [ -z "${LR_TOOLS:-}" ]; then
	BUILD=$(dirname "$LEADROUTER")
	LR_TOOLS="$BUILD/tests/kafka"
	bins=""
	for src in "$HERE"/*.c; do
		bins="$bins $LR_TOOLS/$(basename "$src" .c)"
	done
	# shellcheck disable=SC2086
	if ! make -s -C "$ROOT" BUILD="$BUILD" $bins >&2; then
		echo "run.sh: could not build the test tools in $LR_TOOLS"
		echo "0 passed, $NTESTS failed"
		exit 1
	fi
fi
for tool in lr_admin smoke_txn mock_pipeline mock_txn_resume mock_restore; do
	[ -x "$LR_TOOLS/$tool" ] || {
		echo "run.sh: $LR_TOOLS/$tool is missing"
		echo "0 passed, $NTESTS failed"
		exit 1
	}
done
LR_ADMIN="$LR_TOOLS/lr_admin"

KAFKA_DIR=${KAFKA_DIR:-}
OWN_BROKER=0
CURRENT=""
SUMMARY=0
STARTED=0
passed=0
failed=0
failed_names=""

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$CURRENT" ] && [ -s "$CURRENT" ]; then
		kill -TERM "-$(cat "$CURRENT")" 2>/dev/null || true
		sleep 1
		kill -KILL "-$(cat "$CURRENT")" 2>/dev/null || true
	fi
	if [ "$SUMMARY" = 0 ] && [ "$STARTED" = 1 ]; then
		echo "run.sh: interrupted"
		echo "$passed passed, $((NTESTS - passed)) failed"
	fi
	if [ "$OWN_BROKER" = 1 ]; then
		sh "$BROKER_SH" stop "$KAFKA_DIR" || true
		if [ "$rc" = 0 ] && [ "${KEEP_KAFKA_DIR:-0}" != 1 ]; then
			rm -rf "$KAFKA_DIR"
		else
			echo "run.sh: broker directory kept: $KAFKA_DIR"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

broker_tail() {
	[ -n "$KAFKA_DIR" ] && [ -f "$KAFKA_DIR/broker.log" ] || return 0
	echo "---- last 30 lines of $KAFKA_DIR/broker.log ----"
	tail -n 30 "$KAFKA_DIR/broker.log"
	echo "----"
}

if [ -n "${BOOTSTRAP:-}" ]; then
	echo "run.sh: using the running broker at $BOOTSTRAP"
	if [ -z "$KAFKA_DIR" ]; then
		KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/leadrouter-kafka.XXXXXX")
		echo "$BOOTSTRAP" >"$KAFKA_DIR/bootstrap"
	fi
else
	KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/leadrouter-kafka.XXXXXX")
	OWN_BROKER=1
	t0=$(date +%s)
	if ! sh "$BROKER_SH" fetch; then
		echo "run.sh: could not fetch the Kafka jars: no test ran"
		echo "0 passed, $NTESTS failed"
		exit 1
	fi
	t1=$(date +%s)
	if ! out=$(LR_ADMIN="$LR_ADMIN" sh "$BROKER_SH" start "$KAFKA_DIR"); then
		echo "run.sh: the broker did not start: no test ran"
		echo "0 passed, $NTESTS failed"
		exit 1
	fi
	t2=$(date +%s)
	BOOTSTRAP=${out#BOOTSTRAP=}
	echo "run.sh: broker at $BOOTSTRAP in $KAFKA_DIR (jars $((t1 - t0))s, start $((t2 - t1))s)"
fi
export BOOTSTRAP LEADROUTER KAFKA_DIR LR_TOOLS LR_ADMIN BROKER_SH TEST_ID
CURRENT="$KAFKA_DIR/current-test.pgid"
STARTED=1

# Run one test with its output prefixed "[name] "; the status goes through
# a file because a pipeline's status is the last command's in POSIX sh.
run_one() {
	name=$1
	if [ "$name" = smoke_txn ]; then
		set -- "$LR_TOOLS/smoke_txn" -b "$BOOTSTRAP"
	elif [ "$name" = mock_pipeline ]; then
		set -- "$LR_TOOLS/mock_pipeline" "$LEADROUTER" "$HERE/e2e.json"
	elif [ "$name" = mock_txn_resume ] || [ "$name" = mock_restore ]; then
		set -- "$LR_TOOLS/$name"
	else
		script="$HERE/$name.sh"
		if [ ! -x "$script" ]; then
			echo "[$name] not executable: chmod +x tests/kafka/$name.sh"
			test_rc=126
			return 1
		fi
		set -- "$script"
	fi
	TEST_TMP="$KAFKA_DIR/tmp.$name"
	rm -rf "$TEST_TMP"
	mkdir -p "$TEST_TMP"
	export TEST_TMP
	rcfile="$KAFKA_DIR/rc.$name"
	echo 1 >"$rcfile"
	# timeout runs the test in its own process group, whose id goes to
	# $CURRENT so that cleanup can end the test on a signal; the pipeline
	# runs in the background because sh runs traps only when a foreground
	# command ends, and wait returns at once on a signal.
	{
		(cd "$ROOT" && exec timeout -k 10 "$E2E_TIMEOUT" "$@") &
		echo $! >"$CURRENT"
		if wait $!; then
			echo 0 >"$rcfile"
		else
			rc=$?
			[ $rc -ne 124 ] || echo "timed out after ${E2E_TIMEOUT}s"
			echo "$rc" >"$rcfile"
		fi
	} 2>&1 | sed -u "s/^/[$name] /" &
	wait $!
	rm -f "$CURRENT"
	test_rc=$(cat "$rcfile")
	[ "$test_rc" = 0 ]
}

for name in $TESTS; do
	echo "== $name"
	s=$(date +%s)
	if run_one "$name"; then
		passed=$((passed + 1))
		echo "== $name: PASS ($(($(date +%s) - s))s)"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "== $name: FAIL (exit $test_rc, $(($(date +%s) - s))s)"
		broker_tail
	fi
	if [ "$OWN_BROKER" = 1 ] && ! { [ -f "$KAFKA_DIR/broker.pid" ] &&
		kill -0 "$(cat "$KAFKA_DIR/broker.pid")" 2>/dev/null; }; then
		echo "run.sh: the broker died during $name"
		broker_tail
		rest=$((NTESTS - passed - failed))
		failed=$((failed + rest))
		[ $rest -eq 0 ] || echo "run.sh: $rest test(s) not run"
		break
	fi
done

[ -z "$failed_names" ] || echo "failed:$failed_names"
SUMMARY=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
