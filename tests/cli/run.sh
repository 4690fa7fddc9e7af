#!/bin/sh
# run.sh - black-box scenario tests of the leadrouter command line.
#
# usage: sh tests/cli/run.sh build/leadrouter
#
# Each test runs the binary as an operator or a script would and checks exit
# codes, stdout and stderr. Tests use their own configs (tests/cli/configs/)
# so they do not move when the example config changes; expected handoffs are
# golden files (tests/cli/expected/) reviewed by hand when generated. One line
# per test, then "N passed, M failed"; the exit status is 1 on any failure.
set -u

bin=${1:?usage: run.sh path/to/leadrouter}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cfg=$here/configs/good.json
events=$here/events.jsonl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lr-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok   $1"
}

nok() {
	fail=$((fail + 1))
	echo "FAIL $1: $2"
	if [ -s "$tmp/err" ]; then
		sed -n '1,5s/^/     stderr: /p' "$tmp/err"
	fi
}

# run [STDIN] -- ARGS...: runs the binary, leaving out, err and rc.
run() {
	in=$1
	shift 2
	"$bin" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_rc NAME CODE: true when the last run exited with CODE.
expect_rc() {
	if [ "$rc" -ne "$2" ]; then
		nok "$1" "exit status $rc, expected $2"
		return 1
	fi
	return 0
}

# Rejected-line reports and summary lines are both on stderr.
rejects() {
	grep '^{"line":' "$tmp/err"
}

summary() {
	grep -v '^{"line":' "$tmp/err"
}

t_version() {
	run /dev/null -- -V
	expect_rc version 0 || return
	if grep -qx 'leadrouter [0-9][0-9.]*' "$tmp/out"; then
		ok "version: -V prints 'leadrouter X.Y.Z'"
	else
		nok version "unexpected output: $(cat "$tmp/out")"
	fi
}

t_help() {
	run /dev/null -- --help
	expect_rc help 0 || return
	if grep -q '^usage: leadrouter' "$tmp/out" && [ ! -s "$tmp/err" ]; then
		ok "help: --help prints usage on stdout"
	else
		nok help "no usage on stdout"
	fi
}

# Usage errors: exit 2 with the usage on stderr, nothing on stdout.
t_usage() {
	name=$1
	shift
	run /dev/null -- "$@"
	expect_rc "$name" 2 || return
	if grep -q '^usage: leadrouter' "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "$name: exit 2, usage on stderr"
	else
		nok "$name" "no usage on stderr"
	fi
}

t_check_good() {
	name=$1
	shift
	run /dev/null -- "$@"
	expect_rc "$name" 0 || return
	if [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q '^ok' "$tmp/out"; then
		ok "$name: exit 0, one summary line"
	else
		nok "$name" "expected one 'ok...' line, got: $(head -c 200 "$tmp/out")"
	fi
}

t_check_example() {
	ex=$root/config/leadrouter.example.json
	if [ ! -f "$ex" ]; then
		echo "skip check-example: config/leadrouter.example.json missing"
		return
	fi
	t_check_good check-example --check-config -c "$ex"
}

# A broken config: exit 1, every stderr line "FILE: $.path: message", and
# each "PATH<TAB>WORD" of the .expect file on one of them.
t_check_bad() {
	f=$here/configs/$1.json
	run /dev/null -- --check-config -c "$f"
	expect_rc "check-$1" 1 || return
	bad=$(grep -cv "^$f: \\$[^ ]*: ." "$tmp/err")
	if [ "$bad" -ne 0 ] || [ ! -s "$tmp/err" ] || [ -s "$tmp/out" ]; then
		nok "check-$1" "stderr lines not all 'FILE: \$.path: message'"
		return
	fi
	missing=""
	tab=$(printf '\t')
	while IFS="$tab" read -r path word; do
		grep -F -- "$f: $path: " "$tmp/err" | grep -qF -- "$word" ||
			missing="$missing $path"
	done <"$here/configs/$1.expect"
	if [ -n "$missing" ]; then
		nok "check-$1" "no error reported at:$missing"
	else
		ok "check-$1: exit 1, $(wc -l <"$tmp/err" | tr -d ' ') errors with paths"
	fi
}

# kafka_cfg FILE PROPS: good.json with PROPS (JSON members) added to its
# kafka section.
kafka_cfg() {
	sed "s|\"bootstrap.servers\": \"127.0.0.1:9092\"|&, $2|" "$cfg" >"$1"
}

# librdkafka accepts every property of a valid kafka section, numbers,
# booleans and a secret from a file included, and nothing is printed.
t_check_kafka_good() {
	printf 'pass word\n' >"$tmp/password"
	kafka_cfg "$tmp/kafka-good.json" '"security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "lr", "sasl.password": "@file:'"$tmp"'/password", "compression.type": "lz4", "linger.ms": 10, "enable.idempotence": true, "transaction.timeout.ms": 60000, "client.id": "leadrouter"'
	t_check_good check-kafka-good --check-config -c "$tmp/kafka-good.json"
}

# A value librdkafka refuses that came from an @file: secret is reported
# at its path without being shown; an unknown name still gets librdkafka's
# message, which names only the key.
t_check_kafka_secret() {
	printf 'hunter2\n' >"$tmp/secret"
	kafka_cfg "$tmp/kafka-secret.json" '"security.protocol": "@file:'"$tmp"'/secret", "sasl.pasword": "@file:'"$tmp"'/secret"'
	f=$tmp/kafka-secret.json
	run /dev/null -- --check-config -c "$f"
	expect_rc check-kafka-secret 1 || return
	if grep -q hunter2 "$tmp/err" "$tmp/out"; then
		nok check-kafka-secret "the secret was printed"
	elif grep -qxF "$f: \$.kafka['security.protocol']: librdkafka rejects the value read from the secret file (not shown)" "$tmp/err" &&
		grep -qxF "$f: \$.kafka['sasl.pasword']: No such configuration property: \"sasl.pasword\"" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" -eq 2 ]; then
		ok "check-kafka-secret: exit 1, both paths, the secret not shown"
	else
		nok check-kafka-secret "unexpected errors"
	fi
}

# A UTF-8 byte order mark at the start of the config (Notepad, PowerShell)
# is skipped.
t_check_bom() {
	printf '\357\273\277' >"$tmp/bom.json"
	cat "$cfg" >>"$tmp/bom.json"
	t_check_good check-bom --check-config -c "$tmp/bom.json"
}

t_check_missing() {
	f=$tmp/does-not-exist.json
	run /dev/null -- -t -c "$f"
	expect_rc check-missing-file 1 || return
	if grep -q "^$f: \\$[^ ]*: ." "$tmp/err"; then
		ok "check-missing-file: exit 1, 'FILE: \$: message'"
	else
		nok check-missing-file "no 'FILE: \$: message' line"
	fi
}

# Three mistakes whose first wording was jansson's or said too little: a
# directory named as the config, a \u0000 in a string, an overnight shift.
t_check_wording() {
	mkdir -p "$tmp/cfgdir"
	run /dev/null -- -t -c "$tmp/cfgdir"
	expect_rc check-directory 1 || return
	if grep -qF "$tmp/cfgdir: \$: $tmp/cfgdir is a directory, not a config file" "$tmp/err"; then
		ok "check-directory: says it is a directory"
	else
		nok check-directory "$(cat "$tmp/err")"
	fi
	printf '{"process": {"x": "a\\u0000"}}' >"$tmp/nul.json"
	run /dev/null -- -t -c "$tmp/nul.json"
	expect_rc check-nul 1 || return
	if grep -qF 'a string holds \u0000, which no config string may' "$tmp/err" &&
		! grep -q JSON_ALLOW_NUL "$tmp/err"; then
		ok "check-nul: names the \\u0000, not jansson's flag"
	else
		nok check-nul "$(cat "$tmp/err")"
	fi
	sed 's/"09:00-17:30"/"22:00-06:00"/' "$root/config/leadrouter.example.json" >"$tmp/night.json"
	run /dev/null -- -t -c "$tmp/night.json"
	expect_rc check-overnight 1 || return
	if grep -qF 'an overnight shift is two: one to "24:00" and one from "00:00" the next day' "$tmp/err"; then
		ok "check-overnight: says how to split the shift"
	else
		nok check-overnight "$(cat "$tmp/err")"
	fi
}

# A valid config that can never qualify a lead: ok, exit 0, and a warning
# for each unreachable bar on stderr.
t_check_unreachable() {
	sed -e 's/"score_threshold": *[0-9.]*/"score_threshold": 100000/' \
		-e 's/"min_grade": *"[A-D]"/"min_grade": "A"/' \
		-e 's/"A": 60,/"A": 1000,/' \
		"$root/config/leadrouter.example.json" >"$tmp/unreach.json"
	run /dev/null -- -t -c "$tmp/unreach.json"
	expect_rc check-unreachable 0 || return
	if grep -q '^ok: ' "$tmp/out" &&
		grep -qF "$tmp/unreach.json: \$.qualification.min_grade: warning: no lead can reach grade A" "$tmp/err" &&
		! grep -q score_threshold "$tmp/err"; then
		ok "check-unreachable: ok, exit 0, min_grade warned (the uncapped rules keep the threshold reachable)"
	else
		nok check-unreachable "out: $(cat "$tmp/out"); err: $(cat "$tmp/err")"
	fi
}

# daemon_log_until CONFIG PATTERN: run the daemon on CONFIG (its broker
# down) until PATTERN is in its stderr ($tmp/err), for at most 5 s.
daemon_log_until() {
	"$bin" -c "$1" </dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	i=0
	while [ $i -lt 50 ] && ! grep -q "$2" "$tmp/err"; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# librdkafka's own log lines go through the daemon's logger: a refused
# connection is an "error: kafka: ..." line, not librdkafka's default
# "%3|epoch|FAIL|..." line that journald would store at info.
t_run_kafka_log() {
	sed -e 's/127.0.0.1:9092/127.0.0.1:1/' \
		-e 's/"kafka": {/"process": {"http_listen": ""}, "kafka": {/' \
		"$cfg" >"$tmp/nobroker.json"
	daemon_log_until "$tmp/nobroker.json" FAIL
	if grep -q '^error: kafka: rdkafka#[a-z]*-[0-9]*: FAIL: .*Connection refused' "$tmp/err" &&
		! grep -q '^%[0-9]|' "$tmp/err" && ! grep -q CONFWARN "$tmp/err"; then
		ok "run-kafka-log: librdkafka's lines carry the daemon's level prefix"
	else
		nok run-kafka-log "$(head -5 "$tmp/err")"
	fi
}

# The one kafka section goes to producer and consumers alike: librdkafka's
# note that the example config's session.timeout.ms is a consumer property is
# logged at debug, not as a warning at every start.
t_run_kafka_confwarn() {
	sed -e 's/127.0.0.1:9092/127.0.0.1:1/' \
		-e 's/"log_level": "info"/"log_level": "debug"/' \
		-e 's/"http_listen": "127.0.0.1:9464"/"http_listen": ""/' \
		"$root/config/leadrouter.example.json" >"$tmp/confwarn.json"
	daemon_log_until "$tmp/confwarn.json" CONFWARN
	if grep -q '^debug: kafka: .*: CONFWARN: .*session.timeout.ms is a consumer property and will be ignored by this producer' "$tmp/err" &&
		! grep -q '^warning: .*CONFWARN' "$tmp/err"; then
		ok "run-kafka-confwarn: the other client kind's properties are noted at debug"
	else
		nok run-kafka-confwarn "$(grep CONFWARN "$tmp/err" | head -3)"
	fi
}

# A stop while the daemon still waits for Kafka at start (the topic check
# wants the cluster's metadata, for up to a minute with no broker): SIGNAL
# (TERM or INT), sent after a second, ends it within 3 s with status 0 and
# one line that says so. A guard kills it after 3 s, so a daemon that
# does not stop fails the test instead of holding it for a minute.
t_run_stop_starting() {
	name=run-stop-starting-$(echo "$1" | tr 'A-Z' 'a-z')
	sed -e 's/127.0.0.1:9092/127.0.0.1:1/' \
		-e 's/"kafka": {/"process": {"http_listen": ""}, "kafka": {/' \
		"$cfg" >"$tmp/nobroker.json"
	"$bin" -c "$tmp/nobroker.json" </dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	sleep 1
	t0=$(date +%s%N)
	kill -s "$1" "$pid"
	(
		sleep 3
		kill -9 "$pid" 2>/dev/null
	) &
	guard=$!
	wait "$pid"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$guard" 2>/dev/null
	wait "$guard" 2>/dev/null
	expect_rc "$name" 0 || return
	if [ "$(grep -c "^info: pipeline: stopping before start-up completed: SIG$1\$" "$tmp/err")" -eq 1 ] &&
		grep -q '^info: pipeline: stopped (exit status 0)$' "$tmp/err" &&
		grep -q '^error: kafka: .*Connection refused' "$tmp/err" &&
		! grep -q 'cannot start\|cannot read cluster metadata' "$tmp/err"; then
		ok "$name: SIG$1 while waiting for Kafka: exit 0 after $ms ms, one line says so"
	else
		nok "$name" "$(grep -v '^error: kafka' "$tmp/err" | head -5)"
	fi
}

# The daemon refuses to start on a broken config, before any Kafka work.
t_run_bad() {
	f=$here/configs/bad-many.json
	run /dev/null -- -c "$f"
	expect_rc run-bad-config 1 || return
	if grep -qF "$f: \$.teams[0].reps[0].tz: " "$tmp/err"; then
		ok "run-bad-config: exit 1 with the errors"
	else
		nok run-bad-config "errors not printed"
	fi
}

# The daemon puts its kafka section to librdkafka before any Kafka work,
# and says where the error is.
t_run_bad_kafka() {
	f=$here/configs/bad-kafka.json
	run /dev/null -- -c "$f"
	expect_rc run-bad-kafka 1 || return
	if grep -qF "$f: \$.kafka['securty.protocol']: No such configuration property" "$tmp/err"; then
		ok "run-bad-kafka: exit 1 with the \$.kafka paths"
	else
		nok run-bad-kafka "errors not printed"
	fi
}

t_simulate_bad_config() {
	run "$events" -- simulate -c "$here/configs/bad-syntax.json"
	expect_rc simulate-bad-config 1 || return
	if [ ! -s "$tmp/out" ] && grep -q 'bad-syntax.json: \$: ' "$tmp/err"; then
		ok "simulate-bad-config: exit 1, errors, no output"
	else
		nok simulate-bad-config "unexpected output"
	fi
}

# The scenario: handoffs, rejects and summary equal the reviewed files.
t_simulate_golden() {
	run "$events" -- simulate -c "$cfg"
	expect_rc simulate-golden 0 || return
	rejects >"$tmp/rejects"
	summary >"$tmp/summary"
	for k in handoffs rejects summary; do
		f=$tmp/$k
		[ "$k" = handoffs ] && f=$tmp/out
		if ! cmp -s "$f" "$here/expected/$k.jsonl" 2>/dev/null &&
			! cmp -s "$f" "$here/expected/$k.txt" 2>/dev/null; then
			nok simulate-golden "$k differ from tests/cli/expected"
			diff "$here/expected/$k".* "$f" | cut -c1-160 | sed -n "1,6s/^/     /p"
			return
		fi
	done
	ok "simulate-golden: 3 handoffs, 7 rejects, summary as reviewed"
}

# Line numbers count every line, blank ones included.
t_simulate_reject_lines() {
	run "$events" -- simulate -c "$cfg"
	expect_rc simulate-rejects 0 || return
	got=$(rejects | sed 's/^{"line":\([0-9]*\),"reason":"\([a-z_]*\)".*/\1:\2/' |
		tr '\n' ' ')
	want="2:not_json 8:not_object 9:no_identity 10:missing_type 11:unknown_type 20:bad_timestamp 21:wrong_field_type "
	if [ "$got" = "$want" ]; then
		ok "simulate-rejects: line numbers and reasons"
	else
		nok simulate-rejects "got '$got'"
	fi
}

# m05 is sent twice: once scored (30), so u1 qualifies only with the demo
# request (line 7), at 90 points, and the second copy counts as a duplicate.
t_simulate_duplicate() {
	run "$events" -- simulate -c "$cfg" --summary-json
	expect_rc simulate-duplicate 0 || return
	last=$(tail -n 1 "$tmp/err")
	u1=$(grep -c '"lead":"u1"' "$tmp/out")
	if echo "$last" | grep -qF '"duplicates":1' && [ "$u1" -eq 1 ] &&
		grep -F '"lead":"u1"' "$tmp/out" |
		grep -qF '"qualified_at":"2026-03-02T09:03:00.000Z","qualified_at_ms":1772442180000,"score":90.0'; then
		ok "simulate-duplicate: messageId m05 scored once"
	else
		nok simulate-duplicate "duplicate scored or not counted"
	fi
}

# A userId of "ab\u0000cd" is a five-byte key: the lead is handed off with
# the key escaped as sent (not cut at the NUL, nor a route_error), and
# "ab\u0000ef" is another lead with another handoff_id. A trait value and a
# groupId with a NUL inside are not kept, and do not stop the handoff.
t_simulate_nul_key() {
	{
		printf '%s\n' '{"type":"identify","userId":"ab\u0000cd","timestamp":"2026-03-02T09:00:00Z","traits":{"email":"jo@acme.de","title":"VP Sales","country":"DE","company":{"size":500,"name":"Acme\u0000Corp"}}}'
		printf '%s\n' '{"type":"group","userId":"ab\u0000cd","groupId":"acct\u00001","timestamp":"2026-03-02T09:00:30Z","traits":{"industry":"Software"}}'
		printf '%s\n' '{"type":"track","userId":"ab\u0000cd","timestamp":"2026-03-02T09:01:00Z","event":"Demo Requested"}'
		printf '%s\n' '{"type":"identify","userId":"ab\u0000ef","timestamp":"2026-03-02T09:02:00Z","traits":{"email":"al@acme.de","title":"VP Sales","country":"DE","company":{"size":500}}}'
		printf '%s\n' '{"type":"track","userId":"ab\u0000ef","timestamp":"2026-03-02T09:03:00Z","event":"Demo Requested"}'
	} >"$tmp/nul.jsonl"
	run "$tmp/nul.jsonl" -- simulate -c "$cfg"
	expect_rc simulate-nul-key 0 || return
	ids=$(sed -n 's/^{"handoff_id":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out" | sort -u | wc -l)
	if [ "$(wc -l <"$tmp/out")" -eq 2 ] && [ "$ids" -eq 2 ] &&
		grep -qF '"lead":"ab\u0000cd","cycle":1' "$tmp/out" &&
		grep -qF '"lead":"ab\u0000ef","cycle":1' "$tmp/out" &&
		grep -F '"lead":"ab\u0000cd"' "$tmp/out" |
		grep -qF '"group_id":null,"traits":{"email":"jo@acme.de","title":"VP Sales","country":"DE","company.size":500,"company.industry":"Software"}' &&
		[ -z "$(rejects)" ] && grep -qx 'handoffs: 2' "$tmp/err"; then
		ok "simulate-nul-key: a userId with a NUL escape is handed off whole"
	else
		nok simulate-nul-key "got: $(cut -c1-120 "$tmp/out" "$tmp/err" | head -3)"
	fi
}

t_simulate_summary_json() {
	run "$events" -- simulate -c "$cfg" --summary-json
	expect_rc simulate-summary-json 0 || return
	last=$(tail -n 1 "$tmp/err")
	n=0
	for kv in '"events":20' '"accepted":13' '"rejected":7' '"leads":5' \
		'"mqls":3' '"handoffs":3' '"emea":{"handoffs":2,"reps":{"emea-1":1,"emea-2":1}}' \
		'"na":{"handoffs":1,"reps":{"na-1":1}}' '"not_json":1' \
		'"disqualified":1,"disqualified_by_reason":{"freemail":1}'; do
		echo "$last" | grep -qF "$kv" || n=$((n + 1))
	done
	if [ "$n" -eq 0 ] && [ "$(summary | wc -l)" -eq 1 ]; then
		ok "simulate-summary-json: one JSON object with the counts"
	else
		nok simulate-summary-json "$n fields missing: $last"
	fi
}

# Leads disqualified at the end of the run, by reason, in both summaries:
# a subdomain of a listed domain is stopped, a title only by a whole word
# ("VP International Sales" is not an "intern"), and the lead that is not
# stopped is not counted.
t_simulate_disqualified() {
	sed 's/"disqualify": {.*}/"disqualify": {"freemail_domains": ["gmail.com"], "competitor_domains": ["rival.com"], "excluded_domains": ["acme.example"], "titles": ["intern"]}/' \
		"$cfg" >"$tmp/disq.json"
	for u in "d1 bob@eu.rival.com CTO" "d2 ann@notrival.com VP International Sales" \
		"d3 cy@corp.example Marketing Intern" "d4 di@mail.gmail.com CTO" \
		"d5 ed@sales.acme.example CTO"; do
		set -- $u
		id=$1 mail=$2
		shift 2
		printf '{"type":"identify","messageId":"%s","userId":"%s","timestamp":"2026-03-02T09:00:00Z","traits":{"email":"%s","title":"%s"}}\n' \
			"$id" "$id" "$mail" "$*"
	done >"$tmp/disq.jsonl"
	run "$tmp/disq.jsonl" -- simulate -c "$tmp/disq.json" --summary-json
	expect_rc simulate-disqualified 0 || return
	json=$(tail -n 1 "$tmp/err")
	run "$tmp/disq.jsonl" -- simulate -c "$tmp/disq.json"
	expect_rc simulate-disqualified 0 || return
	text=$(sed -n '/^disqualified:/,/^mqls:/p' "$tmp/err" | tr '\n' '|')
	if echo "$json" | grep -qF '"leads":5,"lead_table_bytes":' &&
		echo "$json" | grep -qF '"disqualified":4,"disqualified_by_reason":{"freemail":1,"competitor":1,"excluded":1,"title":1},"mqls":0' &&
		[ "$text" = "disqualified: 4|  freemail: 1|  competitor: 1|  excluded: 1|  title: 1|mqls: 0|" ]; then
		ok "simulate-disqualified: leads disqualified by reason in both summaries"
	else
		nok simulate-disqualified "json: $json; text: $text"
	fi
}

# Leads never handed off, by the first qualification check they fail, in
# both summaries: one lead per reason, and g2, which fails grade, score and
# required trait alike, under the first of them. h1 is handed off and not
# counted; the disqualified section stays as it was.
t_simulate_not_handed_off() {
	printf '%s\n' '{"kafka": {"bootstrap.servers": "127.0.0.1:9092"},
 "scoring": {"half_life_days": 0, "rules": [{"name": "demo", "type": "track", "when": {"field": "event", "eq": "Demo Requested"}, "points": 60}]},
 "fit": {"rules": [{"name": "senior", "when": {"field": "traits.title", "contains": ["VP"]}, "points": 40}],
  "grades": {"A": 60, "B": 40, "C": 20}, "disqualify": {"freemail_domains": ["gmail.com"]}},
 "qualification": {"score_threshold": 50, "min_grade": "B", "required_traits": ["company.name"]},
 "teams": [{"name": "t1", "overflow_queue": "t1-overflow", "reps": [{"id": "r1"}]}],
 "routing": {"fallback_team": "t1"}}' >"$tmp/held.json"
	# lead, title, e-mail, company name (- for none), demo (y/n)
	for u in "h1 VP h1@acme.example Acme y" "d1 VP d1@gmail.com Acme y" \
		"g1 Analyst g1@acme.example Acme y" "g2 Analyst g2@acme.example - n" \
		"s1 VP s1@acme.example Acme n" "m1 VP m1@acme.example - y"; do
		set -- $u
		co=""
		[ "$4" = - ] || co=",\"company\":{\"name\":\"$4\"}"
		printf '{"type":"identify","userId":"%s","timestamp":"2026-03-02T09:00:00Z","traits":{"title":"%s","email":"%s"%s}}\n' \
			"$1" "$2" "$3" "$co"
		[ "$5" = n ] ||
			printf '{"type":"track","userId":"%s","timestamp":"2026-03-02T09:01:00Z","event":"Demo Requested"}\n' "$1"
	done >"$tmp/held.jsonl"
	run "$tmp/held.jsonl" -- simulate -c "$tmp/held.json" --summary-json
	expect_rc simulate-not-handed-off 0 || return
	json=$(tail -n 1 "$tmp/err")
	run "$tmp/held.jsonl" -- simulate -c "$tmp/held.json"
	expect_rc simulate-not-handed-off 0 || return
	text=$(sed -n '/^not handed off:/,$p' "$tmp/err" | tr '\n' '|')
	if echo "$json" | grep -qF '"leads":6,' &&
		echo "$json" | grep -qF '"disqualified":1,"disqualified_by_reason":{"freemail":1},"mqls":1,' &&
		echo "$json" | grep -qF '"handoffs":1,' &&
		echo "$json" | grep -qF '"not_handed_off":5,"not_handed_off_by_reason":{"disqualified":1,"grade_below_min":2,"below_threshold":1,"missing_trait":1}}' &&
		[ "$(grep -c '"lead":"h1"' "$tmp/out")" -eq 1 ] &&
		[ "$(wc -l <"$tmp/out")" -eq 1 ] &&
		[ "$text" = "not handed off: 5|  disqualified: 1|  grade_below_min: 2|  below_threshold: 1|  missing_trait: 1|" ]; then
		ok "simulate-not-handed-off: leads not handed off by reason in both summaries"
	else
		nok simulate-not-handed-off "json: $json; text: $text"
	fi
}

# A late lead (dated the day before the rep's latest handoff, as offline
# mobile batches are) counts against the latest day instead of resetting the
# rep's daily count: with daily_cap 1, r1 gets one lead on 11 March, the
# late one and the rest of the day overflow, and 12 March starts afresh.
t_simulate_late_daily_cap() {
	printf '%s\n' '{"kafka": {"bootstrap.servers": "127.0.0.1:9092"},
 "scoring": {"half_life_days": 0, "rules": [{"name": "any", "points": 60}]},
 "qualification": {"score_threshold": 50, "min_grade": "D"},
 "teams": [{"name": "t1", "overflow_queue": "t1-overflow", "reps": [{"id": "r1", "daily_cap": 1}]}],
 "routing": {"fallback_team": "t1"}}' >"$tmp/cap.json"
	for u in today-1:2026-03-11T10 today-2:2026-03-11T11 \
		late-from-yesterday:2026-03-10T15 today-3:2026-03-11T12 \
		next-day:2026-03-12T09; do
		printf '{"type":"track","event":"x","userId":"%s","timestamp":"%s:00:00Z"}\n' \
			"${u%%:*}" "${u#*:}"
	done >"$tmp/cap.jsonl"
	run "$tmp/cap.jsonl" -- simulate -c "$tmp/cap.json"
	expect_rc simulate-late-daily-cap 0 || return
	got=$(sed -n 's/.*"lead":"\([^"]*\)".*"rep":"\([^"]*\)".*"reason":"\([^"]*\)"},"handed_off_at".*/\1 \2 \3/p' "$tmp/out" | tr '\n' '|')
	want="today-1 r1 weighted round robin among 1 available|"
	want="${want}today-2 t1-overflow no rep available: 1 at daily cap|"
	want="${want}late-from-yesterday t1-overflow no rep available: 1 at daily cap|"
	want="${want}today-3 t1-overflow no rep available: 1 at daily cap|"
	want="${want}next-day r1 weighted round robin among 1 available|"
	if [ "$got" = "$want" ]; then
		ok "simulate-late-daily-cap: a late lead does not reset the rep's daily count"
	else
		nok simulate-late-daily-cap "got: $got"
	fi
}

# No identity stitching (README, "Identity and the lead key"): anonymous
# page views, an e-mail-only identify and userId events are three leads;
# the anonymous lead's 90 points never reach the known one, and Segment's
# alias call is rejected as unknown_type.
t_simulate_identity_split() {
	ts=2026-03-02T09:0
	{
		for i in 1 2 3; do
			printf '{"type":"page","messageId":"k%s","anonymousId":"a-7","timestamp":"%s%s:00Z","properties":{"path":"/pricing"}}\n' "$i" "$ts" "$i"
		done
		printf '{"type":"identify","messageId":"k4","anonymousId":"a-7","timestamp":"%s4:00Z","traits":{"email":"Dana@Acme.example","title":"VP Sales","country":"DE"}}\n' "$ts"
		printf '{"type":"identify","messageId":"k5","anonymousId":"a-7","userId":"user-7","timestamp":"%s5:00Z","traits":{"email":"dana@acme.example","title":"VP Sales","country":"DE"}}\n' "$ts"
		printf '{"type":"track","messageId":"k6","anonymousId":"a-7","userId":"user-7","timestamp":"%s6:00Z","event":"Demo Requested"}\n' "$ts"
		printf '{"type":"alias","messageId":"k7","previousId":"a-7","userId":"user-7","timestamp":"%s7:00Z"}\n' "$ts"
	} >"$tmp/ident.jsonl"
	run "$tmp/ident.jsonl" -- simulate -c "$cfg"
	expect_rc simulate-identity-split 0 || return
	got=$(jq -r '"\(.lead) \(.score)"' "$tmp/out" | tr '\n' ' ')
	if [ "$got" = "user-7 60 " ] && grep -qx 'leads: 3' "$tmp/err" &&
		grep -qx 'mqls: 1' "$tmp/err" &&
		[ "$(rejects | sed 's/^{"line":\([0-9]*\),"reason":"\([a-z_]*\)".*/\1:\2/')" = 7:unknown_type ]; then
		ok "simulate-identity-split: 3 leads, 1 handoff with 60 points, alias unknown_type"
	else
		nok simulate-identity-split "handoffs: $got"
	fi
}

# sla_minutes only stamps sla_deadline: attempt stays 1 and a lead left
# unanswered for hours and days after its deadline is not routed again.
t_simulate_sla_no_reroute() {
	for t in 2026-03-02T09:00:00Z 2026-03-02T12:00:00Z 2026-03-04T09:00:00Z; do
		printf '{"type":"identify","messageId":"i%s","userId":"s1","timestamp":"%s","traits":{"email":"s1@acme.example","title":"VP","country":"DE"}}\n' "$t" "$t"
		printf '{"type":"track","messageId":"t%s","userId":"s1","timestamp":"%s","event":"Demo Requested"}\n' "$t" "$t"
	done >"$tmp/sla.jsonl"
	run "$tmp/sla.jsonl" -- simulate -c "$cfg"
	expect_rc simulate-sla-no-reroute 0 || return
	got=$(jq -r '"\(.attempt) \(.handoff_id | sub("^[0-9a-f]{16}"; "")) \(.sla_deadline)"' "$tmp/out" | tr '\n' ' ')
	if [ "$got" = "1 -1 2026-03-02T10:00:00.000Z " ]; then
		ok "simulate-sla-no-reroute: one handoff, attempt 1, deadline stamped"
	else
		nok simulate-sla-no-reroute "got: $got"
	fi
}

# The example config's senior-title rule matches whole words: "VP" earns
# its 25 fit points in "VP of Sales" but not in "Microsoft MVP", so of two
# leads alike but for the title only the VP reaches grade B and a rep.
t_example_title_word() {
	ex=$root/config/leadrouter.example.json
	for u in "w1 VP of Sales" "w2 Microsoft MVP, Developer Advocate"; do
		set -- $u
		id=$1
		shift
		printf '{"type":"identify","messageId":"%s-i","userId":"%s","timestamp":"2026-03-10T09:00:00Z","traits":{"email":"%s@brightwave.de","title":"%s","company":{"name":"Brightwave","employees":650,"industry":"Software"},"address":{"country":"DE"}}}\n' \
			"$id" "$id" "$id" "$*"
		printf '{"type":"track","messageId":"%s-d","userId":"%s","timestamp":"2026-03-10T09:05:00Z","event":"Demo Requested"}\n' "$id" "$id"
		printf '{"type":"page","messageId":"%s-p","userId":"%s","timestamp":"2026-03-10T09:06:00Z","properties":{"path":"/pricing"}}\n' "$id" "$id"
	done >"$tmp/word.jsonl"
	run "$tmp/word.jsonl" -- simulate -c "$ex"
	expect_rc example-title-word 0 || return
	got=$(jq -r '"\(.lead) \(.grade) \([.reasons.grade[].rule] | index("senior-title") != null)"' "$tmp/out" | tr '\n' ' ')
	if [ "$got" = "w1 B true " ] && grep -qx 'mqls: 1' "$tmp/err"; then
		ok "example-title-word: senior-title holds for \"VP of Sales\", not \"Microsoft MVP\""
	else
		nok example-title-word "handoffs: $got"
	fi
}

# White space around an e-mail is not part of the address: "Jo@GMAIL.com "
# and "ann@gmail.com<TAB>" are freemail, and without a userId the trimmed,
# lower-cased address is the lead key, so ann's two spellings are one lead.
t_simulate_email_blank() {
	ts='"timestamp":"2026-03-02T09:00:00Z"'
	{
		printf '{"type":"identify","messageId":"b1","userId":"b1",%s,"traits":{"email":"Jo@GMAIL.com "}}\n' "$ts"
		printf '{"type":"identify","messageId":"b2",%s,"traits":{"email":"ann@gmail.com\\t"}}\n' "$ts"
		printf '{"type":"track","messageId":"b3","event":"x",%s,"context":{"traits":{"email":" ANN@gmail.com"}}}\n' "$ts"
	} >"$tmp/blank.jsonl"
	run "$tmp/blank.jsonl" -- simulate -c "$cfg" --summary-json
	expect_rc simulate-email-blank 0 || return
	json=$(tail -n 1 "$tmp/err")
	if echo "$json" | grep -qF '"accepted":3,' &&
		echo "$json" | grep -qF '"leads":2,' &&
		echo "$json" | grep -qF '"disqualified":2,"disqualified_by_reason":{"freemail":2}'; then
		ok "simulate-email-blank: a freemail address with white space around it is freemail, one lead"
	else
		nok simulate-email-blank "got: $json"
	fi
}

# A lead's traits are capped (2048 packed bytes): at the cap the traits the
# config reads (email, title, company.size, country) evict enrichment
# traits, oldest first. c1's e-mail and title come after 2.5 KB of others
# and still disqualify it; c2, full, gains its e-mail on a later identify
# (f10 makes room) and is handed off graded and routed on what it kept;
# c3's identify trait group_id is a trait, not its account (group_id
# null). Dropped: f33-f39 and f10 of c1, f32-f39 and f10 of c2.
t_simulate_trait_cap() {
	x=$(printf '%083d' 0 | tr 0 x)
	fill=$(for i in $(seq 10 39); do printf '"f%s":"%s",' "$i" "$x"; done)
	{
		printf '{"type":"identify","messageId":"c1a","userId":"c1","timestamp":"2026-03-02T09:00:00Z","traits":{%s"email":"mallory@gmail.com","title":"VP Sales","country":"DE"}}\n' "$fill"
		printf '{"type":"track","messageId":"c1b","userId":"c1","event":"Demo Requested","timestamp":"2026-03-02T09:01:00Z"}\n'
		printf '{"type":"identify","messageId":"c2a","userId":"c2","timestamp":"2026-03-02T09:00:00Z","traits":{"title":"VP Sales","company":{"size":500},"country":"DE",%s"plan":"enterprise-monthly"}}\n' "$fill"
		printf '{"type":"track","messageId":"c2b","userId":"c2","event":"Demo Requested","timestamp":"2026-03-02T09:01:00Z"}\n'
		printf '{"type":"identify","messageId":"c2c","userId":"c2","timestamp":"2026-03-02T09:02:00Z","traits":{"email":"dana@acme.io"}}\n'
		printf '{"type":"identify","messageId":"c3a","userId":"c3","timestamp":"2026-03-02T09:00:00Z","traits":{"email":"x@corp.io","title":"VP Sales","group_id":"crm-1"}}\n'
		printf '{"type":"track","messageId":"c3b","userId":"c3","event":"Demo Requested","timestamp":"2026-03-02T09:01:00Z"}\n'
	} >"$tmp/cap.jsonl"
	run "$tmp/cap.jsonl" -- simulate -c "$cfg"
	expect_rc simulate-trait-cap 0 || return
	got=$(sed 's/.*"lead":"\([^"]*\)".*"team":"\([^"]*\)".*"grade":"\([A-D]\)","email_domain":\([^,]*\),"group_id":\([^,]*\),.*/\1 \2 \3 \4 \5/' "$tmp/out" | tr '\n' '|')
	text=$(sed -n '/^leads:/,/^mqls:/p' "$tmp/err" | tr '\n' '|')
	want='c2 emea A "acme.io" null|c3 na B "corp.io" null|'
	if [ "$got" = "$want" ] &&
		grep -qF '"group_id":"crm-1"' "$tmp/out" &&
		! grep -qF '"f10":' "$tmp/out" && grep -qF '"f11":' "$tmp/out" &&
		[ "$text" = "leads: 3|traits dropped: 17|disqualified: 1|  freemail: 1|mqls: 2|" ]; then
		ok "simulate-trait-cap: wanted traits win at the cap; group_id trait is not the account"
	else
		nok simulate-trait-cap "handoffs: $got; summary: $text"
	fi
}

# Lines over EVENT_MAX_BYTES (32768) are too_large, whether they fit the read
# buffer or not, and the line after each one is read normally. A line of
# exactly 32768 bytes is accepted.
t_simulate_too_long() {
	f=$tmp/long.jsonl
	id='{"type":"identify","messageId":"L1","userId":"u7","timestamp":"2026-03-03T09:00:00Z","traits":{"email":"lead7@umbrella.example","title":"VP IT","country":"GB","company":{"size":300}}}'
	head='{"type":"page","messageId":"L3","userId":"u7","timestamp":"2026-03-03T09:01:00Z","properties":{"path":"/docs","pad":"'
	pad=$((32768 - ${#head} - 3))
	{
		echo "$id"
		head -c 40000 /dev/zero | tr '\0' x
		echo
		printf '%s' "$head"
		head -c "$pad" /dev/zero | tr '\0' p
		echo '"}}'
		printf '%s' "$head"
		head -c "$((pad + 1))" /dev/zero | tr '\0' p
		echo '"}}'
		head -c 6000000 /dev/zero | tr '\0' y
		echo
		echo '{"type":"track","messageId":"L6","userId":"u7","timestamp":"2026-03-03T09:02:00Z","event":"Demo Requested"}'
	} >"$f"
	run "$f" -- simulate -c "$cfg" --summary-json
	expect_rc simulate-too-long 0 || return
	got=$(rejects | sed 's/^{"line":\([0-9]*\),"reason":"\([a-z_]*\)".*/\1:\2/' |
		tr '\n' ' ')
	if [ "$got" = "2:too_large 4:too_large 5:too_large " ] &&
		grep -qF '"lead":"u7"' "$tmp/out" &&
		tail -n 1 "$tmp/err" | grep -qF '"accepted":3'; then
		ok "simulate-too-long: 3 too_large, 32768-byte line accepted, next line read"
	else
		nok simulate-too-long "rejects '$got'"
	fi
}

# CRLF line ends and a last line without a newline read like plain lines.
t_simulate_crlf() {
	sed 's/$/\r/' "$events" >"$tmp/crlf.jsonl"
	run "$tmp/crlf.jsonl" -- simulate -c "$cfg"
	if expect_rc simulate-crlf 0 && cmp -s "$tmp/out" "$here/expected/handoffs.jsonl"; then
		ok "simulate-crlf: same handoffs with CRLF line ends"
	else
		nok simulate-crlf "handoffs differ"
	fi
	printf '%s' "$(cat "$events")" >"$tmp/nonl.jsonl"
	run "$tmp/nonl.jsonl" -- simulate -c "$cfg"
	if expect_rc simulate-no-final-newline 0 && cmp -s "$tmp/out" "$here/expected/handoffs.jsonl" &&
		grep -q '^{"line":21,' "$tmp/err"; then
		ok "simulate-no-final-newline: last line still read"
	else
		nok simulate-no-final-newline "last line lost"
	fi
}

# A byte order mark before the first event is skipped: the first event is
# accepted, and the output is what the same lines without it give. One
# before a later line is part of that line, which is rejected naming it.
t_simulate_bom() {
	{
		printf '\357\273\277'
		cat "$events"
	} >"$tmp/bom.jsonl"
	run "$tmp/bom.jsonl" -- simulate -c "$cfg"
	if ! expect_rc simulate-bom 0 || ! cmp -s "$tmp/out" "$here/expected/handoffs.jsonl" ||
		! summary | cmp -s - "$here/expected/summary.txt"; then
		nok simulate-bom "handoffs or summary differ"
		return
	fi
	{
		head -n 1 "$events"
		printf '\357\273\277'
		head -n 1 "$events"
	} >"$tmp/bom2.jsonl"
	run "$tmp/bom2.jsonl" -- simulate -c "$cfg"
	if expect_rc simulate-bom-later 0 && [ "$(rejects)" = '{"line":2,"reason":"not_json","message":"event starts with a UTF-8 byte order mark"}' ] &&
		summary | grep -qx 'accepted: 1'; then
		ok "simulate-bom: skipped before line 1 (accepted: 13, as without it), named on a later line"
	else
		nok simulate-bom-later "got: $(rejects)"
	fi
}

# simulate_same NAME FILE: the file on stdin and the same bytes through a
# pipe give identical output, whatever way a faster reader finds for files.
simulate_same() {
	"$bin" simulate -c "$cfg" --summary-json <"$2" >"$tmp/o1" 2>"$tmp/e1"
	r1=$?
	cat "$2" | "$bin" simulate -c "$cfg" --summary-json >"$tmp/o2" 2>"$tmp/e2"
	r2=$?
	if [ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && cmp -s "$tmp/o1" "$tmp/o2" &&
		cmp -s "$tmp/e1" "$tmp/e2"; then
		return 0
	fi
	nok "$1" "file and pipe differ (exit $r1, $r2)"
	return 1
}

# The corners of line splitting read alike from a file and a pipe: CRLF,
# blank lines, lines over the limit (one of blanks), a last line without
# a newline; and a file of many read buffers (256 KiB), whose lines
# straddle their boundaries.
t_simulate_file_pipe() {
	f=$tmp/corners.jsonl
	{
		cat "$events"
		sed 's/$/\r/' "$events"
		printf '\n\n \t\r\n'
		head -c 40000 /dev/zero | tr '\0' x
		echo
		head -c 40000 /dev/zero | tr '\0' ' '
		echo
		cat "$events"
		printf '%s' '{"type":"track","userId":"last","timestamp":"2026-03-03T09:00:00Z","event":"x"}'
	} >"$f"
	simulate_same simulate-file-pipe-corners "$f" || return
	if ! tail -n 1 "$tmp/e1" | grep -qF '"too_large":1'; then
		nok simulate-file-pipe-corners "no too_large line"
		return
	fi
	ok "simulate-file-pipe-corners: CRLF, blanks, too long, no final newline"
	f=$tmp/big.jsonl
	awk 'BEGIN { srand(7) }
	{ line[NR] = $0 }
	END {
		for (i = 0; i < 14000; i++) {
			pad = sprintf("%*s", int(rand() * 700), "")
			gsub(/ /, "p", pad)
			printf "{\"type\":\"track\",\"messageId\":\"b%d\",\"userId\":\"u%d\",\"timestamp\":\"2026-03-02T09:%02d:00.000Z\",\"event\":\"Demo Requested\",\"properties\":{\"pad\":\"%s\"}}\n", i, i % 97, i % 60, pad
			if (i % 500 == 0)
				for (j = 1; j <= NR; j++)
					print line[j]
		}
	}' "$events" >"$f"
	head -c 40000 /dev/zero | tr '\0' y >>"$f"
	simulate_same simulate-file-pipe-big "$f" || return
	if [ "$(wc -c <"$f")" -gt 5000000 ] &&
		tail -n 1 "$tmp/e1" | grep -qF '"events":14'; then
		ok "simulate-file-pipe-big: 5+ MB, lines across read-buffer boundaries"
	else
		nok simulate-file-pipe-big "input too small or events missing"
	fi
	# stdin already past a few lines, at an offset within a page
	{ head -n 7 >/dev/null && "$bin" simulate -c "$cfg" --summary-json \
		>"$tmp/o1" 2>"$tmp/e1"; } <"$f"
	tail -n +8 "$f" | "$bin" simulate -c "$cfg" --summary-json >"$tmp/o2" 2>"$tmp/e2"
	if cmp -s "$tmp/o1" "$tmp/o2" && cmp -s "$tmp/e1" "$tmp/e2"; then
		ok "simulate-file-offset: a file read from where stdin stands"
	else
		nok simulate-file-offset "differs from the same lines through a pipe"
	fi
}

# Long lines at every place a read buffer (256 KiB) can leave them: line
# 22 (222 KB) fits the first buffer; line 23 (40000 bytes at offset
# 225000) runs more than the limit past its end; line 45 is longer than
# a buffer; 46 (40000 bytes at 600000) is read whole; 47 is longer than a
# buffer; 69 is a last line of 40000 bytes without a newline. Made of
# blanks they are blank lines, skipped however long; with one "x" at
# their end, each is too large once, at its own line number.
simulate_long_lines() {
	f=$1
	blanks() {
		head -c "$(($1 - ${#2}))" /dev/zero | tr '\0' ' '
		printf '%s' "$2"
	}
	{
		cat "$events"
		blanks $((225000 - $(wc -c <"$events") - 1)) "$2"
		echo
		blanks 40000 "$2"
		echo
		cat "$events"
	} >"$f"
	{
		blanks $((600000 - $(wc -c <"$f") - 1)) "$2"
		echo
		blanks 40000 "$2"
		echo
		blanks 300000 "$2"
		echo
		cat "$events"
		blanks 40000 "$2"
	} >>"$f"
}

too_large_lines() {
	grep '^{"line":[0-9]*,"reason":"too_large"' "$1" |
		sed 's/^{"line":\([0-9]*\),.*/\1/' | tr '\n' ' '
}

t_simulate_file_pipe_blanks() {
	simulate_long_lines "$tmp/long.jsonl" x
	simulate_same simulate-file-pipe-long "$tmp/long.jsonl" || return
	got=$(too_large_lines "$tmp/e1")
	if [ "$got" != "22 23 45 46 47 69 " ]; then
		nok simulate-file-pipe-long "too_large lines '$got', expected '22 23 45 46 47 69 '"
		return
	fi
	ok "simulate-file-pipe-long: long lines too large once each, wherever the buffer ends"
	f=$tmp/blanks.jsonl
	simulate_long_lines "$f" ""
	simulate_same simulate-file-pipe-blanks "$f" || return
	got=$(too_large_lines "$tmp/e1")
	n=$("$bin" simulate -c "$cfg" --summary-json <"$events" 2>&1 >/dev/null |
		sed -n 's/^{"events":\([0-9]*\),.*/\1/p')
	n=$((n * 3)) # the events, three times; no blank line counts
	if [ -n "$got" ] || ! tail -n 1 "$tmp/e1" | grep -qF "{\"events\":$n,"; then
		nok simulate-file-pipe-blanks "long blank lines reported: '$got'"
		return
	fi
	ok "simulate-file-pipe-blanks: blank lines of any length skipped, wherever the buffer ends"
	printf '\r\r\n\r \t\r\n\t\r\n' >"$tmp/cr.jsonl"
	"$bin" simulate -c "$cfg" --summary-json <"$tmp/cr.jsonl" >/dev/null 2>"$tmp/cr.err"
	if tail -n 1 "$tmp/cr.err" | grep -qF '{"events":0,'; then
		ok "simulate-blank-cr: lines of CRs, tabs and spaces are blank"
	else
		nok simulate-blank-cr "$(tail -n 1 "$tmp/cr.err")"
	fi
	# the same past several buffers, then a good last line without a newline
	acc=$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$tmp/e1")
	{
		cat "$f"
		echo
		printf '%s' '{"type":"track","userId":"last","timestamp":"2026-03-03T09:00:00Z","event":"x"}'
	} >"$f.2"
	simulate_same simulate-file-pipe-last "$f.2" || return
	if [ "$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$tmp/e1")" = $((acc + 1)) ]; then
		ok "simulate-file-pipe-last: a last line without a newline after many buffers"
	else
		nok simulate-file-pipe-last "the last line was not accepted"
	fi
}

t_simulate_empty() {
	run /dev/null -- simulate -c "$cfg"
	expect_rc simulate-empty 0 || return
	if [ ! -s "$tmp/out" ] && grep -qx 'events read: 0' "$tmp/err"; then
		ok "simulate-empty: no input, no handoffs, exit 0"
	else
		nok simulate-empty "unexpected output"
	fi
}

# Same input, same bytes: stdout and stderr of two runs are identical.
t_simulate_deterministic() {
	"$bin" simulate -c "$cfg" <"$events" >"$tmp/o1" 2>"$tmp/e1"
	"$bin" simulate -c "$cfg" <"$events" >"$tmp/o2" 2>"$tmp/e2"
	if cmp -s "$tmp/o1" "$tmp/o2" && cmp -s "$tmp/e1" "$tmp/e2" && [ -s "$tmp/o1" ]; then
		ok "simulate-deterministic: two runs byte-identical"
	else
		nok simulate-deterministic "runs differ"
	fi
}

t_simulate_write_error() {
	if [ ! -w /dev/full ]; then
		echo "skip simulate-write-error: no /dev/full"
		return
	fi
	"$bin" simulate -c "$cfg" <"$events" >/dev/full 2>"$tmp/err"
	rc=$?
	expect_rc simulate-write-error 1 && ok "simulate-write-error: exit 1 when stdout fails"
}

# A read error ends simulate with exit 1 and a log line carrying strerror;
# under journald (JOURNAL_STREAM names stderr) the line has a "<4>" prefix.
t_simulate_read_error() {
	run / -- simulate -c "$cfg"
	expect_rc simulate-read-error 1 || return
	if grep -q '^warning: simulate: reading input: .' "$tmp/err"; then
		ok "simulate-read-error: exit 1, 'warning: ...: strerror'"
	else
		nok simulate-read-error "no warning line"
	fi
	: >"$tmp/journal"
	js=$(stat -L -c '%d:%i' "$tmp/journal")
	JOURNAL_STREAM=$js "$bin" simulate -c "$cfg" </ 2>>"$tmp/journal"
	if grep -q '^<4>simulate: reading input: .' "$tmp/journal"; then
		ok "log-journald: '<4>' priority prefix when stderr is the journal"
	else
		nok log-journald "got: $(head -c 120 "$tmp/journal")"
	fi
}

t_sample() {
	ex=$root/config/leadrouter.example.json
	sample=$root/config/sample-events.jsonl
	if [ ! -f "$ex" ] || [ ! -f "$sample" ]; then
		nok simulate-sample "example config or sample events missing"
		return
	fi
	run "$sample" -- simulate -c "$ex"
	expect_rc simulate-sample 0 || return
	cp "$tmp/out" "$tmp/sample1"
	run "$sample" -- simulate -c "$ex"
	if cmp -s "$tmp/out" "$tmp/sample1" && grep -q '^handoffs: ' "$tmp/err"; then
		ok "simulate-sample: example config on sample events, exit 0, stable"
	else
		nok simulate-sample "unstable or no summary"
	fi
	# README's handoff example is the second handoff of this run
	awk '/^### Example/ { on = 1 } on && /^```$/ { exit }
		on > 1 { print } on && /^```json/ { on = 2 }' \
		"$root/README.md" >"$tmp/readme-handoff.json"
	if jq -S . "$tmp/readme-handoff.json" >"$tmp/r1" 2>/dev/null &&
		sed -n 2p "$tmp/sample1" | jq -S . >"$tmp/r2" &&
		cmp -s "$tmp/r1" "$tmp/r2"; then
		ok "readme-handoff: README's example is what simulate writes"
	else
		nok readme-handoff "README's handoff example differs from the sample run's second handoff"
	fi
}

# The man page renders without a single warning (groff -ww) and no output
# from -z, so a typo in a macro or an escape fails here, not in a reader's
# terminal. groff comes from groff-base (DEB_PKGS).
t_man_warnings() {
	page=$root/doc/leadrouter.8
	if ! command -v groff >/dev/null 2>&1; then
		: >"$tmp/err"
		nok man-warnings "groff not found (Debian package groff-base)"
		return
	fi
	groff -man -Tutf8 -ww -z "$page" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ ! -s "$tmp/out" ]; then
		ok "man-warnings: doc/leadrouter.8 renders without warnings"
	else
		nok man-warnings "groff exit $rc, $(wc -l <"$tmp/err" | tr -d ' ') warning line(s)"
	fi
}

# Option names (-x, --name) in text on stdin, one per line, sorted.
option_names() {
	grep -oE -- '(^|[^-A-Za-z0-9])--?[A-Za-z][-A-Za-z]*' |
		sed 's/^[^-]//' | sort -u
}

# The man page's OPTIONS section names exactly the options --help prints:
# neither can gain or lose one without the other.
t_man_options() {
	page=$root/doc/leadrouter.8
	"$bin" --help | option_names >"$tmp/help.opts"
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$page" | sed '1d;$d' |
		sed 's/\\-/-/g; s/\\f[BIRP]//g' | option_names >"$tmp/man.opts"
	missing=$(comm -23 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	extra=$(comm -13 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	: >"$tmp/err"
	if [ ! -s "$tmp/help.opts" ]; then
		nok man-options "no options in --help"
	elif [ -n "$missing$extra" ]; then
		nok man-options "not in OPTIONS: '$missing'; not in --help: '$extra'"
	else
		ok "man-options: OPTIONS names the $(wc -l <"$tmp/help.opts" | tr -d ' ') options --help prints, no other"
	fi
}

# The permission model of an install under /usr/local in $dest, for real:
# systemd-sysusers and systemd-tmpfiles (--root=$dest) find leadrouter.conf
# where make install put it, as README's "Running it" runs them; they
# create the leadrouter user and group and /etc/leadrouter, root:leadrouter
# 0750; a config there, root:leadrouter 0640, can be checked by the
# installed binary as that user and group and not as nobody (65534), who
# is not in the group. Needs root (the ids and chown); a missing tool is a
# failure, not a skip. Leaves $dest/etc behind.
install_users() {
	for t in systemd-sysusers systemd-tmpfiles setpriv; do
		if ! command -v "$t" >/dev/null 2>&1; then
			nok "install users" "$t not found (Debian: systemd, util-linux)"
			return 1
		fi
	done
	if [ "$(id -u)" -ne 0 ]; then
		nok "install users" "must run as root to switch ids and chown"
		return 1
	fi
	mkdir -p "$dest/etc"
	if ! systemd-sysusers --root="$dest" leadrouter.conf >"$tmp/out" 2>"$tmp/err" ||
		! systemd-tmpfiles --root="$dest" --create leadrouter.conf \
			>"$tmp/out" 2>"$tmp/err"; then
		nok "install users" "systemd-sysusers or systemd-tmpfiles failed"
		return 1
	fi
	: >"$tmp/err"
	uid=$(awk -F: '$1 == "leadrouter" { print $3 }' "$dest/etc/passwd" 2>/dev/null)
	gid=$(awk -F: '$1 == "leadrouter" { print $3 }' "$dest/etc/group" 2>/dev/null)
	pgid=$(awk -F: '$1 == "leadrouter" { print $4 }' "$dest/etc/passwd" 2>/dev/null)
	if [ -z "$uid" ] || [ -z "$gid" ] || [ "$uid" -eq 0 ] || [ "$gid" -eq 0 ] ||
		[ "$uid" -eq 65534 ] || [ "$gid" -eq 65534 ] || [ "$pgid" != "$gid" ]; then
		nok "install users" "no leadrouter user with its own group in etc/passwd and etc/group"
		return 1
	fi
	got=$(stat -c '%u %g %a' "$dest/etc/leadrouter" 2>/dev/null)
	if [ "$got" != "0 $gid 750" ]; then
		nok "install users" "etc/leadrouter is '$got', expected '0 $gid 750'"
		return 1
	fi
	conf=$dest/etc/leadrouter/leadrouter.json
	install -m 0640 -o 0 -g "$gid" "$cfg" "$conf"
	# mktemp made $tmp 0700: let the two users reach $dest through it
	chmod 0711 "$tmp"
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		"$p/bin/leadrouter" --check-config -c "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q '^ok: ' "$tmp/out"; then
		nok "install users" "leadrouter ($uid:$gid) cannot check the config: exit $rc"
		return 1
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$p/bin/leadrouter" --check-config -c "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -qF "$conf: \$: " "$tmp/err"; then
		nok "install users" "nobody (65534) reads the config: exit $rc"
		return 1
	fi
	: >"$tmp/err"
	return 0
}

# systemd-analyze verify on the installed unit, its paths pointed into
# $dest (no --root: that wants a whole system there, sysinit.target and
# all). It works without a running systemd; it only warns (exit 0) on an
# unknown key or a bad value, so any output is a failure too.
verify_unit() {
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		nok "install $prefix" "systemd-analyze not found (Debian: systemd)"
		return 1
	fi
	mkdir -p "$tmp/verify"
	sed "s|$prefix/|$dest$prefix/|g" "$unit" >"$tmp/verify/leadrouter.service"
	systemd-analyze verify --man=no "$tmp/verify/leadrouter.service" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
		nok "install $prefix" "systemd-analyze verify: exit $rc or output"
		return 1
	fi
	return 0
}

# make install DESTDIR=... PREFIX=... puts every file in its place with its
# mode (the binary under test, so nothing is built), the unit runs the
# binary it installed, names docs that were installed, runs as the user
# leadrouter and passes systemd-analyze verify, and make uninstall removes
# every file. Two prefixes: the default, whose unit is the file as
# committed, and another, written into the installed unit. Under the
# default, install_users checks the user, /etc/leadrouter and who can read
# the config.
t_install() {
	for prefix in /usr/local /opt/leadrouter; do
		dest=$tmp/dest
		p=$dest$prefix
		rm -rf "$dest"
		if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" \
			install DESTDIR="$dest" PREFIX="$prefix" INSTALL_BIN="$bin" \
			>"$tmp/out" 2>"$tmp/err"; then
			nok "install $prefix" "make install failed"
			return
		fi
		unit=$p/lib/systemd/system/leadrouter.service
		sysusers=$p/lib/sysusers.d/leadrouter.conf
		tmpfiles=$p/lib/tmpfiles.d/leadrouter.conf
		find "$dest" -type f -exec stat -c '%a %n' {} + | sort >"$tmp/got"
		sort >"$tmp/want" <<-EOF
			755 $p/bin/leadrouter
			644 $p/share/man/man8/leadrouter.8
			644 $p/share/doc/leadrouter/README.md
			644 $p/share/doc/leadrouter/leadrouter.example.json
			644 $unit
			644 $sysusers
			644 $tmpfiles
		EOF
		: >"$tmp/err"
		if ! cmp -s "$tmp/got" "$tmp/want"; then
			nok "install $prefix" "files or modes differ: $(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | tr '\n' ' ')"
			return
		fi
		if ! cmp -s "$bin" "$p/bin/leadrouter" ||
			! cmp -s "$root/doc/leadrouter.8" "$p/share/man/man8/leadrouter.8" ||
			! cmp -s "$root/README.md" "$p/share/doc/leadrouter/README.md" ||
			! cmp -s "$root/config/leadrouter.example.json" \
				"$p/share/doc/leadrouter/leadrouter.example.json" ||
			! cmp -s "$root/systemd/leadrouter.sysusers" "$sysusers" ||
			! cmp -s "$root/systemd/leadrouter.tmpfiles" "$tmpfiles"; then
			nok "install $prefix" "an installed file differs from its source"
			return
		fi
		sed "s|/usr/local/|$prefix/|g" "$root/systemd/leadrouter.service" >"$tmp/unit"
		if ! cmp -s "$tmp/unit" "$unit"; then
			nok "install $prefix" "installed unit is not the committed one for $prefix"
			return
		fi
		# every binary the unit runs, and every document it names, installed
		bad=""
		for exe in $(sed -n 's/^ExecStart\(Pre\)\{0,1\}=\([^ ]*\).*/\2/p' "$unit"); do
			[ "$exe" = "$prefix/bin/leadrouter" ] && [ -x "$dest$exe" ] ||
				bad="$bad $exe"
		done
		for doc in $(sed -n 's/^Documentation=//p' "$unit"); do
			case $doc in
			file://*) [ -f "$dest${doc#file://}" ] || bad="$bad $doc" ;;
			"man:leadrouter(8)") [ -f "$p/share/man/man8/leadrouter.8" ] || bad="$bad $doc" ;;
			*) bad="$bad $doc" ;;
			esac
		done
		if [ -n "$bad" ] || ! grep -q '^ExecStart=' "$unit" ||
			! grep -qF 'man:leadrouter(8)' "$unit"; then
			nok "install $prefix" "the unit names what was not installed:$bad"
			return
		fi
		# the user and group the daemon runs as, not a dynamic one
		if [ "$(sed -n 's/^\(User\|Group\|DynamicUser\)=/&/p' "$unit")" != \
			"$(printf 'User=leadrouter\nGroup=leadrouter')" ] ||
			grep -q '^ConfigurationDirectory' "$unit"; then
			nok "install $prefix" "the unit does not run as User=leadrouter Group=leadrouter alone"
			return
		fi
		verify_unit || return
		if [ "$prefix" = /usr/local ]; then
			install_users || return
			rm -rf "$dest/etc"
			users=", the leadrouter user and group, etc/leadrouter root:leadrouter 750, a 640 config read by leadrouter and not by nobody"
		else
			users=""
		fi
		if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" \
			uninstall DESTDIR="$dest" PREFIX="$prefix" >"$tmp/out" 2>"$tmp/err" ||
			[ -n "$(find "$dest" -type f)" ] || [ -d "$p/share/doc/leadrouter" ]; then
			nok "uninstall $prefix" "files left: $(find "$dest" -type f | tr '\n' ' ')"
			return
		fi
		ok "install $prefix: 7 files, modes 755/644, the unit runs what was installed as leadrouter and verifies$users; uninstall removes them"
	done
}

t_version
t_help
t_man_warnings
t_man_options
t_usage bad-option --bogus
t_usage no-config --check-config
t_usage extra-argument -c "$cfg" stray
t_usage simulate-no-config simulate
t_usage summary-json-outside-simulate --summary-json -c "$cfg"
t_check_good check-config --check-config -c "$cfg"
t_check_good check-config-short -t -c "$cfg"
t_check_example
t_check_bad bad-many
t_check_bad bad-missing
t_check_bad bad-syntax
t_check_bad bad-kafka
t_check_kafka_good
t_check_kafka_secret
t_check_bom
t_check_missing
t_check_wording
t_check_unreachable
t_run_kafka_log
t_run_kafka_confwarn
t_run_stop_starting TERM
t_run_stop_starting INT
t_run_bad
t_run_bad_kafka
t_simulate_bad_config
t_simulate_golden
t_simulate_reject_lines
t_simulate_duplicate
t_simulate_summary_json
t_simulate_nul_key
t_simulate_disqualified
t_simulate_not_handed_off
t_simulate_late_daily_cap
t_simulate_identity_split
t_simulate_sla_no_reroute
t_simulate_email_blank
t_simulate_trait_cap
t_simulate_too_long
t_simulate_crlf
t_simulate_bom
t_simulate_file_pipe
t_simulate_file_pipe_blanks
t_simulate_empty
t_simulate_deterministic
t_simulate_write_error
t_simulate_read_error
t_sample
t_example_title_word
t_install

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
