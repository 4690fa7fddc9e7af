/*
 * test_fit.c - traits (merge, overwrite, per-lead cap), the fit grade and
 * its bands, each disqualifier, and territory matching on lead traits.
 */
#include "testutil.h"

#include "../../engine/lead_internal.h"
#include "lead_fixture.h"

struct ffx {
	struct fx_config f;
	struct lead_table *t;
};

static int setup(void **state)
{
	struct ffx *s = calloc(1, sizeof(*s));

	fx_config_init(&s->f);
	s->t = lead_table_new();
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct ffx *s = *state;

	lead_table_free(s->t);
	free(s);
	return 0;
}

static struct lead *apply(struct ffx *s, struct event *ev)
{
	struct lead *l = NULL;
	struct assign_cmd cmd;

	lead_event_apply(&s->f.cfg, s->t, ev, &l, &cmd);
	free(cmd.json);
	assert_non_null(l);
	return l;
}

static struct lead *identify(struct ffx *s, const char *title,
			     const char *employees, const char *industry)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);

	fx_identify(ev, "u1", "jo@acme.com");
	if (title)
		fx_trait_str(ev, "title", title);
	if (employees)
		fx_trait_num(ev, "employees", employees);
	if (industry)
		fx_trait_str(ev, "industry", industry);
	return apply(s, ev);
}

static void test_ungraded_without_traits(void **state)
{
	struct ffx *s = *state;
	struct lead *l = apply(s, fx_event(EVENT_PAGE, "anon", T0));

	assert_int_equal(lead_grade(l), GRADE_NONE);
	assert_int_equal(lead_lifecycle_get(l), LEAD_ANONYMOUS);
}

static void test_grade_bands(void **state)
{
	struct ffx *s = *state;

	assert_int_equal(lead_grade(identify(s, "Engineer", "5", NULL)), 'D');
	assert_int_equal(lead_grade(identify(s, "Engineer", "5", "Software")),
			 'C');
	assert_int_equal(lead_grade(identify(s, "VP Sales", "5", NULL)), 'B');
	assert_int_equal(lead_grade(identify(s, "VP Sales", "250", NULL)), 'A');
	/* a later identify overwrites: the grade follows */
	assert_int_equal(lead_grade(identify(s, "Intern", "250", NULL)), 'B');
}

static void test_trait_merge_overwrite_and_types(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	struct lead *l;
	struct jval v;

	fx_identify(ev, "u1", "Jo@Acme.com");
	fx_trait_str(ev, "plan", "free");
	fx_trait_num(ev, "company.size", "120");
	fx_field_kind(ev->traits, &ev->ntraits, "beta", JVAL_BOOL, 1);
	l = apply(s, ev);
	ev = fx_event(EVENT_GROUP, "u1", T0 + 1);
	ev->group_id = strv_from("g-7");
	fx_trait_str(ev, "plan", "enterprise");
	fx_field_kind(ev->traits, &ev->ntraits, "beta", JVAL_NULL, 0);
	l = apply(s, ev);
	assert_true(lead_trait_get(l, "plan", &v));
	assert_int_equal(v.kind, JVAL_STRING);
	assert_memory_equal(v.str.p, "enterprise", 10);
	assert_true(lead_trait_get(l, "company.size", &v));
	assert_int_equal(v.kind, JVAL_NUMBER);
	assert_float_equal(v.num, 120, 0);
	assert_true(lead_trait_get(l, "beta", &v));
	assert_int_equal(v.kind, JVAL_NULL);
	assert_false(lead_trait_get(l, "group_id", &v)); /* hidden */
	assert_true(lead_group_id_get(l, &v.str));
	assert_true(strv_eq(v.str, "g-7"));
	assert_true(lead_trait_get(l, "email", &v));
	assert_true(strv_eq(v.str, "Jo@Acme.com"));
	assert_false(lead_trait_get(l, "missing", &v));
}

static void test_trait_cap(void **state)
{
	struct ffx *s = *state;
	char names[40][16], val[200];
	struct lead *l = NULL;
	struct jval v;

	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (int i = 0; i < 40; i++) {
		struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0 + i);
		snprintf(names[i], sizeof(names[i]), "t%02d", i);
		fx_trait_str(ev, names[i], val);
		l = apply(s, ev);
	}
	assert_true(l->traits_len <= LEAD_TRAITS_MAX);
	assert_true(lead_trait_get(l, "t00", &v));
	assert_false(lead_trait_get(l, "t39", &v)); /* dropped: over cap */
	/* an update that still fits is taken */
	{
		struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 99);
		fx_trait_str(ev, "t00", "short");
		l = apply(s, ev);
	}
	assert_true(lead_trait_get(l, "t00", &v));
	assert_true(strv_eq(v.str, "short"));
}

/* Adds n traits "fNN" of 83 bytes of value to ev: 89 packed bytes each,
 * so 23 of them leave one byte of LEAD_TRAITS_MAX free. */
static void fill_traits(struct event *ev, char (*names)[8], size_t n,
			const char *val)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02u",
			 (unsigned)(i % 100));
		fx_trait_str(ev, names[i], val);
	}
}

static const char *val83(void)
{
	static char v[84];

	memset(v, 'x', 83);
	return v;
}

/* The audit's case: one 2.5 KB identify whose e-mail and title come last.
 * They evict the oldest enrichment traits, so the freemail disqualifier
 * applies; the drops are counted. */
