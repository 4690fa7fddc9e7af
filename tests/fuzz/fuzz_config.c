/*
 * fuzz_config.c - libFuzzer harness for the config loader.
 *
 * Any byte string must either load or come back as errors, with no crash,
 * leak or undefined behaviour; the error list is freed either way. Secret
 * files ("@file:") are read from the real file system, which is why the
 * loader refuses anything but regular files.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct config *cfg;
	char buf[256];

	cfg = config_load_string((const char *)data, size, &errs);
	if (cfg) {
		config_summary(cfg, buf, sizeof(buf));
		(void)config_team_find(&cfg->engine, "emea");
	}
	config_free(cfg);
	config_errors_free(&errs);
	return 0;
}
