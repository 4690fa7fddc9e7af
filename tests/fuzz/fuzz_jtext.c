/*
 * fuzz_jtext.c - libFuzzer harness for engine/jtext.c against jansson.
 *
 * Stage 2 copies the members of any command jtext_object_scan accepts as
 * text, trusting that jansson would load it and dump it back unchanged;
 * the input is checked for exactly that (json_loadb with the flags stage 2
 * used, json_dumps with the flags of the handoff). The same bytes are also
 * written as a string by jtext_string_put, which must give json_dumps's
 * bytes or refuse what jansson refuses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../engine/jtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_scan(const char *s, size_t n)
{
	struct jtext_member m[JTEXT_MEMBERS_MAX];
	int count = jtext_object_scan(s, n, m);
	json_t *j;
	char *d;

	if (count < 0)
		return;
	j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	if (!j || json_object_size(j) != (size_t)count)
		abort();
	d = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT |
				  JSON_REAL_PRECISION(15));
	if (!d || strlen(d) != n || memcmp(d, s, n) != 0)
		abort();
	free(d);
	json_decref(j);
}

static void fuzz_string(const char *s, size_t n)
{
	struct jtext b = {0};
	json_t *j = json_stringn(s, n);
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	jtext_string_put(&b, s, n);
	if (d ? b.bad || b.len != strlen(d) || memcmp(b.p, d, b.len) != 0
	      : !b.bad)
		abort();
	free(d);
	json_decref(j);
	jtext_reset(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_scan((const char *)data, size);
	fuzz_string((const char *)data, size);
	return 0;
}