static void test_trait_cap_keeps_email_and_title(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	char names[30][8];
	struct lead *l;
	struct jval v;

	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	ev->user_id = strv_from("u1");
	fill_traits(ev, names, 30, val83());
	fx_trait_str(ev, "email", "mallory@gmail.com");
	fx_trait_str(ev, "title", "Working Student");
	ev->email = strv_from("mallory@gmail.com");
	l = apply(s, ev);
	assert_true(l->traits_len <= LEAD_TRAITS_MAX);
	assert_true(lead_trait_get(l, "email", &v));
	assert_true(strv_eq(v.str, "mallory@gmail.com"));
	assert_true(lead_trait_get(l, "title", &v));
	assert_true(strv_eq(v.str, "Working Student"));
	assert_int_equal(l->disq, LEAD_DISQ_FREEMAIL);
	assert_false(lead_trait_get(l, "f00", &v)); /* oldest: evicted */
	assert_true(lead_trait_get(l, "f01", &v));  /* newer: kept */
	assert_true(lead_trait_get(l, "f22", &v));
	assert_false(lead_trait_get(l, "f23", &v)); /* never fitted */
	/* f23..f29 did not fit, and f00 made room */
	assert_int_equal(lead_table_traits_dropped(s->t), 8);
	fit_wanted_free(&s->f.cfg.fit);
}

/* A lead whose traits are full gains the e-mail a later identify brings,
 * so required_traits ["email"] can be met; it can without a built wanted
 * set too (the e-mail always wins). */
static void test_trait_cap_later_email(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	char names[30][8];
	struct lead *l;
	struct jval v;

	fill_traits(ev, names, 30, val83());
	l = apply(s, ev);
	assert_false(lead_trait_get(l, "email", &v));
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_identify(ev, "u1", "jo@acme.com");
	l = apply(s, ev);
	assert_true(lead_trait_get(l, "email", &v));
	assert_true(strv_eq(v.str, "jo@acme.com"));
	assert_false(lead_trait_get(l, "f00", &v));
	assert_true(lead_trait_get(l, "f01", &v));
	assert_true(l->traits_len <= LEAD_TRAITS_MAX);
}

/* At the cap, a trait the config reads evicts the oldest one it does not
 * read, never an older one it reads; a trait it does not read evicts
 * nothing and is dropped. */
static void test_trait_cap_evicts_unwanted_only(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	char names[30][8];
	struct lead *l;
	struct jval v;
	size_t len;

	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	fx_trait_str(ev, "title", "VP Sales"); /* the oldest trait */
	fx_trait_num(ev, "employees", "250");
	fill_traits(ev, names, 30, val83());
	l = apply(s, ev);
	len = l->traits_len;
	assert_int_equal(lead_grade(l), 'A');
	assert_true(lead_trait_get(l, "f21", &v)); /* 31 + 22 * 89 bytes */
	assert_false(lead_trait_get(l, "f22", &v));
	/* not read by the config: dropped, nothing evicted */
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_trait_str(ev, "nickname", val83());
	l = apply(s, ev);
	assert_false(lead_trait_get(l, "nickname", &v));
	assert_true(lead_trait_get(l, "f00", &v));
	assert_int_equal(l->traits_len, len);
	/* read by a territory, 70 bytes where 59 are free: f00 goes, the
	 * older title and employees stay */
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 2);
	fx_trait_str(
		ev, "country",
		"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD");
	l = apply(s, ev);
	assert_true(lead_trait_get(l, "country", &v));
	assert_false(lead_trait_get(l, "f00", &v));
	assert_true(lead_trait_get(l, "f01", &v));
	assert_true(lead_trait_get(l, "title", &v));
	assert_true(strv_eq(v.str, "VP Sales"));
	assert_true(lead_trait_get(l, "employees", &v));
	assert_int_equal(lead_grade(l), 'A');
	/* a wanted trait larger than all the unwanted bytes: dropped, and
	 * nothing is evicted for it */
	{
		static char big[LEAD_TRAITS_MAX];
		memset(big, 'i', sizeof(big) - 1);
		ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 3);
		fx_trait_str(ev, "industry", big);
		len = l->traits_len;
		l = apply(s, ev);
		assert_false(lead_trait_get(l, "industry", &v));
		assert_true(lead_trait_get(l, "f01", &v));
		assert_int_equal(l->traits_len, len);
	}
	fit_wanted_free(&s->f.cfg.fit);
}

/* The names every section reads, once each; "email" and "email_domain"
 * are not listed (the e-mail always wins). */
static void test_wanted_names(void **state)
{
	struct ffx *s = *state;
	struct cond c = fx_cond(FIELD_TRAIT, "plan", COND_EXISTS, NULL, 0);
	const char *want[] = {"title", "employees", "industry", "plan",
			      "country"};
	struct fit_config *fc = &s->f.cfg.fit;

	s->f.rules[3].conds = &c; /* a score rule on a trait */
	s->f.rules[3].nconds = 1;
	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	assert_int_equal(fc->nwanted, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(fc->wanted[i], want[i]);
	fc->ndisqualify_titles = 0; /* title is still a fit rule's */
	s->f.cfg.qualify.required_traits[0] = "email_domain";
	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	assert_int_equal(fc->nwanted, 5);
	fit_wanted_free(fc);
	assert_null(fc->wanted);
}

/* The account (groupId) is a hidden entry: an identify trait "group_id"
 * is another trait of the same name, and neither replaces the other. */
static void test_group_id_trait_apart(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	struct lead *l;
	struct strv gid;
	struct jval v;

	fx_trait_str(ev, "group_id", "crm-1");
	l = apply(s, ev);
	assert_false(lead_group_id_get(l, &gid));
	assert_true(lead_trait_get(l, "group_id", &v));
	assert_true(strv_eq(v.str, "crm-1"));
	ev = fx_event(EVENT_GROUP, "u1", T0 + 1);
	ev->group_id = strv_from("g-real");
	l = apply(s, ev);
	assert_true(lead_group_id_get(l, &gid));
	assert_true(strv_eq(gid, "g-real"));
	assert_true(lead_trait_get(l, "group_id", &v));
	assert_true(strv_eq(v.str, "crm-1"));
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 2);
	fx_trait_str(ev, "group_id", "crm-2");
	l = apply(s, ev);
	assert_true(lead_group_id_get(l, &gid));
	assert_true(strv_eq(gid, "g-real"));
	assert_true(lead_trait_get(l, "group_id", &v));
	assert_true(strv_eq(v.str, "crm-2"));
	ev = fx_event(EVENT_GROUP, "u1", T0 + 3);
	ev->group_id = strv_from("g-new");
	l = apply(s, ev);
	assert_true(lead_group_id_get(l, &gid));
	assert_true(strv_eq(gid, "g-new"));
	assert_true(lead_trait_get(l, "group_id", &v));
	assert_true(strv_eq(v.str, "crm-2"));
	{
		/* one entry each, no stale copy */
		size_t off = 0, n = 0;
		uint8_t type;
		const char *name;
		struct strv val;
		while ((off = lead_trait_next(lead_traits(l), l->traits_len,
					      off, &type, &name, &val)) != 0)
			n += !strcmp(name, "group_id");
		assert_int_equal(n, 2);
	}
}

