#!/bin/sh
# A real single-node Apache Kafka broker (KRaft, no ZooKeeper) for the test
# suite and the benchmarks, run from the jars on Maven Central.
#
#   broker.sh fetch                 download the broker's jars into the cache
#   broker.sh start DIR             start a broker with its files in DIR, print
#                                   BOOTSTRAP=127.0.0.1:PORT (also in DIR/bootstrap)
#   broker.sh stop DIR              stop it (succeeds when nothing runs)
#   broker.sh topic DIR NAME PARTITIONS [compact]
#                                   create a topic (with the C tool lr_admin)
#
# Environment:
#   LEADROUTER_CACHE  cache root (default $HOME/.cache/leadrouter); the jars go to
#                     $LEADROUTER_CACHE/kafka-<version>/libs
#   KAFKA_PORT        broker port (default: a free loopback port)
#   KAFKA_HEAP        JVM heap flags (default: -Xmx512m -Xms256m)
#   KAFKA_PROPS       lines appended to server.properties (later keys win)
#   KAFKA_JVM_FLAGS   other JVM flags (default: -XX:TieredStopAtLevel=1, the
#                     quick-starting JIT the tests want; the benchmarks set
#                     kafka-run-class.sh's flags, a production broker's JIT)
#   LR_ADMIN          path of the lr_admin binary (default build/tests/kafka/lr_admin,
#                     built with cc when missing)
#
# The version is Kafka 4.1 (tests/kafka/pom.xml): librdkafka 2.0.2 works against
# it for everything leadrouter needs, as tests/kafka/smoke_txn.c proves.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
POM="$HERE/pom.xml"
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
CACHE_ROOT=${LEADROUTER_CACHE:-${HOME:-/tmp}/.cache/leadrouter}
LIBS="$CACHE_ROOT/kafka-$KAFKA_VERSION/libs"
READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-60}

die() {
	echo "broker.sh: $*" >&2
	exit 1
}

# The stamp holds a checksum of the pom, so changing the pom refetches.
pom_sum() {
	cksum <"$POM" | cut -d' ' -f1
}

cmd_fetch() {
	stamp="$LIBS/.complete"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(pom_sum)" ]; then
		return 0
	fi
	command -v mvn >/dev/null 2>&1 ||
		die "mvn not found (install maven: make deps)"
	echo "broker.sh: fetching Kafka $KAFKA_VERSION jars into $LIBS" >&2
	rm -rf "$LIBS.tmp"
	mkdir -p "$LIBS.tmp"
	# mvn's output is kept and shown only on failure (-q still prints
	# terminal escape codes).
	if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
		-DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime \
		>"$LIBS.mvn.log" 2>&1; then
		cat "$LIBS.mvn.log" >&2
		rm -rf "$LIBS.tmp"
		die "mvn could not fetch the Kafka jars (is Maven Central reachable? output above)"
	fi
	rm -f "$LIBS.mvn.log"
	ls "$LIBS.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 ||
		die "mvn ran but no kafka_2.13 jar arrived in $LIBS.tmp"
	rm -rf "$LIBS"
	mv "$LIBS.tmp" "$LIBS"
	pom_sum >"$stamp"
}

# A free loopback TCP port: lr_admin binds port 0 and reports what the
# kernel chose.
free_port() {
	"$(lr_admin)" freeport
}

pid_alive() {
	[ -f "$1/broker.pid" ] && kill -0 "$(cat "$1/broker.pid")" 2>/dev/null
}

log_tail() {
	if grep -qE ' (ERROR|FATAL) ' "$1/broker.log" 2>/dev/null; then
		echo "---- first errors in $1/broker.log ----" >&2
		grep -E ' (ERROR|FATAL) ' "$1/broker.log" | head -n 5 >&2
	fi
	echo "---- last lines of $1/broker.log ----" >&2
	tail -n "${2:-40}" "$1/broker.log" >&2 2>/dev/null || true
	echo "----" >&2
}

