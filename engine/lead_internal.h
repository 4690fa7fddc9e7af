/*
 * lead_internal.h - the in-memory layout of a lead, shared by the files
 * that implement lead.h (lead.c, score.c, fit.c, lead_codec.c) and nobody
 * else.
 *
 * Memory is the constraint that shapes this file: a partition may track a
 * million leads, most of them anonymous visitors with a rule or two fired,
 * so the budget is about 200 bytes per lead all in. struct lead is one
 * block of 52 bytes plus the key; everything of variable size (per-rule
 * records, then the packed traits) lives in a single lazily allocated
 * "ext" block, so an anonymous lead costs two blocks and a lead without
 * rules or traits costs one. Both come from the table's slab
 * (lead_slab.c), without a per-block header.
 */
#ifndef LR_LEAD_INTERNAL_H
#define LR_LEAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cond.h"
#include "lead.h"

/*
 * Dedupe ring size. Duplicates come from at-least-once producers retrying
 * a send, so the copy arrives right after the original or a handful of the
 * same lead's events later (a retried batch). Four slots cover a retried
 * burst of four events per lead and cost 32 bytes; eight would double that
 * for retries that are rarer still, a poor trade at 200 bytes per lead.
 * Replays of whole partitions are handled by exactly-once processing, not
 * here.
 */
#define LEAD_RING 4
/* Hashes keep 48 bits: a false duplicate then needs some 7e13 events per
 * lead, years at a million events a second, and the ring costs 24 bytes
 * instead of 32. */
#define LEAD_RING_MASK 0xffffffffffffULL
#define LEAD_RECS_MAX  UINT8_MAX /* distinct rules fired per lead per cycle */
/* Packed trait bytes per lead. Past it, a new trait the config does not
 * read is dropped, and one it reads (fit_config.wanted, "email", the
 * account) evicts the oldest traits it does not read (fit.c). */
#define LEAD_TRAITS_MAX 2048
#define LEAD_DAY_MS     86400000LL
/* Event times the parser can produce (years 0000..9999, any UTC offset),
 * a day wider each side. A changelog record outside this is refused: its
 * time would overflow the decay arithmetic and the day numbers, and
 * cannot be printed as a qualification time. */
#define LEAD_TS_MIN_MS (-62167219200000LL - LEAD_DAY_MS)
#define LEAD_TS_MAX_MS (253402300800000LL + LEAD_DAY_MS)

/* One fired score rule in the current cycle. */
struct lead_rec {
	double contrib;     /* decayed contribution as of lead->last_ms */
	uint32_t day_count; /* counted matches on UTC day `day` */
	uint32_t total;     /* counted matches this cycle */
	int32_t day;        /* UTC day number (days since the epoch) */
	uint16_t rule;      /* index into scoring.rules */
};

/* Packed trait entry: one type byte, name, NUL, value text, NUL. Numbers
 * keep their literal so that encode/decode and the handoff show what the
 * producer sent. TRAIT_HIDDEN marks bookkeeping (the account, under
 * TRAIT_GROUP_ID) kept out of the handoff's traits. A hidden entry and an
 * ordinary one of the same name are two traits: lookups by name
 * (lead_trait_get, the fit walk) see only ordinary ones, and a put
 * replaces only the entry of its own name and hidden-ness, so an
 * identify trait "group_id" (a CRM export's) is neither the account nor
 * overwrites it. */
#define TRAIT_HIDDEN   0x80
#define TRAIT_GROUP_ID "group_id"

#define LEAD_F_IDENTIFIED 0x01 /* a userId or e-mail has been seen */

struct lead {
	int64_t last_ms; /* latest event time; the score is as of this time */
	char *ext;       /* nrecs lead_rec, then traits_len packed bytes */
	uint8_t ring[LEAD_RING * 6]; /* 48-bit messageId hashes; 0 = empty */
	uint16_t cycle;              /* lifecycle cycle, from 1; saturates */
	uint16_t traits_len;
	uint16_t key_len;
	uint8_t nrecs;
	uint8_t ring_pos;
	uint8_t lifecycle; /* enum lead_lifecycle */
	uint8_t disq;      /* enum lead_disq */
	char grade;        /* 'A'..'D' or GRADE_NONE */
	uint8_t flags;
	char key[]; /* key_len bytes, no NUL: a 36-byte UUID key makes an
		       88-byte block */
};

/*
 * lead_slab.c: blocks in 8-byte size classes up to LEAD_SLAB_MAX, carved
 * from chunks the slab owns, with no header: the caller passes a block's
 * size back (lead_size, lead_ext_size). Larger blocks come from malloc.
 */
#define LEAD_SLAB_MAX 512

struct lead_slab {
	void *free[LEAD_SLAB_MAX / 8]; /* free lists by size / 8 - 1 */
	char **chunks;
	size_t nchunks, cap_chunks;
	char *cur; /* bump pointer into the newest chunk */
	size_t left;
	size_t held;      /* chunk bytes */
	size_t nbig;      /* blocks from malloc, alive */
	size_t big_bytes; /* their sizes */
};

void *lead_slab_alloc(struct lead_slab *s, size_t n);
void lead_slab_free(struct lead_slab *s, void *p, size_t n);
/* The block to hold n bytes (n > 0) in place of p (old bytes, or p NULL):
 * p itself when it still fits (same class or smaller), else a fresh block,
 * which the caller fills before it frees p. NULL when out of memory; p is
 * then untouched. */
void *lead_slab_refit(struct lead_slab *s, void *p, size_t old, size_t n);
/* After a block kept by lead_slab_refit shrank from old to n bytes (and
 * its bytes have moved into place): its tail becomes a free block. */