/* A fit rule on traits.group_id reads the ordinary trait, never the
 * account. */
static void test_fit_rule_skips_hidden(void **state)
{
	struct ffx *s = *state;
	struct cond c = fx_cond(FIELD_TRAIT, "group_id", COND_EXISTS, NULL, 0);
	struct event *ev = fx_event(EVENT_GROUP, "u1", T0);
	struct lead *l;

	s->f.fit[2] = (struct fit_rule){"has-group", c, 50};
	fit_config_prepare(&s->f.cfg.fit);
	ev->group_id = strv_from("g-real");
	fx_trait_str(ev, "company.name", "Acme");
	l = apply(s, ev);
	assert_int_equal(lead_grade(l), 'D');
	assert_float_equal(lead_fit_points(&s->f.cfg.fit, l), 0, 0);
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_trait_str(ev, "group_id", "crm-1");
	l = apply(s, ev);
	assert_int_equal(lead_grade(l), 'A');
}

static void disq_case(struct ffx *s, const char *key, const char *email,
		      const char *title, enum lead_disq want)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, key, T0);
	struct lead *l;

	fx_identify(ev, key, email);
	fx_trait_str(ev, "title", title);
	fx_trait_num(ev, "employees", "5000");
	l = apply(s, ev);
	assert_int_equal(l->disq, want);
	assert_int_equal(lead_grade(l), 'A'); /* graded all the same */
}

static void test_disqualifiers(void **state)
{
	struct ffx *s = *state;

	disq_case(s, "a", "jo@acme.com", "VP", LEAD_DISQ_NONE);
	disq_case(s, "b", "jo@GMail.com", "VP", LEAD_DISQ_FREEMAIL);
	disq_case(s, "c", "jo@rival.io", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "d", "jo@blocked.example", "VP", LEAD_DISQ_EXCLUDED);
	disq_case(s, "e", "jo@acme.com", "VP and PhD Student", LEAD_DISQ_TITLE);
	assert_string_equal(lead_disq_name(LEAD_DISQ_COMPETITOR), "competitor");
}

/* A blank around the address does not hide its domain from the
 * disqualifiers; the trait keeps the producer's bytes. */
static void test_disqualifiers_trimmed_email(void **state)
{
	struct ffx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "f", T0);
	struct jval v;

	disq_case(s, "b", "jo@GMail.com ", "VP", LEAD_DISQ_FREEMAIL);
	disq_case(s, "c", "\tjo@eu.rival.io\t", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "d", "jo@blocked.example\r\n", "VP", LEAD_DISQ_EXCLUDED);
	fx_identify(ev, "f", "jo@gmail.com  ");
	assert_true(lead_trait_get(apply(s, ev), "email", &v));
	assert_true(strv_eq(v.str, "jo@gmail.com  "));
}

static void title_case(struct ffx *s, const char *key, const char *title,
		       enum lead_disq want)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, key, T0);

	fx_identify(ev, key, "jo@acme.com");
	fx_trait_str(ev, "title", title);
	assert_int_equal(apply(s, ev)->disq, want);
}

/* A title disqualifier is a whole word or phrase of the title, in any
 * case: the example config's "intern" stops interns, not "VP
 * International Sales" nor "Internal Audit Director", whose substring it
 * is; a phrase matches as a whole, and non-ASCII bytes are letters. */
static void test_disq_title_whole_word(void **state)
{
	struct ffx *s = *state;
	char *list[2] = {"Intern", "working student"};
	char **saved = s->f.cfg.fit.disqualify_titles;
	size_t nsaved = s->f.cfg.fit.ndisqualify_titles;

	s->f.cfg.fit.disqualify_titles = list;
	s->f.cfg.fit.ndisqualify_titles = 2;
	title_case(s, "a", "VP International Sales", LEAD_DISQ_NONE);
	title_case(s, "b", "Internal Audit Director", LEAD_DISQ_NONE);
	title_case(s, "c", "Intern", LEAD_DISQ_TITLE);
	title_case(s, "d", "Marketing INTERN", LEAD_DISQ_TITLE);
	title_case(s, "e", "intern (sales)", LEAD_DISQ_TITLE);
	title_case(s, "f", "VP, intern/2026", LEAD_DISQ_TITLE);
	title_case(s, "g", "Working Student - Marketing", LEAD_DISQ_TITLE);
	title_case(s, "h", "Student Ambassador", LEAD_DISQ_NONE);
	title_case(s, "m", "Working Students Lead", LEAD_DISQ_NONE);
	title_case(s, "i", "Interns2", LEAD_DISQ_NONE);
	title_case(s, "j", "\xc3\x9cintern", LEAD_DISQ_NONE);
	title_case(s, "k", "intern\xc3\xa9", LEAD_DISQ_NONE);
	title_case(s, "l", "Internship Coordinator", LEAD_DISQ_NONE);
	s->f.cfg.fit.disqualify_titles = saved;
	s->f.cfg.fit.ndisqualify_titles = nsaved;
}

