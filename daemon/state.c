/*
 * state.c - per-partition lead tables and team tables with dirty tracking.
 *
 * Dirty sets are GLib hash sets. A lead's key is copied into the set the
 * first time the lead changes in a transaction and looked up without
 * copying after that, so a hot lead costs one allocation per commit, not one
 * per event. Leads are found again by key at flush time rather than kept by
 * pointer, because expiry (or the engine's table growth) may move or free
 * them in between.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../engine/lead.h"
#include "../engine/route.h"
#include "state.h"

struct state_leads {
	struct lead_table *table; /* NULL while closed */
	GHashTable *dirty;        /* struct strv * (owned, bytes inline) */
	unsigned refs;            /* STATE_REF_* */
	int64_t now_ms;
};

struct state_teams {
	GHashTable *teams; /* char * name -> struct team_state * */
	GHashTable *dirty; /* char * name (owned) */
	bool open;
};

struct state {
	struct state_leads *leads;
	int nleads;
	struct state_teams *teams;
	int nteams;
	/* Traits dropped by tables since freed (revoked, rebuilt), so the
	 * counter never goes back. */
	uint64_t traits_dropped_gone;
};

/* Free a partition's lead table, keeping its count of dropped traits. */
static void state_table_retire(struct state *st, struct lead_table *t)
{
	if (t != NULL)
		st->traits_dropped_gone += lead_table_traits_dropped(t);
	lead_table_free(t);
}

static guint state_strv_hash(gconstpointer k)
{
	const struct strv *s = k;
	guint h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < s->len; i++)
		h = (h ^ (unsigned char)s->p[i]) * 16777619u;
	return h;
}

static gboolean state_strv_equal(gconstpointer a, gconstpointer b)
{
	const struct strv *x = a, *y = b;

	return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

/* One allocation: the slice header followed by its bytes. */
static struct strv *state_strv_dup(struct strv key)
{
	struct strv *s = malloc(sizeof(*s) + key.len + 1);
	char *bytes;

	if (s == NULL)
		abort(); /* out of memory: nothing sane to do in a daemon */
	bytes = (char *)(s + 1);
	memcpy(bytes, key.p, key.len);
	bytes[key.len] = '\0';
	s->p = bytes;
	s->len = key.len;
	return s;
}

struct state *state_new(int nleads, int nteams)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->nleads = nleads;
	st->nteams = nteams;
	st->leads = calloc((size_t)nleads + 1, sizeof(*st->leads));
	st->teams = calloc((size_t)nteams + 1, sizeof(*st->teams));
	if (st->leads == NULL || st->teams == NULL) {
		state_free(st);
		return NULL;
	}
	for (int p = 0; p < nleads; p++)
		st->leads[p].dirty = g_hash_table_new_full(
			state_strv_hash, state_strv_equal, free, NULL);
	for (int q = 0; q < nteams; q++) {
		st->teams[q].teams =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)team_state_free);
		st->teams[q].dirty = g_hash_table_new_full(
			g_str_hash, g_str_equal, g_free, NULL);
	}
	return st;
}

void state_free(struct state *st)
{
	if (st == NULL)
		return;
	for (int p = 0; st->leads && p < st->nleads; p++) {
		lead_table_free(st->leads[p].table);
		if (st->leads[p].dirty)
			g_hash_table_destroy(st->leads[p].dirty);
	}
	for (int q = 0; st->teams && q < st->nteams; q++) {
		if (st->teams[q].teams)
			g_hash_table_destroy(st->teams[q].teams);
		if (st->teams[q].dirty)
			g_hash_table_destroy(st->teams[q].dirty);
	}
	free(st->leads);
	free(st->teams);
	free(st);
}

int state_leads_count(const struct state *st)
{
	return st->nleads;
}

int state_teams_count(const struct state *st)
{
	return st->nteams;
}

bool state_leads_ref(struct state *st, int p, unsigned ref)
{
	struct state_leads *sl = &st->leads[p];
	bool was_closed = sl->table == NULL;

	sl->refs |= ref;
	if (was_closed) {
		sl->table = lead_table_new();
		if (sl->table == NULL)
			abort();
		sl->now_ms = 0;
	}
	return was_closed;
}

