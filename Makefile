# leadrouter - build, test and benchmark targets.
#
# Every target that needs a Debian package depends on `deps`, which installs
# what is missing with apt-get, so a fresh machine needs nothing by hand.

CC      ?= cc
BUILD   ?= build
PKGS     = rdkafka libevent jansson libsystemd glib-2.0 libxxhash
CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O3 -g
# How every build (gcc, the fuzzers, check-clang) includes jsmn.
JSMN_DEFS = -DJSMN_STATIC -DJSMN_PARENT_LINKS -DJSMN_STRICT
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(JSMN_DEFS) \
	$$(pkg-config --cflags $(PKGS)) $(EXTRA_CFLAGS)
LDLIBS_ALL = $$(pkg-config --libs $(PKGS)) -lm $(EXTRA_LDFLAGS)

DEB_PKGS = build-essential pkg-config librdkafka-dev libevent-dev libjansson-dev \
	libcmocka-dev libsystemd-dev libjsmn-dev libglib2.0-dev libxxhash-dev \
	kcat clang clang-format libclang-rt-14-dev valgrind tzdata \
	openjdk-17-jdk-headless maven curl time jq groff-base systemd procps

ENGINE_SRC = $(wildcard engine/*.c)
CONFIG_SRC = $(wildcard config/*.c)
DAEMON_SRC = $(wildcard daemon/*.c consumers/*.c producers/*.c)
LIB_SRC    = $(ENGINE_SRC) $(CONFIG_SRC)
LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KTEST_SRC  = $(wildcard tests/kafka/*.c)
KTEST_BIN  = $(KTEST_SRC:tests/kafka/%.c=$(BUILD)/tests/kafka/%)

.PHONY: all deps test test-unit check check-valgrind check-clang fuzz fuzz-run fuzz-diff fuzz-diff-run format \
	format-check bench bench-parse bench-leads bench-kafka test-kafka clean run-sample install uninstall

all: $(BUILD)/leadrouter

# The stamp is older than a Makefile that may list a new package: the
# check runs again then (dpkg-query only, unless something is missing).
deps: $(BUILD)/.deps
$(BUILD)/.deps: Makefile
	@mkdir -p $(BUILD)
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@touch $@

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libleadrouter.a: $(LIB_OBJ)
	ar rcs $@ $^

# leadrouter itself. With PGO=1 (the default) GCC optimises it from a profile
# of the per-event path: an instrumented build in $(PGO_DIR) runs simulate
# over a stream from bench/gen_events (its own seed, not the benchmark's)
# and the sample events, and the same objects are then compiled again with
# -fprofile-use (a static function's profile is keyed to its object's path,
# so both passes build in one directory). Branch layout and inlining follow
# the hot path; simulate goes some 5-10% faster, with the same output. PGO=0
# links the plain objects; it is the default when OPT is given on the
# command line (sanitizer and debugging builds).
PGO     ?= $(if $(filter command line,$(origin OPT)),0,1)
PGO_DIR  = $(BUILD)/pgo
PGO_GEN  = -fprofile-generate -fprofile-update=single
PGO_USE  = -fprofile-use -fprofile-partial-training -Wno-missing-profile
PGO_SRC  = $(LIB_SRC) $(DAEMON_SRC) $(wildcard */*.h) bench/gen_events.c \
	bench/bench.json config/leadrouter.example.json config/sample-events.jsonl Makefile

# Which of the two builds $(BUILD)/leadrouter is: switching PGO relinks it.
PGO_MODE = $(BUILD)/.pgo-$(PGO)
$(PGO_MODE):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.pgo-* && touch $@

ifeq ($(PGO),1)
$(BUILD)/leadrouter: $(PGO_SRC) $(PGO_MODE) | deps
	rm -rf $(PGO_DIR)
	$(MAKE) -s PGO=0 BUILD=$(PGO_DIR) OPT="$(OPT) $(PGO_GEN)" $(PGO_DIR)/leadrouter
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -o $(PGO_DIR)/gen_events bench/gen_events.c -lm
	$(PGO_DIR)/gen_events -n 200000 -l 50000 -s 7 > $(PGO_DIR)/train.jsonl
	$(PGO_DIR)/leadrouter simulate -c bench/bench.json < $(PGO_DIR)/train.jsonl > /dev/null 2>&1
	$(PGO_DIR)/leadrouter simulate -c config/leadrouter.example.json \
		< config/sample-events.jsonl > /dev/null 2>&1
	find $(PGO_DIR) -name '*.o' -delete
	rm -f $(PGO_DIR)/leadrouter $(PGO_DIR)/libleadrouter.a $(PGO_DIR)/train.jsonl
	$(MAKE) -s PGO=0 BUILD=$(PGO_DIR) OPT="$(OPT) $(PGO_USE)" $(PGO_DIR)/leadrouter
	cp $(PGO_DIR)/leadrouter $@