/* A listed domain stops its subdomains too, at a dot boundary only:
 * "rival.io" stops bob@eu.rival.io, not notrival.io or rival.io.evil,
 * for each of the three lists. */
static void test_disq_subdomains(void **state)
{
	struct ffx *s = *state;

	disq_case(s, "a", "bob@eu.rival.io", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "b", "bob@a.b.RIVAL.io", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "c", "bob@notrival.io", "VP", LEAD_DISQ_NONE);
	disq_case(s, "d", "bob@rival.io.evil", "VP", LEAD_DISQ_NONE);
	disq_case(s, "e", "bob@rival.iox", "VP", LEAD_DISQ_NONE);
	disq_case(s, "f", "bob@mail.gmail.com", "VP", LEAD_DISQ_FREEMAIL);
	disq_case(s, "g", "bob@x.blocked.example", "VP", LEAD_DISQ_EXCLUDED);
	disq_case(s, "h", "bob@xblocked.example", "VP", LEAD_DISQ_NONE);
	disq_case(s, "i", "bob@.rival.io", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "j", "bob@io", "VP", LEAD_DISQ_NONE);
}

/* An address whose domain ends in the root's dot ("dan@GMAIL.COM.") is
 * the same mailbox: each list stops it, its subdomains too. */
static void test_disq_trailing_dot(void **state)
{
	struct ffx *s = *state;

	disq_case(s, "a", "dan@GMAIL.COM.", "VP", LEAD_DISQ_FREEMAIL);
	disq_case(s, "b", "dan@rival.io.", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "c", "dan@blocked.example.", "VP", LEAD_DISQ_EXCLUDED);
	disq_case(s, "d", "dan@eu.rival.io. ", "VP", LEAD_DISQ_COMPETITOR);
	disq_case(s, "e", "dan@acme.com.", "VP", LEAD_DISQ_NONE);
}

/* The disqualifiers' lists as cond_domain_parent steps through a domain,
 * one parent at a time, list after list. */
static enum lead_disq disq_by_parent_walk(const struct fit_config *fc,
					  const char *email)
{
	char *const *lists[3] = {fc->freemail_domains, fc->competitor_domains,
				 fc->excluded_domains};
	size_t ns[3] = {fc->nfreemail, fc->ncompetitor, fc->nexcluded};
	static const enum lead_disq why[3] = {
		LEAD_DISQ_FREEMAIL, LEAD_DISQ_COMPETITOR, LEAD_DISQ_EXCLUDED};
	char buf[256];
	struct strv dom, d;

	if (!cond_email_domain(strv_from(email), buf, sizeof(buf), &dom))
		return LEAD_DISQ_NONE;
	for (size_t k = 0; k < 3; k++) {
		d = dom;
		do {
			for (size_t i = 0; i < ns[k]; i++)
				if (strv_eq_nocase(d, lists[k][i]))
					return why[k];
		} while (cond_domain_parent(&d));
	}
	return LEAD_DISQ_NONE;
}

/* The grading finds a domain's parents in one pass for all three lists,
 * and with a prepared config passes over those whose length and end
 * bytes no listed domain has: random domains of letters and dots
 * (leading, doubled, trailing ones, long runs of them) and random lists
 * of such entries, some upper case or empty, disqualify as the
 * parent-by-parent walk does, prepared or not. */
static void test_disq_parents_match_walk(void **state)
{
	struct ffx *s = *state;
	struct fit_config saved = s->f.cfg.fit;
	static const char alpha[] = "ab.B";
	static char ents[3][6][8];
	char *lists[3][6];
	char email[300], key[16];
	unsigned seed = 5;
	size_t hits[4] = {0};

#define RND() ((seed = seed * 1103515245u + 12345u) >> 8)
	for (int round = 0; round < 4000; round++) {
		if (round % 40 == 0) {
			for (size_t k = 0; k < 3; k++) {
				for (size_t i = 0; i < 6; i++) {
					size_t n = RND() % 7;
					for (size_t j = 0; j < n; j++)
						ents[k][i][j] =
							alpha[RND() % 4];
					ents[k][i][n] = '\0';
					lists[k][i] = ents[k][i];
				}
			}
			s->f.cfg.fit.freemail_domains = lists[0];
			s->f.cfg.fit.nfreemail = RND() % 7;
			s->f.cfg.fit.competitor_domains = lists[1];
			s->f.cfg.fit.ncompetitor = RND() % 7;
			s->f.cfg.fit.excluded_domains = lists[2];
			s->f.cfg.fit.nexcluded = RND() % 7;
			/* prepared: only parents whose key bit is set */
			s->f.cfg.fit.prepared = false;
			if (round / 40 % 2)
				fit_config_prepare(&s->f.cfg.fit);
		}
		/* random bytes, often ending in a listed entry */
		size_t n = round % 100 == 0 ? 250 + RND() % 10 : RND() % 6;
		email[0] = 'j';
		email[1] = '@';
		for (size_t j = 0; j < n; j++)
			email[2 + j] =
				round % 200 == 0 ? '.' : alpha[RND() % 4];
		email[2 + n] = '\0';
		if (RND() % 4) {
			unsigned r = RND();
			strcat(email, ents[r % 3][(r >> 2) % 6]);
		}
		snprintf(key, sizeof(key), "p%d", round);
		struct event *ev = fx_event(EVENT_IDENTIFY, key, T0);
		fx_identify(ev, key, email);
		enum lead_disq want = disq_by_parent_walk(&s->f.cfg.fit, email);
		assert_int_equal(apply(s, ev)->disq, want);
		hits[want]++;
	}
#undef RND
	for (size_t k = 0; k < 4; k++)
		assert_true(hits[k] > 100);
	s->f.cfg.fit = saved;
}