bool state_leads_unref(struct state *st, int p, unsigned ref)
{
	struct state_leads *sl = &st->leads[p];

	sl->refs &= ~ref;
	if (sl->refs != 0 || sl->table == NULL)
		return false;
	state_table_retire(st, sl->table);
	sl->table = NULL;
	g_hash_table_remove_all(sl->dirty);
	return true;
}

bool state_leads_open(const struct state *st, int p)
{
	return p >= 0 && p < st->nleads && st->leads[p].table != NULL;
}

void state_leads_reset(struct state *st, int p)
{
	struct state_leads *sl = &st->leads[p];

	if (sl->table == NULL)
		return;
	state_table_retire(st, sl->table);
	sl->table = lead_table_new();
	if (sl->table == NULL)
		abort();
	sl->now_ms = 0;
	g_hash_table_remove_all(sl->dirty);
}

struct lead_table *state_leads_table(struct state *st, int p)
{
	return st->leads[p].table;
}

void state_lead_dirty(struct state *st, int p, struct strv key)
{
	GHashTable *dirty = st->leads[p].dirty;

	if (!g_hash_table_contains(dirty, &key))
		g_hash_table_add(dirty, state_strv_dup(key));
}

int64_t state_leads_now(const struct state *st, int p)
{
	return st->leads[p].now_ms;
}

void state_leads_advance(struct state *st, int p, int64_t ts_ms)
{
	if (ts_ms > st->leads[p].now_ms)
		st->leads[p].now_ms = ts_ms;
}

/* Left uncapped, one such lead would make every other lead of the part
 * look idle to state_leads_expire, for good (it is never idle itself). */
void state_leads_advance_capped(struct state *st, int p, int64_t ts_ms,
				int64_t cap_ms)
{
	state_leads_advance(st, p,
			    cap_ms > 0 && ts_ms > cap_ms ? cap_ms : ts_ms);
}

/* A duplicate (a redelivery, or a messageId reused with another time)
 * changed nothing: it must not move the expiry clock either. */
enum lead_outcome state_lead_event_apply(struct state *st, int p,
					 const struct engine_config *cfg,
					 const struct event *ev,
					 struct lead **lead,
					 struct assign_cmd *cmd)
{
	enum lead_outcome out =
		lead_event_apply(cfg, st->leads[p].table, ev, lead, cmd);

	if (out == LEAD_DUPLICATE)
		return out;
	state_leads_advance(st, p, ev->ts_ms);
	state_lead_dirty(st, p, *lead ? lead_key(*lead) : ev->lead_key);
	return out;
}

int state_leads_flush(struct state *st, int p, state_lead_flush_fn *fn,
		      void *arg)
{
	struct state_leads *sl = &st->leads[p];
	GHashTableIter it;
	gpointer k;
	int rc = 0;

	g_hash_table_iter_init(&it, sl->dirty);
	while (rc == 0 && g_hash_table_iter_next(&it, &k, NULL)) {
		const struct strv *key = k;
		const struct lead *l =
			sl->table ? lead_table_find(sl->table, *key) : NULL;

		rc = fn(p, *key, l, arg);
	}
	g_hash_table_remove_all(sl->dirty);
	return rc;
}

size_t state_leads_dirty_count(const struct state *st, int p)
{
	return g_hash_table_size(st->leads[p].dirty);
}

struct state_expire {
	const struct engine_config *cfg;
	int64_t now_ms, ttl_ms;
	double min_score;
	size_t max;
	struct strv *keys; /* borrowed from the leads; removed after the walk */
	size_t n;
};

static void state_expire_cb(const struct lead *l, void *arg)
{
	struct state_expire *x = arg;

	if (x->n < x->max &&
	    lead_is_expired(x->cfg, l, x->now_ms, x->ttl_ms, x->min_score))
		x->keys[x->n++] = lead_key(l);
}