void lead_slab_trim(struct lead_slab *s, void *p, size_t old, size_t n);
/* Frees every chunk; the malloc'd big blocks are the caller's to free. */
void lead_slab_release(struct lead_slab *s);
/* Hint that the whole 2 MiB pages inside [p, p + n) be huge pages. */
void lead_mem_hugepage(void *p, size_t n);
#define LEAD_MEM_HUGE (2u << 20) /* an x86-64 / arm64 huge page */

static inline size_t lead_size(size_t key_len)
{
	return offsetof(struct lead, key) + key_len;
}

static inline size_t lead_ext_size(const struct lead *l)
{
	return (size_t)l->nrecs * sizeof(struct lead_rec) + l->traits_len;
}

/* Spelt out byte by byte so that the compiler makes it one 4-byte and
 * one 2-byte load where the byte order allows. */
static inline uint64_t lead_ring_get(const struct lead *l, size_t i)
{
	const uint8_t *p = l->ring + i * 6;

	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40;
}

/* Spelt out too: GCC kept the six-byte loop a loop, some 30
 * instructions per event, where these become two stores. */
static inline void lead_ring_set(struct lead *l, size_t i, uint64_t h)
{
	uint8_t *p = l->ring + i * 6;

	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(h >> 8);
	p[2] = (uint8_t)(h >> 16);
	p[3] = (uint8_t)(h >> 24);
	p[4] = (uint8_t)(h >> 32);
	p[5] = (uint8_t)(h >> 40);
}

static inline struct lead_rec *lead_recs(const struct lead *l)
{
	return (struct lead_rec *)(void *)l->ext;
}

static inline const char *lead_traits(const struct lead *l)
{
	return l->ext ? l->ext + (size_t)l->nrecs * sizeof(struct lead_rec)
		      : NULL;
}

/* lead.c: resize ext to nrecs records and traits_len trait bytes, keeping
 * the trait bytes in place (the records are not moved). */
int lead_ext_resize(struct lead_table *t, struct lead *l, size_t nrecs,
		    size_t traits_len);
struct lead *lead_table_insert(struct lead_table *t, struct strv key);
/* Count n traits a merge dropped or evicted at the cap. */
void lead_table_note_dropped(struct lead_table *t, size_t n);
void lead_state_reset_cycle(struct lead_table *t, struct lead *l);

/* score.c */
void lead_score_advance(const struct scoring_config *sc, struct lead *l,
			int64_t ts_ms);
bool lead_score_event(const struct scoring_config *sc, struct lead_table *t,
		      struct lead *l, const struct event *ev);
double lead_score_sum(const struct lead *l);
double lead_decay_factor(const struct scoring_config *sc, int64_t dt_ms);
int32_t lead_day_of(int64_t ts_ms);

/* fit.c */
/* A stored number trait's value: strtod's, without strtod for integers. */
double lead_trait_number(struct strv val);
/* An ordinary (not hidden) trait by name. */
bool lead_trait_get(const struct lead *l, const char *name, struct jval *out);
/* Whether l has a trait besides the hidden account: a lead whose only
 * entry is its groupId is graded, and explained, as one without traits. */
bool lead_traits_visible(const struct lead *l);
/* The lead's account: its hidden TRAIT_GROUP_ID entry, from groupId. */
bool lead_group_id_get(const struct lead *l, struct strv *out);
/* lead_traits_merge for an event that carries traits, an e-mail or a
 * group. */
bool lead_traits_merge_some(struct lead_table *t, struct lead *l,
			    const struct event *ev,
			    const struct fit_config *fc);
/* Merges ev's traits into l; when they changed, regrades l under fc
 * (as lead_fit_update) and returns true. Most events carry none: they
 * are told apart here, without the call and the merge's stack frame. */
static inline bool lead_traits_merge(struct lead_table *t, struct lead *l,
				     const struct event *ev,
				     const struct fit_config *fc)
{
	if (ev->ntraits == 0 && !ev->email.p && !ev->group_id.p)
		return false;
	return lead_traits_merge_some(t, l, ev, fc);
}
int lead_traits_replace(struct lead_table *t, struct lead *l,
			const char *packed, size_t len);
void lead_fit_update(const struct fit_config *fc, struct lead *l);
/* The grade of 0 fit points under fc's bands. */
char lead_fit_grade_zero(const struct fit_config *fc);
/* The grade that qualifies l and that its handoff carries: its own, or,
 * without traits (GRADE_NONE), the grade of 0 fit points. Inline, and
 * from the prepared config, since qualification asks on every event: a
 * lead with traits pays the one compare it always did. */
static inline char lead_fit_grade(const struct fit_config *fc,
				  const struct lead *l)
{
	if (l->grade != GRADE_NONE)
		return l->grade;
	return fc->prepared ? fc->grade_zero : lead_fit_grade_zero(fc);
}
double lead_fit_points(const struct fit_config *fc, const struct lead *l);
bool lead_lookup_cb(void *arg, enum field_src src, const char *name,
		    struct jval *out, char *scratch, size_t cap);
bool lead_email_domain(const struct lead *l, char *buf, size_t cap,
		       struct strv *out);
const struct territory *lead_territory_find(const struct routing_config *rc,
					    const struct lead *l);
/* Iterate packed traits: returns the offset of the next entry, or 0 at the
 * end; fills type, name and value. */
size_t lead_trait_next(const char *p, size_t len, size_t off, uint8_t *type,
		       const char **name, struct strv *val);

/* lead_codec.c */
int lead_assign_build(const struct engine_config *cfg, const struct lead *l,
		      struct assign_cmd *cmd);
/* The same command through jansson's DOM: lead_assign_build's path for a
 * lead its writer leaves alone, and the reference its tests compare to. */
int lead_assign_build_dom(const struct engine_config *cfg, const struct lead *l,
			  struct assign_cmd *cmd);

#endif
