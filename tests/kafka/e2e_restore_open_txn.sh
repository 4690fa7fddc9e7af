#!/usr/bin/env bash
# e2e_restore_open_txn: a restore must not stop at an open transaction of a
# previous owner; it waits for the transaction to end and includes its
# records when it commits.
#
# A read_committed consumer reports the end of a partition at its last
# stable offset (LSO), which stops before an open transaction. When the
# previous owner of a partition has just committed, the commit markers may
# not be written yet (EndTxn returns before they are), so a restore that
# trusted that end would miss the owner's last changelog records. Here a
# Java transactional producer (kafka-clients from the broker's jars) writes
# one record to partition 0 of the leads changelog and holds the
# transaction open for 8 s, then commits. The daemon starts meanwhile.
# Asserted: it logs that a transaction is open and waits; its restore of
# the changelog counts the committed record (1 record, not 0); it becomes
# ready only after the commit; SIGTERM stops it with status 0.
set -euo pipefail
source "$(dirname "$0")/lib_e2e.sh"
e2e_init restore_open_txn

libs=$(ls -d "${LEADROUTER_CACHE:-${HOME:-/tmp}/.cache/leadrouter}"/kafka-*/libs 2>/dev/null | tail -n 1)
[ -n "$libs" ] && command -v javac >/dev/null && command -v java >/dev/null ||
	fail "need javac, java and the broker's jars (sh tests/kafka/broker.sh fetch)"

mkdir -p "$WORK/java"
cat >"$WORK/java/TxnHold.java" <<'EOF'
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/* TxnHold BOOTSTRAP TOPIC PARTITION KEY HOLD_MS TXID: one tombstone in an
 * open transaction, held HOLD_MS, then committed. */
public class TxnHold {
	public static void main(String[] a) throws Exception {
		Properties p = new Properties();
		p.put("bootstrap.servers", a[0]);
		p.put("transactional.id", a[5]);
		p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
		p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
		try (KafkaProducer<String, String> pr = new KafkaProducer<>(p)) {
			pr.initTransactions();
			pr.beginTransaction();
			pr.send(new ProducerRecord<String, String>(a[1], Integer.parseInt(a[2]), a[3], null)).get();
			System.out.println("open");
			System.out.flush();
			Thread.sleep(Long.parseLong(a[4]));
			pr.commitTransaction();
			System.out.println("committed");
			System.out.flush();
		}
	}
}
EOF
javac -nowarn -cp "$libs/*" -d "$WORK/java" "$WORK/java/TxnHold.java" 2>"$WORK/javac.log" || {
	cat "$WORK/javac.log" >&2
	fail "could not compile TxnHold.java"
}

e2e_config "$WORK/e2e.json" 0 50
e2e_topics 1
"$LR_TOOLS/lr_admin" -b "$BOOTSTRAP" create "$LEADS" 1 compact >/dev/null ||
	fail "could not create $LEADS"

java -Xmx256m -cp "$WORK/java:$libs/*" TxnHold "$BOOTSTRAP" "$LEADS" 0 \
	lead-open-txn 8000 "$PREFIX-holder" >"$WORK/holder.out" 2>"$WORK/holder.err" &
holder=$!
DAEMON_PIDS+=("$holder")
i=0
until grep -q '^open' "$WORK/holder.out"; do
	kill -0 "$holder" 2>/dev/null || {
		tail -5 "$WORK/holder.err" >&2
		fail "the transactional producer exited early"
	}
	[ $i -lt 300 ] || fail "the transactional producer did not open its transaction within 30 s"
	sleep 0.1
	i=$((i + 1))
done
note "a transaction is open on $LEADS [0]"

e2e_start "$WORK/e2e.json" "$WORK/daemon.log"
pid=$DAEMON_PID
e2e_wait_log "$pid" "$WORK/daemon.log" 60 'pipeline: ready'
grep -q '^committed' "$WORK/holder.out" ||
	fail "the daemon was ready before the open transaction ended"
grep -q "restore: $LEADS \\[0\\]: a transaction is open" "$WORK/daemon.log" ||
	fail "the daemon did not report waiting for the open transaction"
line=$(grep "restored .* from $LEADS:" "$WORK/daemon.log" | head -n 1)
case $line in
*": 1 record(s)"*) ;;
*) fail "the restore missed the committed record: $line" ;;
esac
note "restore waited for the transaction and read its record"

e2e_wait_exit "$holder" 30 || fail "the transactional producer still runs"
kill -TERM "$pid"
e2e_wait_exit "$pid" 15 || fail "daemon did not exit within 15 s of SIGTERM"
[ "$EXIT_STATUS" = 0 ] || fail "daemon exited with status $EXIT_STATUS after SIGTERM"
echo "PASS: restore waited for an open transaction and included its committed record"