# The JVM flags of every Java command (an exec-able list: setsid needs one).
java_cmd() {
	# shellcheck disable=SC2086
	exec java ${KAFKA_HEAP:--Xmx512m -Xms256m} -XX:+UseG1GC \
		${KAFKA_JVM_FLAGS--XX:TieredStopAtLevel=1} -Xshare:auto \
		-Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$DIR/log4j2.properties" \
		-Dkafka.logs.dir="$DIR" \
		-cp "$LIBS/*" "$@"
}

write_config() {
	cat >"$DIR/server.properties" <<EOF
# Written by tests/kafka/broker.sh: single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fast tests: no rebalance delay, short sessions allowed, quick cleanup of
# timed-out transactions, small thread pools.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
group.consumer.min.session.timeout.ms=1000
group.consumer.min.heartbeat.interval.ms=500
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
transaction.remove.expired.transaction.cleanup.interval.ms=10000
log.cleaner.backoff.ms=1000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.flush.interval.messages=9223372036854775807
EOF
	[ -z "${KAFKA_PROPS:-}" ] || printf '%s\n' "$KAFKA_PROPS" >>"$DIR/server.properties"
	cat >"$DIR/log4j2.properties" <<EOF
# Written by tests/kafka/broker.sh: WARN and above to stdout, which start
# redirects to $DIR/broker.log.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = ERROR
EOF
}

# A Kafka cluster id (what StorageTool random-uuid prints, without a JVM
# start): 16 random bytes in URL-safe base64, 22 characters, not starting
# with '-'.
cluster_uuid() {
	while :; do
		id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
		case $id in
		-*) ;;
		*)
			echo "$id"
			return
			;;
		esac
	done
}

# Is our broker answering metadata requests on its port? The cluster id
# tells it apart from another process that might hold a given KAFKA_PORT.
answers() {
	"$(lr_admin)" -b "127.0.0.1:$PORT" ping 2>/dev/null |
		grep -q "^cluster $cluster_id,"
}

cmd_start() {
	[ $# -eq 1 ] || die "usage: broker.sh start DIR"
	DIR=$1
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	if pid_alive "$DIR"; then
		die "a broker already runs from $DIR (pid $(cat "$DIR/broker.pid"))"
	fi
	command -v java >/dev/null 2>&1 ||
		die "java not found (install openjdk-17-jre-headless: make deps)"
	cmd_fetch
	PORT=${KAFKA_PORT:-$(free_port)}
	CPORT=$(free_port)
	while [ "$CPORT" = "$PORT" ]; do CPORT=$(free_port); done
	rm -rf "$DIR/data"
	write_config
	: >"$DIR/broker.log"

	t0=$(date +%s.%N)
	# A static quorum (controller.quorum.voters) is formatted without
	# --standalone; Kafka 4.1 refuses --standalone with a static quorum.
	cluster_id=$(cluster_uuid)
	if ! (java_cmd kafka.tools.StorageTool format -t "$cluster_id" \
		-c "$DIR/server.properties") >>"$DIR/broker.log" 2>&1; then
		log_tail "$DIR"
		die "StorageTool format failed"
	fi
	t1=$(date +%s.%N)

	# setsid: the broker gets its own process group, so a terminal's ^C
	# goes to the caller, whose trap runs stop.
	(
		exec setsid sh "$HERE/broker.sh" __java "$DIR" kafka.Kafka "$DIR/server.properties"
	) >>"$DIR/broker.log" 2>&1 </dev/null &
	echo $! >"$DIR/broker.pid"
	i=0
	while ! answers; do
		if ! pid_alive "$DIR"; then
			log_tail "$DIR"
			rm -f "$DIR/broker.pid"
			die "the broker exited during start"
		fi
		i=$((i + 1))
		if [ $i -gt $((READY_TIMEOUT * 4)) ]; then
			log_tail "$DIR"
			cmd_stop "$DIR"
			die "the broker did not answer on 127.0.0.1:$PORT within ${READY_TIMEOUT}s"
		fi
		sleep 0.25
	done
	t2=$(date +%s.%N)
	echo "127.0.0.1:$PORT" >"$DIR/bootstrap"
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
		printf "broker.sh: formatted in %.1fs, ready %.1fs after launch\n", b - a, c - b
	}' >&2
	echo "BOOTSTRAP=127.0.0.1:$PORT"
}

cmd_stop() {
	[ $# -eq 1 ] || die "usage: broker.sh stop DIR"
	d=$1
	[ -f "$d/broker.pid" ] || return 0
	pid=$(cat "$d/broker.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do
			sleep 0.25
			i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "broker.sh: broker $pid ignored TERM for 15s, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$d/broker.pid"
	return 0
}

# The topic tool: a small C program, much faster than starting a JVM.
lr_admin() {
	if [ -n "${LR_ADMIN:-}" ]; then
		echo "$LR_ADMIN"
		return
	fi
	bin="$ROOT/build/tests/kafka/lr_admin"
	src="$HERE/lr_admin.c"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		mkdir -p "$(dirname "$bin")"
		# shellcheck disable=SC2046
		cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$bin" \
			"$src" $(pkg-config --cflags --libs rdkafka) >&2 ||
			die "could not build $bin"
	fi
	echo "$bin"
}

cmd_topic() {
	[ $# -ge 3 ] && [ $# -le 4 ] ||
		die "usage: broker.sh topic DIR NAME PARTITIONS [compact]"
	[ -f "$1/bootstrap" ] || die "no broker started in $1 (no $1/bootstrap)"
	if [ $# -eq 4 ]; then
		[ "$4" = compact ] || die "the 4th argument may only be 'compact'"
		"$(lr_admin)" -b "$(cat "$1/bootstrap")" create "$2" "$3" compact
	else
		"$(lr_admin)" -b "$(cat "$1/bootstrap")" create "$2" "$3"
	fi
}

[ $# -ge 1 ] || die "usage: broker.sh fetch|start DIR|stop DIR|topic DIR NAME PARTITIONS [compact]"
sub=$1
shift
case $sub in
fetch) cmd_fetch ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
topic) cmd_topic "$@" ;;
__java)
	# internal: run a Java class with the broker's JVM flags (start uses
	# it under setsid, which cannot run a shell function).
	DIR=$1
	shift
	java_cmd "$@"
	;;
libs)
	cmd_fetch
	echo "$LIBS"
	;;
*) die "unknown subcommand '$sub' (fetch, start, stop, topic)" ;;
esac