size_t state_leads_expire(struct state *st, int p,
			  const struct engine_config *cfg, int64_t ttl_ms,
			  double min_score, size_t max)
{
	struct state_leads *sl = &st->leads[p];
	struct state_expire x = {cfg, sl->now_ms, ttl_ms, min_score,
				 max, NULL,       0};

	if (sl->table == NULL || sl->now_ms <= 0 || ttl_ms <= 0 || max == 0)
		return 0;
	x.keys = calloc(max, sizeof(*x.keys));
	if (x.keys == NULL)
		return 0;
	lead_table_foreach(sl->table, state_expire_cb, &x);
	/* Mark first: the dirty set copies the key, which the removal frees. */
	for (size_t i = 0; i < x.n; i++) {
		struct strv *copy = state_strv_dup(x.keys[i]);

		g_hash_table_add(sl->dirty, copy);
		x.keys[i] = *copy;
	}
	for (size_t i = 0; i < x.n; i++)
		lead_table_remove(sl->table, x.keys[i]);
	free(x.keys);
	return x.n;
}

void state_teams_open(struct state *st, int q)
{
	st->teams[q].open = true;
}

void state_teams_close(struct state *st, int q)
{
	state_teams_reset(st, q);
	st->teams[q].open = false;
}

bool state_teams_is_open(const struct state *st, int q)
{
	return q >= 0 && q < st->nteams && st->teams[q].open;
}

void state_teams_reset(struct state *st, int q)
{
	g_hash_table_remove_all(st->teams[q].teams);
	g_hash_table_remove_all(st->teams[q].dirty);
}

struct team_state *state_team_get(struct state *st, int q,
				  const struct engine_config *cfg,
				  const char *name)
{
	struct state_teams *tt = &st->teams[q];
	struct team_state *ts = g_hash_table_lookup(tt->teams, name);
	const struct team *team;

	if (ts != NULL)
		return ts;
	team = config_team_find(cfg, name);
	if (team == NULL)
		return NULL;
	ts = team_state_new(team);
	if (ts == NULL)
		abort();
	g_hash_table_insert(tt->teams, g_strdup(name), ts);
	return ts;
}

void state_team_put(struct state *st, int q, const char *name,
		    struct team_state *ts)
{
	g_hash_table_replace(st->teams[q].teams, g_strdup(name), ts);
}

void state_team_remove(struct state *st, int q, const char *name)
{
	g_hash_table_remove(st->teams[q].teams, name);
}

void state_team_dirty(struct state *st, int q, const char *name)
{
	GHashTable *dirty = st->teams[q].dirty;

	if (!g_hash_table_contains(dirty, name))
		g_hash_table_add(dirty, g_strdup(name));
}

int state_teams_flush(struct state *st, int q, state_team_flush_fn *fn,
		      void *arg)
{
	struct state_teams *tt = &st->teams[q];
	GHashTableIter it;
	gpointer k;
	int rc = 0;

	g_hash_table_iter_init(&it, tt->dirty);
	while (rc == 0 && g_hash_table_iter_next(&it, &k, NULL))
		rc = fn(q, k, g_hash_table_lookup(tt->teams, k), arg);
	g_hash_table_remove_all(tt->dirty);
	return rc;
}

size_t state_teams_dirty_count(const struct state *st, int q)
{
	return g_hash_table_size(st->teams[q].dirty);
}

size_t state_leads_total(const struct state *st)
{
	size_t n = 0;

	for (int p = 0; p < st->nleads; p++)
		if (st->leads[p].table)
			n += lead_table_count(st->leads[p].table);
	return n;
}

uint64_t state_traits_dropped(const struct state *st)
{
	uint64_t n = st->traits_dropped_gone;

	for (int p = 0; p < st->nleads; p++)
		if (st->leads[p].table)
			n += lead_table_traits_dropped(st->leads[p].table);
	return n;
}

size_t state_teams_total(const struct state *st)
{
	size_t n = 0;

	for (int q = 0; q < st->nteams; q++)
		n += g_hash_table_size(st->teams[q].teams);
	return n;
}