/* A listed domain is matched ignoring its case, as strv_eq_nocase has
 * it, also where its first letter is upper case (the lookup passes over
 * entries by their folded first letter), and an entry that shares only
 * the first letter, or is empty, matches nothing. */
static void test_disq_domain_case(void **state)
{
	struct ffx *s = *state;
	char *list[3] = {"", "gmx.com", "GMail.COM"};
	char **saved = s->f.cfg.fit.freemail_domains;
	size_t nsaved = s->f.cfg.fit.nfreemail;

	s->f.cfg.fit.freemail_domains = list;
	s->f.cfg.fit.nfreemail = 3;
	for (int prep = 0; prep < 2; prep++) {
		/* prepared, the key bits skip the lookups that cannot match */
		if (prep)
			fit_config_prepare(&s->f.cfg.fit);
		disq_case(s, prep ? "pa" : "a", "jo@gmail.com", "VP",
			  LEAD_DISQ_FREEMAIL);
		disq_case(s, prep ? "pb" : "b", "jo@GMAIL.com", "VP",
			  LEAD_DISQ_FREEMAIL);
		disq_case(s, prep ? "pc" : "c", "jo@gmail.co", "VP",
			  LEAD_DISQ_NONE);
		disq_case(s, prep ? "pd" : "d", "jo@gmx.com", "VP",
			  LEAD_DISQ_FREEMAIL);
		disq_case(s, prep ? "pe" : "e", "jo@gmx.comm", "VP",
			  LEAD_DISQ_NONE);
		disq_case(s, prep ? "pf" : "f", "jo@hmail.com", "VP",
			  LEAD_DISQ_NONE);
		disq_case(s, prep ? "pg" : "g", "jo@eu.GMAIL.COM", "VP",
			  LEAD_DISQ_FREEMAIL);
	}
	s->f.cfg.fit.freemail_domains = saved;
	s->f.cfg.fit.nfreemail = nsaved;
	s->f.cfg.fit.prepared = false;
}

/* The disqualification reads the e-mail and title in the fit rules'
 * walk over the traits: the first entry of each name counts, as a lookup
 * finds it, and without any fit rule the walk still happens. */
static void test_disq_in_fit_walk(void **state)
{
	struct ffx *s = *state;
	size_t nrules = s->f.cfg.fit.nrules;
	struct lead *l;
	char packed[96];
	size_t n = 0;

	l = lead_table_insert(s->t, strv_from("dup"));
	assert_non_null(l);
#define PUT(name, val)                                                         \
	do {                                                                   \
		packed[n++] = (char)JVAL_STRING;                               \
		memcpy(packed + n, name, sizeof(name));                        \
		n += sizeof(name);                                             \
		memcpy(packed + n, val, sizeof(val));                          \
		n += sizeof(val);                                              \
	} while (0)
	PUT("title", "VP Sales");
	PUT("email", "jo@gmail.com");
	PUT("title", "student");
	PUT("email", "jo@acme.com");
#undef PUT
	assert_int_equal(lead_traits_replace(s->t, l, packed, n), 0);
	lead_fit_update(&s->f.cfg.fit, l);
	assert_int_equal(l->disq, LEAD_DISQ_FREEMAIL);
	s->f.cfg.fit.nrules = 0;
	lead_fit_update(&s->f.cfg.fit, l);
	assert_int_equal(l->disq, LEAD_DISQ_FREEMAIL);
	packed[0 + 1 + sizeof("title") + sizeof("VP Sales") + 1] = 'x';
	assert_int_equal(lead_traits_replace(s->t, l, packed, n), 0);
	lead_fit_update(&s->f.cfg.fit,
			l); /* "xmail": the second e-mail counts */
	assert_int_equal(l->disq, LEAD_DISQ_NONE);
	s->f.cfg.fit.nrules = nrules;
	lead_fit_update(&s->f.cfg.fit, l);
	assert_int_equal(l->disq, LEAD_DISQ_NONE);
	assert_int_equal(lead_grade(l), 'B'); /* the first title, VP */
}

static const char *territory_of(struct ffx *s, const char *country,
				const char *employees)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, country, T0);
	const struct territory *tr;

	fx_trait_str(ev, "country", country);
	fx_trait_num(ev, "employees", employees);
	tr = lead_territory_find(&s->f.cfg.routing, apply(s, ev));
	return tr ? tr->name : "fallback";
}

static void test_territory_first_match_and_fallback(void **state)
{
	struct ffx *s = *state;

	assert_string_equal(territory_of(s, "de", "5000"), "emea");
	assert_string_equal(territory_of(s, "US", "5000"), "enterprise");
	assert_string_equal(territory_of(s, "US", "50"), "fallback");
}

/* lead_trait_number is strtod to the bit: -0, the digit counts either
 * side of the fast path's limit, and what it hands on to strtod. */
