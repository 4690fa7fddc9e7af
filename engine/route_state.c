/*
 * route_state.c - the per-team routing state: its life cycle, rep feedback
 * and the changelog encoding (one JSON record per team).
 *
 * Teams are small (a handful to a few dozen reps), so slots are a plain
 * array searched linearly; a hint (the rep's index in the team) makes the
 * common case, a state built for the current config, a single compare.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "route_state.h"

#define TEAM_STATE_VERSION 1

struct team_state *team_state_new(const struct team *team)
{
	struct team_state *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->team = strdup(team && team->name ? team->name : "");
	if (!ts->team)
		goto err;
	for (size_t i = 0; team && i < team->nreps; i++)
		if (!team_state_slot_get(ts, team->reps[i].id, i))
			goto err;
	return ts;
err:
	team_state_free(ts);
	return NULL;
}

static void team_state_slots_clear(struct team_state *ts)
{
	for (size_t i = 0; i < ts->nslots; i++)
		free(ts->slots[i].id);
	free(ts->slots);
	ts->slots = NULL;
	ts->nslots = ts->cap = 0;
}

void team_state_free(struct team_state *ts)
{
	if (!ts)
		return;
	team_state_slots_clear(ts);
	free(ts->team);
	free(ts);
}

struct rep_slot *team_state_slot_find(const struct team_state *ts,
				      const char *id, size_t hint)
{
	if (!id)
		return NULL;
	if (hint < ts->nslots && strcmp(ts->slots[hint].id, id) == 0)
		return &ts->slots[hint];
	for (size_t i = 0; i < ts->nslots; i++)
		if (strcmp(ts->slots[i].id, id) == 0)
			return &ts->slots[i];
	return NULL;
}

static struct rep_slot *team_state_slot_add(struct team_state *ts,
					    const char *id)
{
	struct rep_slot *s;

	if (ts->nslots == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 8;
		struct rep_slot *n = realloc(ts->slots, cap * sizeof(*n));

		if (!n)
			return NULL;
		ts->slots = n;
		ts->cap = cap;
	}
	s = &ts->slots[ts->nslots];
	memset(s, 0, sizeof(*s));
	s->id = strdup(id);
	if (!s->id)
		return NULL;
	ts->nslots++;
	return s;
}

struct rep_slot *team_state_slot_get(struct team_state *ts, const char *id,
				     size_t hint)
{
	struct rep_slot *s = team_state_slot_find(ts, id, hint);

	return s ? s : team_state_slot_add(ts, id);
}

int team_state_feedback(struct team_state *ts, const char *rep_id,
			const char *outcome)
{
	struct rep_slot *s = team_state_slot_find(ts, rep_id, 0);

	if (!s)
		return -1;
	/* "recycled" and unknown outcomes leave the load alone: a recycled
	 * lead was already answered (accepted) before it went back. */
	if (outcome && (strcmp(outcome, "accepted") == 0 ||
			strcmp(outcome, "rejected") == 0 ||
			strcmp(outcome, "converted") == 0)) {
		if (s->open > 0)
			s->open--;
	}
	return 0;
}

static json_t *rep_slot_encode(const struct rep_slot *s)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "id", s->id, "cw",
			 (json_int_t)s->current_weight, "day",
			 (json_int_t)s->day, "day_count",
			 (json_int_t)s->day_count, "open", (json_int_t)s->open,
			 "total", (json_int_t)s->total);
}

int team_state_encode(const struct team_state *ts, char **out, size_t *len)
{
	json_t *root, *reps;
	char *s = NULL;

	root = json_pack("{s:i, s:s, s:I, s:I, s:[]}", "v", TEAM_STATE_VERSION,
			 "team", ts->team, "seq", (json_int_t)ts->seq,
			 "handoffs", (json_int_t)ts->handoffs, "reps");
	if (!root)
		return -1;
	reps = json_object_get(root, "reps");
	for (size_t i = 0; i < ts->nslots; i++)
		if (json_array_append_new(reps, rep_slot_encode(&ts->slots[i])))
			goto done;
	s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);
done:
	json_decref(root);
	if (!s)
		return -1;
	*out = s;
	*len = strlen(s);
	return 0;
}

static int rep_slot_decode(json_t *j, struct rep_slot *s)
{
	const char *id;
	json_int_t cw, day, day_count, open, total;

	if (json_unpack(j, "{s:s, s:I, s:I, s:I, s:I, s:I}", "id", &id, "cw",
			&cw, "day", &day, "day_count", &day_count, "open",
			&open, "total", &total))
		return -1;
	if (day_count < 0 || day_count > UINT32_MAX || open < 0 ||
	    open > UINT32_MAX || total < 0)
		return -1;
	s->id = strdup(id);
	if (!s->id)
		return -1;
	s->current_weight = cw;
	s->day = day;
	s->day_count = (uint32_t)day_count;
	s->open = (uint32_t)open;
	s->total = (uint64_t)total;
	return 0;
}

/* Build the slots in a scratch state first so that a bad record leaves ts
 * untouched. */
static int team_state_decode_reps(json_t *reps, struct team_state *tmp)
{
	size_t n = json_array_size(reps);

	tmp->slots = calloc(n ? n : 1, sizeof(*tmp->slots));
	if (!tmp->slots)
		return -1;
	tmp->cap = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		if (rep_slot_decode(json_array_get(reps, i), &tmp->slots[i]))
			return -1;
		tmp->nslots++;
		if (team_state_slot_find(tmp, tmp->slots[i].id, 0) !=
		    &tmp->slots[i])
			return -1; /* duplicate id */
	}
	return 0;
}

int team_state_decode(struct team_state *ts, const char *val, size_t len)
{
	struct team_state tmp = {0};
	json_t *root, *reps;
	const char *team;
	json_int_t v, seq, handoffs;
	int rc = -1;

	root = json_loadb(val, len, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return -1;
	if (json_unpack(root, "{s:I, s:s, s:I, s:I, s:o}", "v", &v, "team",
			&team, "seq", &seq, "handoffs", &handoffs, "reps",
			&reps) ||
	    v != TEAM_STATE_VERSION || !json_is_array(reps) || seq < 0 ||
	    handoffs < 0)
		goto done;
	/* A record of another team means the caller mixed up keys. */
	if (strcmp(team, ts->team) != 0)
		goto done;
	if (team_state_decode_reps(reps, &tmp))
		goto done;
	team_state_slots_clear(ts);
	ts->slots = tmp.slots;
	ts->nslots = tmp.nslots;
	ts->cap = tmp.cap;
	tmp.slots = NULL;
	tmp.nslots = 0;
	ts->seq = (uint64_t)seq;
	ts->handoffs = (uint64_t)handoffs;
	rc = 0;
done:
	team_state_slots_clear(&tmp);
	json_decref(root);
	return rc;
}
