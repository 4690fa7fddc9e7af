/*
 * main.c - the leadrouter command line.
 *
 *   leadrouter -c FILE                  run the Kafka daemon in the foreground
 *   leadrouter -t -c FILE               check a config (ExecStartPre,
 * operators) leadrouter simulate -c FILE [--summary-json] < events.jsonl
 *   leadrouter -h | -V
 *
 * Exit status: 0 success; 1 a bad config, an I/O error or a daemon failure;
 * 2 a usage error (the getopt convention of most command-line tools, so that
 * scripts can tell "you called me wrong" from "your config is wrong").
 * Config errors are printed as "FILE: $.path: message", one per line, so an
 * operator fixes a file in one pass and an editor can jump to each.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "kafka.h"
#include "log.h"
#include "pipeline.h"
#include "simulate.h"
#include "version.h"

#define EXIT_USAGE 2

enum main_mode { MAIN_RUN, MAIN_CHECK, MAIN_SIMULATE };

struct main_opts {
	enum main_mode mode;
	const char *config_path;
	bool summary_json;
};

static void main_usage(FILE *f)
{
	fprintf(f, "usage: leadrouter [-t] -c FILE\n"
		   "       leadrouter simulate -c FILE [--summary-json] "
		   "< events.jsonl\n"
		   "       leadrouter -h | -V\n"
		   "\n"
		   "  -c, --config FILE   configuration file (JSON)\n"
		   "  -t, --check-config  validate the configuration and exit\n"
		   "      --summary-json  simulate: print the summary as JSON\n"
		   "  -h, --help          show this help\n"
		   "  -V, --version       show the version\n");
}

/* Print every error as "FILE: $.path: message". */
static void main_errors_print(const char *file,
			      const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s: %s: %s\n", file, errs->v[i].path,
			errs->v[i].msg);
	if (errs->n == 0)
		fprintf(stderr, "%s: $: cannot load configuration\n", file);
}

/* Every mode checks the kafka section with librdkafka, so a config that
 * simulate or --check-config accepts is one the daemon can start with. */
static struct config *main_config_load(const char *file)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load_checked(file, kafka_conf_check, &errs);

	if (cfg == NULL)
		main_errors_print(file, &errs);
	config_errors_free(&errs);
	return cfg;
}

static int main_check(const char *file)
{
	struct config *cfg = main_config_load(file);
	struct config_errors warns = {0};
	char line[512];

	if (cfg == NULL)
		return 1;
	config_warnings(cfg, &warns);
	for (size_t i = 0; i < warns.n; i++)
		fprintf(stderr, "%s: %s: warning: %s\n", file, warns.v[i].path,
			warns.v[i].msg);
	config_errors_free(&warns);
	config_summary(cfg, line, sizeof(line));
	printf("%s\n", line);
	config_free(cfg);
	return 0;
}

static int main_simulate(const struct main_opts *o)
{
	struct simulate_opts so = {.summary_json = o->summary_json};
	struct config *cfg = main_config_load(o->config_path);
	int rc;

	if (cfg == NULL)
		return 1;
	rc = simulate_run(cfg, stdin, stdout, stderr, &so);
	config_free(cfg);
	return rc;
}

static int main_run(const char *file)
{
	struct config *cfg = main_config_load(file);

	if (cfg == NULL)
		return 1;
	log_setlevel(cfg->process.log_level);
	log_info("leadrouter %s starting", LEADROUTER_VERSION);
	return pipeline_run(cfg, file); /* takes ownership of cfg */
}

enum { OPT_SUMMARY_JSON = 256 };

static const struct option main_longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"check-config", no_argument, NULL, 't'},
	{"summary-json", no_argument, NULL, OPT_SUMMARY_JSON},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* Returns -1 to go on, else the exit status (help, version, usage error). */
static int main_opts_parse(int argc, char **argv, struct main_opts *o)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:thV", main_longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 't':
			o->mode = MAIN_CHECK;
			break;
		case OPT_SUMMARY_JSON:
			o->summary_json = true;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("leadrouter %s\n", LEADROUTER_VERSION);
			return 0;
		default: /* getopt already said what was wrong */
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* Check the combination: one config, nothing left over, the right mode. */
static int main_opts_check(int argc, char **argv, const struct main_opts *o)
{
	const char *why = NULL;

	if (optind < argc)
		why = "unexpected argument";
	else if (o->config_path == NULL)
		why = "missing -c FILE";
	else if (o->summary_json && o->mode != MAIN_SIMULATE)
		why = "--summary-json only applies to simulate";
	else if (o->mode == MAIN_CHECK && argv[0] != NULL &&
		 strcmp(argv[0], "simulate") == 0)
		why = "--check-config does not combine with simulate";
	if (why == NULL)
		return -1;
	fprintf(stderr, "leadrouter: %s%s%s\n", why, optind < argc ? ": " : "",
		optind < argc ? argv[optind] : "");
	main_usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct main_opts o = {.mode = MAIN_RUN};
	int rc;

	log_init(LOG_INFO);
	if (argc > 1 && strcmp(argv[1], "simulate") == 0) {
		o.mode = MAIN_SIMULATE;
		argc--;
		argv++; /* argv[0] is now "simulate", as getopt expects */
	}
	if ((rc = main_opts_parse(argc, argv, &o)) != -1)
		return rc;
	if ((rc = main_opts_check(argc, argv, &o)) != -1)
		return rc;
	switch (o.mode) {
	case MAIN_CHECK:
		return main_check(o.config_path);
	case MAIN_SIMULATE:
		return main_simulate(&o);
	case MAIN_RUN:
		break;
	}
	return main_run(o.config_path);
}