static void test_trait_number_is_strtod(void **state)
{
	const char *lits[] = {"0",
			      "-0",
			      "7",
			      "-7",
			      "007",
			      "200",
			      "999999999999999",
			      "-999999999999999",
			      "9999999999999999",
			      "9007199254740993",
			      "123456789012345678901234567890",
			      "1.5",
			      "1e3",
			      "-2.5E-3",
			      "12abc",
			      "-",
			      "",
			      "+5",
			      "0x10"};
	char buf[32];
	(void)state;

	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		double a = lead_trait_number(strv_from(lits[i]));
		double b = strtod(lits[i], NULL);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	for (long long v = -100000; v <= 100000; v += 7) {
		double a, b;
		snprintf(buf, sizeof(buf), "%lld", v * 1000003LL);
		a = lead_trait_number(strv_from(buf));
		b = strtod(buf, NULL);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

/* The merge's model: entries in order; a put drops an older entry of the
 * same name and appends, unless it is the same type and value. Past
 * LEAD_TRAITS_MAX, a put of a name the fixture's config reads (or
 * "email") evicts the oldest entries of other names until it fits, if
 * they can free enough; any other put is dropped. */
struct model {
	char ent[64][600]; /* type byte, name, NUL, value, NUL */
	size_t len[64], n, total;
	size_t evicted, refused; /* over every lead, as the table counts */
};

/* The fixture's wanted names: fit rules, disqualify.titles, territories,
 * required_traits. */
static bool model_wanted(const char *name)
{
	static const char *const w[] = {"title", "employees", "industry",
					"country", "email"};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(w[i], name))
			return true;
	return false;
}

static void model_remove(struct model *m, size_t i)
{
	m->total -= m->len[i];
	memmove(m->ent[i], m->ent[i + 1], (m->n - i - 1) * 600);
	memmove(&m->len[i], &m->len[i + 1], (m->n - i - 1) * sizeof(m->len[0]));
	m->n--;
}

/* Room for over more bytes from the oldest unwanted entries, or false
 * with nothing evicted. */
static bool model_evict(struct model *m, size_t over)
{
	size_t spare = 0, freed = 0;

	for (size_t i = 0; i < m->n; i++)
		if (!model_wanted(m->ent[i] + 1))
			spare += m->len[i];
	if (spare < over)
		return false;
	for (size_t i = 0; i < m->n && freed < over;) {
		if (model_wanted(m->ent[i] + 1)) {
			i++;
			continue;
		}
		freed += m->len[i];
		model_remove(m, i);
		m->evicted++;
	}
	return true;
}

static void model_put(struct model *m, uint8_t type, const char *name,
		      const char *val)
{
	size_t nl = strlen(name), vl = strlen(val), need = nl + vl + 3;
	size_t i, elen = 0;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->ent[i] + 1, name))
			break;
	if (i < m->n) {
		elen = m->len[i];
		if ((uint8_t)m->ent[i][0] == type && elen == need &&
		    !strcmp(m->ent[i] + nl + 2, val))
			return;
	}
	if (m->total - elen + need > LEAD_TRAITS_MAX &&
	    (!model_wanted(name) ||
	     !model_evict(m, m->total - elen + need - LEAD_TRAITS_MAX))) {
		m->refused++;
		return;
	}
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->ent[i] + 1, name))
			break;
	if (i < m->n)
		model_remove(m, i);
	m->ent[m->n][0] = (char)type;
	memcpy(m->ent[m->n] + 1, name, nl + 1);
	memcpy(m->ent[m->n] + nl + 2, val, vl + 1);
	m->len[m->n++] = need;
	m->total += need;
}

/* Random identifies (names from a small pool, values of every length up to
 * past the cap, strings and numbers) leave exactly the model's bytes. */