else
$(BUILD)/leadrouter: $(DAEMON_OBJ) $(BUILD)/libleadrouter.a $(PGO_MODE)
	$(CC) $(CFLAGS_ALL) -o $@ $(DAEMON_OBJ) $(BUILD)/libleadrouter.a $(LDLIBS_ALL)
endif

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libleadrouter.a $(wildcard tests/unit/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(BUILD)/libleadrouter.a \
		$(LDLIBS_ALL) $$(pkg-config --libs cmocka)

# These compile daemon sources in (see their headers).
$(BUILD)/tests/test_feedback: daemon/feedback.c daemon/feedback.h daemon/metrics.c \
	daemon/metrics.h engine/unescape.h
$(BUILD)/tests/test_metrics: daemon/metrics.c daemon/metrics.h
$(BUILD)/tests/test_state: daemon/state.c daemon/state.h

# The README's test command: unit and command-line tests, then the
# real-broker tests (a Kafka broker on loopback, started and stopped here).
test: test-unit
	$(MAKE) BUILD=$(BUILD) test-kafka

# Unit tests: every binary runs even when one fails; the exit status tells.
# The benchmark programs are built too, so an API change cannot leave them
# behind unnoticed; they are not run here.
test-unit: $(UNIT_BIN) $(BUILD)/leadrouter $(BUILD)/bench_parse $(BUILD)/bench_leads
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; (cd tests/unit && ../../$$t) || fail=1; \
	done; \
	sh tests/cli/run.sh $(BUILD)/leadrouter || fail=1; \
	exit $$fail

# The same tests under ASan + UBSan, then valgrind on the plain build, then a
# short fuzz run.
check: deps
	$(MAKE) PGO=0 BUILD=build/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test-unit
	$(MAKE) check-valgrind
	$(MAKE) check-clang
	$(MAKE) fuzz-run

# The product sources under clang's warnings too, so the fuzzers (clang
# builds) and anyone building with clang get no surprises.
check-clang: deps
	@for f in $(LIB_SRC) $(DAEMON_SRC); do \
		clang $(CSTD) $(WARN) $(JSMN_DEFS) $$(pkg-config --cflags $(PKGS)) \
			-fsyntax-only $$f || exit 1; \
	done

check-valgrind: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		(cd tests/unit && valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite ../../$$t >/dev/null) || { echo "valgrind: $$t failed"; fail=1; }; \
	done; exit $$fail

FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	$(JSMN_DEFS) $$(pkg-config --cflags $(PKGS))
fuzz: deps
	@mkdir -p $(BUILD)/fuzz
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_event tests/fuzz/fuzz_event.c $(ENGINE_SRC) $(LDLIBS_ALL)
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_event_line tests/fuzz/fuzz_event_line.c $(ENGINE_SRC) $(LDLIBS_ALL)
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_config tests/fuzz/fuzz_config.c $(ENGINE_SRC) $(CONFIG_SRC) $(LDLIBS_ALL)
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_lead_decode tests/fuzz/fuzz_lead_decode.c $(ENGINE_SRC) $(LDLIBS_ALL)
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_feedback tests/fuzz/fuzz_feedback.c $(ENGINE_SRC) $(LDLIBS_ALL)
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_jtext tests/fuzz/fuzz_jtext.c engine/jtext.c $(LDLIBS_ALL)

# The new event parser against the jsmn-based one it replaced, built from
# git at EVENT_REF_COMMIT with its external names prefixed ref_. Not in CI:
# it proved the rewrite, and later intended changes (see its header) differ.
EVENT_REF_COMMIT = 9dbe4ca
EVENT_REF_NAMES = event_parse event_reason_code event_type_name event_type_parse \
	event_prop_get event_trait_get event_timestamp_parse
fuzz-diff: deps
	@mkdir -p $(BUILD)/fuzz
	git show $(EVENT_REF_COMMIT):engine/event.c > $(BUILD)/fuzz/event_ref.c
	clang $(FUZZ_FLAGS) -Iengine $(foreach n,$(EVENT_REF_NAMES),-D$(n)=ref_$(n)) \
		-c -o $(BUILD)/fuzz/event_ref.o $(BUILD)/fuzz/event_ref.c
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/fuzz_event_diff tests/fuzz/fuzz_event_diff.c \
		engine/event.c $(BUILD)/fuzz/event_ref.o $(LDLIBS_ALL)

fuzz-diff-run: fuzz-diff
	$(call FUZZ_RUN,event-diff,event_diff,-dict=tests/fuzz/event.dict)

# New inputs go to a scratch corpus under $(BUILD); the seeds stay as committed.
FUZZ_RUN = mkdir -p $(BUILD)/fuzz/corpus-$(1) && $(BUILD)/fuzz/fuzz_$(2) \
	-max_total_time=$${FUZZ_SECONDS:-20} $(3) $(BUILD)/fuzz/corpus-$(1) tests/fuzz/corpus/$(1)
fuzz-run: fuzz
	$(call FUZZ_RUN,event,event,-dict=tests/fuzz/event.dict)
	$(call FUZZ_RUN,event-line,event_line,-dict=tests/fuzz/event.dict)
	$(call FUZZ_RUN,config,config,)
	$(call FUZZ_RUN,lead,lead_decode,)
	$(call FUZZ_RUN,feedback,feedback,)
	$(call FUZZ_RUN,jtext,jtext,)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check: deps
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

run-sample: $(BUILD)/leadrouter
	$(BUILD)/leadrouter simulate -c config/leadrouter.example.json < config/sample-events.jsonl

bench: $(BUILD)/leadrouter
	sh bench/bench_simulate.sh $(BUILD)/leadrouter

# The parser alone, next to jsmn alone on the same bytes.
$(BUILD)/bench_parse: bench/bench_parse.c $(BUILD)/libleadrouter.a | deps
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libleadrouter.a $(LDLIBS_ALL)

bench-parse: $(BUILD)/bench_parse
	$(BUILD)/bench_parse

# The lead table and engine alone, on events filled in by hand.
$(BUILD)/bench_leads: bench/bench_leads.c $(BUILD)/libleadrouter.a | deps
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libleadrouter.a $(LDLIBS_ALL)

bench-leads: $(BUILD)/bench_leads
	$(BUILD)/bench_leads

$(BUILD)/tests/kafka/%: tests/kafka/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(LDLIBS_ALL)

# These compile the producer or the consumer in (see their headers).
$(BUILD)/tests/kafka/mock_txn_resume: producers/producer.c producers/producer.h daemon/log.c tests/kafka/mock_unit.h
$(BUILD)/tests/kafka/mock_restore: consumers/consumer.c consumers/consumer.h daemon/log.c tests/kafka/mock_unit.h

test-kafka: $(BUILD)/leadrouter $(KTEST_BIN)
	sh tests/kafka/run.sh $(BUILD)/leadrouter

bench-kafka: $(BUILD)/leadrouter $(KTEST_BIN)
	sh bench/bench_kafka.sh $(BUILD)/leadrouter

# The program, its man page, the README and example config, the systemd
# unit, and the sysusers.d and tmpfiles.d snippets that declare the
# leadrouter user and group and /etc/leadrouter (root:leadrouter 0750),
# under $(DESTDIR)$(PREFIX). The unit names the binary and the docs under
# /usr/local; the installed copy names $(PREFIX) instead. INSTALL_BIN is
# the program installed: the CLI tests point it at the one they test, so
# that installing builds nothing. Neither target creates or removes the
# user or /etc/leadrouter: systemd-sysusers and systemd-tmpfiles do the
# former (README, "Running it"), and the latter holds the config.
PREFIX      ?= /usr/local
INSTALL_BIN ?= $(BUILD)/leadrouter
BINDIR       = $(DESTDIR)$(PREFIX)/bin
MAN8DIR      = $(DESTDIR)$(PREFIX)/share/man/man8
DOCDIR       = $(DESTDIR)$(PREFIX)/share/doc/leadrouter
UNITDIR      = $(DESTDIR)$(PREFIX)/lib/systemd/system
SYSUSERSDIR  = $(DESTDIR)$(PREFIX)/lib/sysusers.d
TMPFILESDIR  = $(DESTDIR)$(PREFIX)/lib/tmpfiles.d

install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(BINDIR)/leadrouter
	install -D -m 0644 doc/leadrouter.8 $(MAN8DIR)/leadrouter.8
	install -D -m 0644 README.md $(DOCDIR)/README.md
	install -D -m 0644 config/leadrouter.example.json $(DOCDIR)/leadrouter.example.json
	install -D -m 0644 systemd/leadrouter.service $(UNITDIR)/leadrouter.service
	sed -i 's|/usr/local/|$(PREFIX)/|g' $(UNITDIR)/leadrouter.service
	install -D -m 0644 systemd/leadrouter.sysusers $(SYSUSERSDIR)/leadrouter.conf
	install -D -m 0644 systemd/leadrouter.tmpfiles $(TMPFILESDIR)/leadrouter.conf

uninstall:
	rm -f $(BINDIR)/leadrouter $(MAN8DIR)/leadrouter.8 $(DOCDIR)/README.md \
		$(DOCDIR)/leadrouter.example.json $(UNITDIR)/leadrouter.service \
		$(SYSUSERSDIR)/leadrouter.conf $(TMPFILESDIR)/leadrouter.conf
	rmdir $(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The tokenizer's fast string scan against its general one, and its tokens
# against jsmn's (tests/fuzz/fuzz_event_lex.c includes engine/event.c).
.PHONY: fuzz-lex fuzz-lex-run
fuzz-lex: deps
	@mkdir -p $(BUILD)/fuzz
	clang $(FUZZ_FLAGS) -Iengine -o $(BUILD)/fuzz/fuzz_event_lex tests/fuzz/fuzz_event_lex.c $(LDLIBS_ALL)

fuzz-lex-run: fuzz-lex
	$(call FUZZ_RUN,event-diff,event_lex,-dict=tests/fuzz/event.dict)
