#!/usr/bin/env bash
# gen_stream.sh - a small deterministic stream of Segment Spec events for the
# end-to-end tests, tuned to tests/kafka/e2e.json.
#
#   gen_stream.sh [-l LEADS] [-s SEED] [-b EVERY] [-d EVERY]
#
# LEADS leads (default 400), eight events each for known leads (identify,
# docs, pricing, ebook, customers, "Demo Requested", "Contact Sales Clicked",
# pricing), four page views for anonymous ones. About half the leads
# qualify under e2e.json, at their sixth event (the demo request), spread
# over EMEA (DE), AMER (US), enterprise (2,500 employees) and the inbound
# fallback (JP); the rest have a poor fit, a freemail address or no identity
# and never qualify. Leads' events interleave (lead i starts i % 4 rounds
# late) and event time moves 10 s per event from 2026-03-02T00:00:00Z.
#
# -b EVERY  after every EVERY-th event insert a bad one (not JSON, not an
#           object, no identity, userId of the wrong type, unknown type, in
#           turn), so the DLQ sees them and the good events go on.
# -d EVERY  send every EVERY-th event twice (same bytes, same messageId), as
#           an at-least-once producer does.
# Same arguments, same bytes: nothing depends on the clock or on rand().
set -euo pipefail

leads=400 seed=1 bad=0 dup=0
while getopts l:s:b:d: o; do
	case $o in
	l) leads=$OPTARG ;;
	s) seed=$OPTARG ;;
	b) bad=$OPTARG ;;
	d) dup=$OPTARG ;;
	*)
		echo "usage: gen_stream.sh [-l LEADS] [-s SEED] [-b EVERY] [-d EVERY]" >&2
		exit 2
		;;
	esac
done

exec awk -v L="$leads" -v S="$seed" -v BAD="$bad" -v DUP="$dup" '
function ts(k,    t, d, h, m, s) {
	t = k * 10
	d = int(t / 86400); t -= d * 86400
	h = int(t / 3600); t -= h * 3600
	m = int(t / 60); s = t - m * 60
	return sprintf("2026-03-%02dT%02d:%02d:%02d.000Z", 2 + d, h, m, s)
}
function emit(line) {
	print line
	n++
	if (DUP > 0 && n % DUP == 0)
		print line
	if (BAD > 0 && n % BAD == 0) {
		b = nbad++ % 5
		if (b == 0)
			print "{\"type\":\"track\",\"userId\":\"broken-" nbad "\",\"event\":"
		else if (b == 1)
			print "[\"not\",\"an\",\"object\"," nbad "]"
		else if (b == 2)
			print "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"bad-" S "-" nbad "\",\"timestamp\":\"" ts(k) "\"}"
		else if (b == 3)
			print "{\"type\":\"track\",\"userId\":true,\"n\":" nbad ",\"event\":\"Demo Requested\",\"messageId\":\"bad-" S "-" nbad "\",\"timestamp\":\"" ts(k) "\"}"
		else
			print "{\"type\":\"teleport\",\"userId\":\"lead-" S "-bad" nbad "\",\"messageId\":\"bad-" S "-" nbad "\",\"timestamp\":\"" ts(k) "\"}"
	}
}
# The profile of lead i: 0-5 good fit, 6-7 poor fit, 8 freemail, 9 anonymous.
function profile(i) { return (i * 7 + S * 3) % 10 }
function event(i, j,    id, who, p, c, emp, country, dom, mid, t) {
	p = profile(i)
	id = "lead-" S "-" i
	mid = "m-" S "-" i "-" j
	t = ts(k++)
	if (p == 9) {
		who = "\"anonymousId\":\"anon-" S "-" i "\""
		emit("{\"type\":\"page\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"name\":\"Pricing\",\"properties\":{\"path\":\"/pricing\",\"url\":\"https://www.example.org/pricing\"}}")
		return
	}
	who = "\"userId\":\"" id "\""
	if (j == 0) {
		c = i % 3
		country = c == 0 ? "DE" : (c == 1 ? "US" : "JP")
		emp = (i % 7 == 3) ? 2500 : 500
		dom = p == 8 ? "gmail.com" : "company" i ".test"
		if (p <= 5)
			tr = "\"title\":\"VP Marketing\",\"company\":{\"name\":\"Company " i "\",\"employees\":" emp ",\"industry\":\"Software\"}"
		else
			tr = "\"title\":\"Engineer\",\"company\":{\"name\":\"Company " i "\",\"employees\":10,\"industry\":\"Retail\"}"
		if (p == 8)
			tr = "\"title\":\"VP Marketing\",\"company\":{\"name\":\"Company " i "\",\"employees\":500,\"industry\":\"Software\"}"
		emit("{\"type\":\"identify\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"traits\":{\"email\":\"person" i "@" dom "\",\"name\":\"Person " i "\"," tr ",\"address\":{\"country\":\"" country "\"}}}")
	} else if (j == 1) {
		emit("{\"type\":\"page\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"name\":\"Docs\",\"properties\":{\"path\":\"/docs/getting-started\"}}")
	} else if (j == 2 || j == 7) {
		emit("{\"type\":\"page\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"name\":\"Pricing\",\"properties\":{\"path\":\"/pricing\"}}")
	} else if (j == 3) {
		emit("{\"type\":\"track\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"event\":\"Ebook Downloaded\",\"properties\":{\"title\":\"Routing 101\"}}")
	} else if (j == 4) {
		emit("{\"type\":\"page\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"name\":\"Customers\",\"properties\":{\"path\":\"/customers\"}}")
	} else if (j == 5) {
		emit("{\"type\":\"track\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"event\":\"Demo Requested\",\"properties\":{\"source\":\"web\"}}")
	} else {
		emit("{\"type\":\"track\"," who ",\"messageId\":\"" mid "\",\"timestamp\":\"" t "\",\"event\":\"Contact Sales Clicked\"}")
	}
}
BEGIN {
	k = 0; n = 0; nbad = 0
	for (s = 0; s < 8 + 4; s++)
		for (i = 0; i < L; i++) {
			j = s - i % 4
			ne = profile(i) == 9 ? 4 : 8
			if (j >= 0 && j < ne)
				event(i, j)
		}
}'