static void test_trait_merge_matches_model(void **state)
{
	struct ffx *s = *state;
	/* "phone" has the length and last byte of "title": the same
	 * trait_name_bit, a scan that finds no entry */
	static const char *names[] = {
		"title",   "company.name",     "plan",  "employees",
		"a",       "company.industry", "phone", "country",
		"utm.src", "address.city"};
	static char vals[8][560];
	static struct model m;
	char buf[LEAD_TRAITS_MAX];
	unsigned seed = 7;
	struct lead *l = NULL;

	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	for (int round = 0; round < 3000; round++) {
		char key[16];
		/* a new lead every 30 rounds: puts into an empty merge, and
		 * names put twice before any load has seen them */
		if (round % 30 == 0) {
			size_t e = m.evicted, r = m.refused;
			memset(&m, 0, sizeof(m));
			m.evicted = e;
			m.refused = r;
		}
		snprintf(key, sizeof(key), "u%d", round / 30);
		struct event *ev = fx_event(EVENT_IDENTIFY, key, T0 + round);
		int k = 1 +
			(int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;

		ev->message_id = STRV_NULL; /* no dedupe */
		for (int j = 0; j < k; j++) {
			unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
			const char *name = names[r % 10];
			size_t vl = (r >> 3) % 4 == 0 ? 100 + (r >> 6) % 450
						      : (r >> 6) % 6;
			bool num = (r >> 4) % 5 == 0;
			char *v = vals[j];
			for (size_t b = 0; b < vl; b++)
				v[b] = num ? (char)('0' + (r + b) % 10)
					   : (char)('a' + (r + b) % 3);
			v[vl] = '\0';
			if (num && vl == 0)
				strcpy(v, "0");
			if (num)
				fx_trait_num(ev, name, v);
			else
				fx_trait_str(ev, name, v);
			model_put(&m,
				  (uint8_t)(num ? JVAL_NUMBER : JVAL_STRING),
				  name, v);
		}
		l = apply(s, ev);
		size_t off = 0;
		for (size_t i = 0; i < m.n; i++) {
			memcpy(buf + off, m.ent[i], m.len[i]);
			off += m.len[i];
		}
		assert_int_equal(l->traits_len, off);
		assert_memory_equal(lead_traits(l), buf, off);
		/* the merge grades from its own index; from the bytes, the
		 * grade and disqualification are the same */
		char grade = lead_grade(l);
		uint8_t disq = l->disq;
		lead_fit_update(&s->f.cfg.fit, l);
		assert_int_equal(lead_grade(l), grade);
		assert_int_equal(l->disq, disq);
	}
	/* the cap was hit both ways, and every drop counted */
	assert_true(m.evicted > 0 && m.refused > 0);
	assert_int_equal(lead_table_traits_dropped(s->t),
			 m.evicted + m.refused);
	fit_wanted_free(&s->f.cfg.fit);
}

/* A name or value with a NUL in it (an escaped \u0000) is not stored,
 * whatever its length and wherever the NUL is, and other bytes (0x01,
 * 0x80..0xff, which a sloppy zero-byte test mistakes for one) are, each
 * in its place: names and values of every length to past the merge's
 * word-sized copies. */
static void test_trait_bytes_stored(void **state)
{
	struct ffx *s = *state;
	static const char fill[] = {'a', 0x01, (char)0x80, (char)0xff, 0x7f};
	char name[100], val[100], key[16];
	struct jval v;
	int round = 0;

	for (size_t n = 1; n <= 90; n++) {
		for (size_t at = 0; at <= n; at++, round++) {
			for (size_t i = 0; i < n; i++) {
				name[i] = i % 3 ? (char)(0x21 +
							 (i * 37 + n) % 200)
						: fill[(i + n) % 5];
				val[i] = (char)(0x22 + (i * 53 + at) % 200);
			}
			name[0] = val[0] = 'x';
			if (at < n)
				name[at] = val[at] = '\0';
			snprintf(key, sizeof(key), "z%d", round);
			struct event *ev = fx_event(EVENT_IDENTIFY, key, T0);
			struct lead *l;
			/* the name's NUL drops it; the value's drops "v" */
			ev->traits[0].name = (struct strv){name, n};
			ev->traits[0].val = (struct jval){
				.kind = JVAL_STRING, .str = strv_from("1")};
			ev->traits[1].name = strv_from("v");
			ev->traits[1].val = (struct jval){.kind = JVAL_STRING,
							  .str = {val, n}};
			ev->traits[2].name = strv_from("w");
			ev->traits[2].val = (struct jval){
				.kind = JVAL_STRING, .str = strv_from("1")};
			/* and "w" again, over the first: a NUL keeps "1" */
			ev->traits[3].name = strv_from("w");
			ev->traits[3].val = (struct jval){.kind = JVAL_STRING,
							  .str = {val, n}};
			ev->ntraits = 4;
			l = apply(s, ev);
			bool nul = memchr(name, '\0', n) != NULL;
			/* "w" at "1" takes 5 bytes, the others n + 4 each */
			size_t want = nul ? 5 : 3 * (n + 4);
			assert_int_equal(l->traits_len, want);
			assert_int_equal(lead_trait_get(l, "v", &v), !nul);
			assert_true(lead_trait_get(l, "w", &v));
			assert_int_equal(v.str.len, nul ? 1 : n);
			if (nul)
				continue;
			assert_true(lead_trait_get(l, "v", &v));
			assert_int_equal(v.str.len, n);
			assert_memory_equal(v.str.p, val, n);
			assert_memory_equal(lead_traits(l) + 1, name, n);
			assert_int_equal(lead_traits(l)[1 + n], '\0');
		}
	}
}

/* At the cap, a put with a NUL in its value is refused before it could
 * evict anything or count a drop; the same put without the NUL evicts
 * and counts. */
static void test_trait_nul_at_cap(void **state)
{
	struct ffx *s = *state;
	static char big[120], title[300];
	char name[16];
	struct lead *l = NULL;
	struct jval v;

	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	memset(big, 'b', sizeof(big) - 1);
	for (unsigned i = 0; i < 17; i++) { /* 17 * 125 bytes, unread */
		struct event *ev = fx_event(EVENT_IDENTIFY, "cap", T0 + i);
		ev->message_id = STRV_NULL;
		snprintf(name, sizeof(name), "x%u", i);
		fx_trait_str(ev, name, big);
		l = apply(s, ev);
	}
	size_t len = l->traits_len, dropped = lead_table_traits_dropped(s->t);
	assert_true(len > LEAD_TRAITS_MAX - 200);
	memset(title, 't', sizeof(title) - 1);
	for (int nul = 1; nul >= 0; nul--) {
		struct event *ev = fx_event(EVENT_IDENTIFY, "cap", T0 + 50);
		ev->message_id = STRV_NULL;
		title[150] = nul ? '\0' : 't';
		ev->traits[0].name = strv_from("title");
		ev->traits[0].val = (struct jval){
			.kind = JVAL_STRING, .str = {title, sizeof(title) - 1}};
		ev->ntraits = 1;
		l = apply(s, ev);
		assert_int_equal(lead_trait_get(l, "title", &v), !nul);
		if (nul) {
			assert_int_equal(l->traits_len, len);
			assert_int_equal(lead_table_traits_dropped(s->t),
					 dropped);
		} else {
			assert_true(lead_table_traits_dropped(s->t) > dropped);
		}
	}
	fit_wanted_free(&s->f.cfg.fit);
}

/* fit_config_prepare's masks of rules by name length against the walk
 * that measures every name: random rule sets (up to past one 64-rule
 * batch; names of one byte, of shared prefixes, of 64 bytes and more,
 * several rules on one name, some not trait rules, some negated, points
 * in tenths) and random traits (names that are the rule names, their
 * prefixes and other ones, and the hidden account under a rule's name)
 * give the same points to the bit, grade and disqualification, from the
 * merge's index and from the bytes. */
static void test_fit_prepared_matches_general(void **state)
{
	struct ffx *s = *state;
	static const char *names[] = {"a",
				      "title",
				      "email",
				      "company.employees",
				      "company.industry",
				      "company.employee",
				      "address.country",
				      "x123456789012345678901234567890123456789"
				      "012345678901234567890123",
				      "x123456789012345678901234567890123456789"
				      "0123456789012345678901234",
				      "y123456789012345678901234567890123456789"
				      "01234567890123456789012",
				      "plan",
				      TRAIT_GROUP_ID};
	enum { NNAMES = sizeof(names) / sizeof(names[0]) };
	static char *strs[] = {"vp", "de", "7", "software"};
	static struct fit_rule rules[70];
	struct fit_config gen = s->f.cfg.fit, prep;
	unsigned seed = 11;
	char val[16];

#define RND() ((seed = seed * 1103515245u + 12345u) >> 8)
	for (int round = 0; round < 400; round++) {
		size_t nrules = 1 + RND() % 70;
		struct lead *l;
		char key[16];

		for (size_t i = 0; i < nrules; i++) {
			unsigned r = RND();
			const char *name = names[r % NNAMES];
			struct cond c;
			switch ((r >> 5) % 4) {
			case 0:
				c = fx_cond(FIELD_TRAIT, name, COND_IN,
					    &strs[(r >> 8) % 4], 1);
				break;
			case 1:
				c = fx_cond_num(FIELD_TRAIT, name, COND_GE,
						(double)((r >> 8) % 10));
				break;
			case 2:
				c = fx_cond(FIELD_TRAIT, name, COND_EXISTS,
					    NULL, 0);
				break;
			default:
				c = fx_cond(FIELD_EMAIL_DOMAIN, NULL, COND_IN,
					    &strs[(r >> 8) % 4], 1);
				break;
			}
			c.negate = (r >> 20) % 4 == 0;
			rules[i] = (struct fit_rule){
				"r", c, ((int)((r >> 12) % 41) - 20) * 0.1};
		}
		gen.rules = rules;
		gen.nrules = nrules;
		gen.prepared = false;
		prep = gen;
		fit_config_prepare(&prep);
		assert_true(prep.prepared);
		s->f.cfg.fit = prep;

		snprintf(key, sizeof(key), "k%d", round);
		struct event *ev = fx_event(EVENT_IDENTIFY, key, T0 + round);
		ev->message_id = STRV_NULL;
		fx_identify(ev, key, RND() % 2 ? "jo@DE" : "jo@acme.com");
		if (RND() % 3 == 0) /* the hidden account, of a rule's name */
			ev->group_id = strv_from("g-1");
		for (unsigned k = RND() % 9, j = 0; j < k; j++) {
			unsigned r = RND();
			snprintf(val, sizeof(val), "%u", (r >> 6) % 12);
			if (r % 3 == 0)
				fx_trait_num(ev, names[(r >> 2) % NNAMES], val);
			else
				fx_trait_str(ev, names[(r >> 2) % NNAMES],
					     r % 3 == 1 ? val : strs[r % 4]);
		}
		l = apply(s, ev);

		double a = lead_fit_points(&prep, l);
		double b = lead_fit_points(&gen, l);
		assert_memory_equal(&a, &b, sizeof(a));
		char grade = lead_grade(l);
		uint8_t disq = l->disq;
		lead_fit_update(&gen, l);
		assert_int_equal(lead_grade(l), grade);
		assert_int_equal(l->disq, disq);
	}
#undef RND
	s->f.cfg.fit = gen;
}

/* cond_email_domain folds the domain a word at a time: every byte value,
 * at every place of domains of 1 to 40 bytes, as a byte loop folds it. */
static void test_email_domain_fold(void **state)
{
	char email[64], buf[64], want[64];
	struct strv dom, w;
	(void)state;

	for (unsigned b = 0; b < 256; b++) {
		for (size_t n = 1; n <= 40; n++) {
			if (b == '@')
				continue;
			email[0] = 'j';
			email[1] = '@';
			for (size_t i = 0; i < n; i++) {
				char ch = (char)(i % 3 == 0 ? b : 'A' + i % 26);
				email[2 + i] = ch;
				want[i] = ch >= 'A' && ch <= 'Z'
						  ? (char)(ch - 'A' + 'a')
						  : ch;
			}
			/* white space ending the address is not part of it */
			w = (struct strv){want, n};
			while (w.len && strv_space_byte(want[w.len - 1]))
				w.len--;
			/* nor is one dot ending the domain (the root's) */
			if (w.len && want[w.len - 1] == '.')
				w.len--;
			assert_int_equal(
				cond_email_domain((struct strv){email, n + 2},
						  buf, sizeof(buf), &dom),
				w.len > 0);
			if (w.len == 0)
				continue;
			assert_int_equal(dom.len, w.len);
			assert_memory_equal(dom.p, w.p, w.len);
			assert_int_equal(buf[w.len], '\0');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trait_number_is_strtod),
		cmocka_unit_test(test_email_domain_fold),
		cmocka_unit_test_setup_teardown(test_trait_bytes_stored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trait_nul_at_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trait_merge_matches_model,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_fit_prepared_matches_general, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ungraded_without_traits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_grade_bands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_trait_merge_overwrite_and_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trait_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_trait_cap_keeps_email_and_title, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trait_cap_later_email,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_trait_cap_evicts_unwanted_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wanted_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_id_trait_apart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fit_rule_skips_hidden,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_disqualifiers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_disqualifiers_trimmed_email, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disq_title_whole_word,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_disq_subdomains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disq_trailing_dot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disq_parents_match_walk,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_disq_domain_case, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disq_in_fit_walk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_territory_first_match_and_fallback, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
