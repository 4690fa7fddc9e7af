/*
 * lead.c - the lead table, the per-event pipeline of stage 1 and the
 * lifecycle.
 *
 * The table is open addressing with linear probing over an array of lead
 * pointers that carry 16-bit hash tags, so that a probe rarely touches a
 * lead that is not the one sought (one cache miss per lookup instead of
 * one per probe). It doubles before the load passes 0.8
 * and deletes by backward shift, so there are no tombstones to clean up.
 * The leads and their ext blocks live in the table's own slab
 * (lead_slab.c), so dropping a table frees a few chunks, not every lead.
 *
 * Lifecycle transitions (enum lead_lifecycle):
 *
 *   ANONYMOUS --userId or e-mail seen--> KNOWN
 *   ANONYMOUS | KNOWN --qualifies (lead_qual_check: not disqualified,
 *       grade, score, required traits)--> HANDED_OFF, and an assign
 *       command is built
 *   HANDED_OFF --accepted--> ACCEPTED
 *   HANDED_OFF | ACCEPTED --converted--> CONVERTED
 *   HANDED_OFF | ACCEPTED --rejected--> REJECTED, then at once back to
 *       nurture: cycle + 1, score, records and caps cleared, KNOWN
 *   HANDED_OFF | ACCEPTED | CONVERTED --recycled--> RECYCLED, then the
 *       same reset as rejected, KNOWN
 *
 * REJECTED and RECYCLED are passed through inside one feedback call; the
 * state that stays is KNOWN (ANONYMOUS for a lead that was never
 * identified). Feedback that does not fit the current state (a second
 * "rejected") changes nothing: feedback may be redelivered, and it must not
 * start two cycles. A stale "accepted" that does fit (cycle 1's, while
 * cycle 2 is handed off) is told by its handoff_id before it gets here
 * (daemon/stage.c, route_handoff_id_make). MQL is not
 * used by stage 1: qualifying and handing off are one step here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL /* short keys: the call costs more than the hash */
#include <xxhash.h>

#include "lead_internal.h"

/*
 * A prefetch of the line that holds byte off of the block at p, where off
 * may lie past the block's end: a guess from the key sought (the lead
 * whose tag matched may be another with a shorter key) or from a usual
 * key length. The address is made in integers, as a pointer may not move
 * past its object even for a hint that reads nothing.
 */
#define TABLE_PREFETCH_AT(p, off, rw)                                          \
	__builtin_prefetch((const void *)((uintptr_t)(p) + (off)), (rw))

#define TABLE_MIN_CAP 1024
#define TAG_SHIFT     48
#define PTR_MASK      ((UINT64_C(1) << TAG_SHIFT) - 1)

/*
 * A slot holds the lead pointer with 16 bits of its key hash in the top
 * bits, which user-space pointers leave clear on the 64-bit platforms we
 * run on (x86-64, arm64: 47/48-bit addresses). The tag lets a probe skip a
 * foreign lead without dereferencing it, at no memory cost. Should malloc
 * ever return an address that uses the top bits, the table drops tags for
 * good (untagged) and stays correct, only slower.
 */
struct lead_table {
	uint64_t *slots; /* lead pointer | tag << TAG_SHIFT; 0 = empty */
	size_t cap;      /* power of two */
	size_t count;
	bool untagged;
	struct lead_slab slab;   /* the leads and their ext blocks */
	uint64_t traits_dropped; /* lead_table_traits_dropped */
};

static uint64_t table_hash(struct strv key)
{
	return XXH3_64bits(key.p, key.len);
}

static struct lead *slot_lead(const struct lead_table *t, uint64_t v)
{
	return (struct lead *)(uintptr_t)(t->untagged ? v : v & PTR_MASK);
}

static uint64_t slot_make(const struct lead_table *t, const struct lead *l,
			  uint64_t h)
{
	uint64_t p = (uint64_t)(uintptr_t)l;

	return t->untagged ? p : p | (h >> TAG_SHIFT) << TAG_SHIFT;
}

static bool slot_tag_ok(const struct lead_table *t, uint64_t v, uint64_t h)
{
	return t->untagged || v >> TAG_SHIFT == h >> TAG_SHIFT;
}

static uint64_t lead_hash(const struct lead *l)
{
	return table_hash((struct strv){l->key, l->key_len});
}

struct lead_table *lead_table_new(void)
{
	struct lead_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = calloc(TABLE_MIN_CAP, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->cap = TABLE_MIN_CAP;
	return t;
}

static void lead_free(struct lead_table *t, struct lead *l)
{
	lead_slab_free(&t->slab, l->ext, lead_ext_size(l));
	lead_slab_free(&t->slab, l, lead_size(l->key_len));
}

/* Only the blocks the slab took from malloc need freeing one by one, and
 * a table without any (the usual case) skips the walk over its leads. */
void lead_table_free(struct lead_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap && t->slab.nbig > 0; i++)
		if (t->slots[i])
			lead_free(t, slot_lead(t, t->slots[i]));
	lead_slab_release(&t->slab);
	free(t->slots);
	free(t);
}

size_t lead_table_count(const struct lead_table *t)
{
	return t->count;
}

uint64_t lead_table_traits_dropped(const struct lead_table *t)
{
	return t->traits_dropped;
}

void lead_table_note_dropped(struct lead_table *t, size_t n)
{
	t->traits_dropped += n;
}

/* What the table took from malloc: the slots, the slab's chunks (free
 * space included) and its big blocks. */
size_t lead_table_bytes(const struct lead_table *t)
{
	return sizeof(*t) + t->cap * sizeof(*t->slots) + t->slab.held +
	       t->slab.big_bytes;
}

static bool lead_key_eq(const struct lead *l, struct strv key)
{
	return l->key_len == key.len && memcmp(l->key, key.p, key.len) == 0;
}

static size_t table_slot_of(const struct lead_table *t, struct strv key,
			    uint64_t h)
{
	size_t mask = t->cap - 1, i = h & mask;
	uint64_t v;

	while ((v = t->slots[i]) != 0) {
		if (slot_tag_ok(t, v, h) && lead_key_eq(slot_lead(t, v), key))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

struct lead *lead_table_find(const struct lead_table *t, struct strv key)
{
	uint64_t v = t->slots[table_slot_of(t, key, table_hash(key))];

	return v ? slot_lead(t, v) : NULL;
}

uint64_t lead_key_hash(struct strv key)
{
	return table_hash(key);
}

void lead_table_prefetch_hashed(const struct lead_table *t, uint64_t h)
{
	__builtin_prefetch(&t->slots[h & (t->cap - 1)], 0);
}

void lead_table_prefetch(const struct lead_table *t, struct strv key)
{
	lead_table_prefetch_hashed(t, table_hash(key));
}

/* The lead of the first slot whose tag matches: the slot line is expected
 * in cache (lead_table_prefetch earlier), and a tag match is the lead in
 * all but one case in 65536, so no key is compared and nothing waits on
 * the lead itself. Blocks are 8-byte aligned, so the 88 bytes of a lead
 * with a UUID key span two lines or, a quarter of the time, three: the
 * last byte of the key is fetched too, or the key compare misses. */
void lead_table_prefetch_lead_hashed(const struct lead_table *t,
				     struct strv key, uint64_t h)
{
	size_t mask = t->cap - 1, i = h & mask;
	uint64_t v;

	for (; (v = t->slots[i]) != 0; i = (i + 1) & mask) {
		if (slot_tag_ok(t, v, h)) {
			const char *p = (const char *)slot_lead(t, v);
			__builtin_prefetch(p, 1);
			TABLE_PREFETCH_AT(p, 64, 1);
			TABLE_PREFETCH_AT(p, lead_size(key.len) - 1, 1);
			return;
		}
	}
}

/* Lines of an ext block fetched at most, from its start: enough for
 * some fifteen records, which the decay walks in every event. */
#define TABLE_EXT_LINES 7

/* As lead_table_prefetch_lead_hashed, one stage later: the lead is
 * expected in cache (lead_table_prefetch_lead_hashed earlier), and its
 * ext block, which scoring reads and writes in every event (the decay
 * walks all records) and the trait merge copies, is fetched: each of its
 * lines up to TABLE_EXT_LINES, and its last. Not only the first and the
 * last: a quarter of the events on the 5M-event benchmark are on hot
 * leads whose ext spans three lines or more, and the decay waited on
 * the middle ones. */
void lead_table_prefetch_ext_hashed(const struct lead_table *t, uint64_t h)
{
	size_t mask = t->cap - 1, i = h & mask;
	uint64_t v;

	for (; (v = t->slots[i]) != 0; i = (i + 1) & mask) {
		if (slot_tag_ok(t, v, h)) {
			const struct lead *l = slot_lead(t, v);
			const char *p = l->ext;
			size_t end = lead_ext_size(l);
			if (!p)
				return;
			for (size_t off = 0;
			     off < end && off < 64 * TABLE_EXT_LINES; off += 64)
				__builtin_prefetch(p + off, 1);
			__builtin_prefetch(p + end - 1, 1);
			return;
		}
	}
}

void lead_table_prefetch_lead(const struct lead_table *t, struct strv key)
{
	lead_table_prefetch_lead_hashed(t, key, table_hash(key));
}

static void table_place(const struct lead_table *t, uint64_t *slots, size_t cap,
			const struct lead *l, uint64_t h)
{
	size_t mask = cap - 1, i = h & mask;

	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = slot_make(t, l, h);
}

/*
 * A zeroed slot array. From 2 MiB up it is huge-page aligned, so that all
 * of it can be huge pages: calloc's mmap starts anywhere, and the 4 KiB
 * pages at the unaligned ends (up to 4 MiB of a 16 MiB array, a quarter
 * of the slots) cost a TLB miss on nearly every lookup and a page fault
 * per 4 KiB as the rehash first writes them. Zeroing by hand after the
 * hint lets those faults take huge pages; cap is a power of two, so the
 * size is a multiple of the alignment as aligned_alloc requires.
 */
static uint64_t *table_slots_new(size_t cap)
{
	size_t bytes = cap * sizeof(uint64_t);
	uint64_t *slots;

	if (bytes < LEAD_MEM_HUGE || cap > SIZE_MAX / sizeof(*slots))
		return calloc(cap, sizeof(*slots)); /* calloc checks the size */
	slots = aligned_alloc(LEAD_MEM_HUGE, bytes);
	if (!slots)
		return NULL;
	lead_mem_hugepage(slots, bytes);
	memset(slots, 0, bytes);
	return slots;
}

/* Slots ahead of the rehash whose leads are being fetched. */
#define GROW_AHEAD 32

/* Rehashing reads every lead's key, and at a million leads each of those
 * reads misses the cache: the lead GROW_AHEAD slots ahead is fetched
 * while the current one is placed (its key length and the end of a
 * 36-byte key). The prefetches are in the loop itself: GCC takes a
 * function that only loads and prefetches for a pure one and, its
 * result unused, drops every call to it. */
static int table_grow(struct lead_table *t)
{
	size_t cap = t->cap * 2;
	uint64_t *slots = table_slots_new(cap);

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->cap + GROW_AHEAD; i++) {
		size_t j = i - GROW_AHEAD; /* the slot placed now */
		if (i < t->cap && t->slots[i]) {
			const char *p = (const char *)slot_lead(t, t->slots[i]);
			__builtin_prefetch(p + offsetof(struct lead, key_len));
			TABLE_PREFETCH_AT(p, lead_size(36) - 1, 0);
		}
		if (i >= GROW_AHEAD && t->slots[j]) {
			struct lead *l = slot_lead(t, t->slots[j]);
			table_place(t, slots, cap, l, lead_hash(l));
		}
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* An address using the tag bits: strip every tag and stop tagging. */
static void table_untag(struct lead_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i] &= PTR_MASK;
	t->untagged = true;
}

static struct lead *lead_alloc(struct lead_table *t, struct strv key)
{
	struct lead *l;

	if (key.len == 0 || key.len > UINT16_MAX)
		return NULL;
	l = lead_slab_alloc(&t->slab, lead_size(key.len));
	if (!l)
		return NULL;
	memset(l, 0, offsetof(struct lead, key));
	memcpy(l->key, key.p, key.len);
	l->key_len = (uint16_t)key.len;
	l->cycle = 1;
	l->lifecycle = LEAD_ANONYMOUS;
	return l;
}

/* A new lead under key (hash h), which the table does not hold, at slot
 * i: the empty slot its probe ended on, so a lookup that missed goes
 * straight on to the insert. Growing moves the slots: probe again. */
static struct lead *table_add(struct lead_table *t, struct strv key, uint64_t h,
			      size_t i)
{
	struct lead *l;

	if ((t->count + 1) * 5 > t->cap * 4) {
		if (table_grow(t) < 0)
			return NULL;
		i = table_slot_of(t, key, h);
	}
	l = lead_alloc(t, key);
	if (!l)
		return NULL;
	if (!t->untagged && ((uint64_t)(uintptr_t)l & ~PTR_MASK))
		table_untag(t);
	t->slots[i] = slot_make(t, l, h);
	t->count++;
	return l;
}

/* Insert a fresh lead under key, replacing any lead already there. */
struct lead *lead_table_insert(struct lead_table *t, struct strv key)
{
	uint64_t h = table_hash(key);
	size_t i = table_slot_of(t, key, h);

	if (t->slots[i]) {
		lead_table_remove(t, key);
		i = table_slot_of(t, key, h);
	}
	return table_add(t, key, h, i);
}

/* Is home cyclically outside (hole, j]? Then the entry at j may move back
 * into the hole without becoming unreachable. */
static bool table_may_shift(size_t hole, size_t j, size_t home, size_t mask)
{
	return ((j - home) & mask) >= ((j - hole) & mask);
}

void lead_table_remove(struct lead_table *t, struct strv key)
{
	size_t mask = t->cap - 1;
	size_t hole = table_slot_of(t, key, table_hash(key)), j = hole;

	if (!t->slots[hole])
		return;
	lead_free(t, slot_lead(t, t->slots[hole]));
	t->slots[hole] = 0;
	t->count--;
	for (;;) {
		size_t home;
		j = (j + 1) & mask;
		if (!t->slots[j])
			break;
		home = lead_hash(slot_lead(t, t->slots[j])) & mask;
		if (!table_may_shift(hole, j, home, mask))
			continue;
		t->slots[hole] = t->slots[j];
		t->slots[j] = 0;
		hole = j;
	}
}

void lead_table_foreach(const struct lead_table *t,
			void (*fn)(const struct lead *l, void *arg), void *arg)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i])
			fn(slot_lead(t, t->slots[i]), arg);
}

/* Records keep their place (the first min(old, new) of them survive) and
 * the first traits_len trait bytes move to follow the new records. */
int lead_ext_resize(struct lead_table *t, struct lead *l, size_t nrecs,
		    size_t traits_len)
{
	const size_t rs = sizeof(struct lead_rec);
	size_t old = lead_ext_size(l), size = nrecs * rs + traits_len;
	size_t keep = traits_len < l->traits_len ? traits_len : l->traits_len;
	char *p = l->ext, *q = NULL;

	if (nrecs > LEAD_RECS_MAX || traits_len > UINT16_MAX)
		return -1;
	if (size > 0) {
		q = lead_slab_refit(&t->slab, p, old, size);
		if (!q)
			return -1;
	}
	if (q == p) { /* both NULL when the lead had and keeps no ext */
		if (keep)
			memmove(q + nrecs * rs, p + l->nrecs * rs, keep);
		lead_slab_trim(&t->slab, q, old, size);
	} else {
		if (q) {
			size_t n = nrecs < l->nrecs ? nrecs : l->nrecs;
			if (n)
				memcpy(q, p, n * rs);
			if (keep)
				memcpy(q + nrecs * rs, p + l->nrecs * rs, keep);
		}
		lead_slab_free(&t->slab, p, old);
	}
	l->ext = q;
	l->nrecs = (uint8_t)nrecs;
	l->traits_len = (uint16_t)traits_len;
	return 0;
}

/* The messageId's ring hash (0 for none), computed before the lead is
 * looked up so that the hashing overlaps the table's cache misses. */
static uint64_t lead_dedupe_hash(struct strv message_id)
{
	uint64_t h;

	if (message_id.len == 0)
		return 0;
	h = XXH3_64bits(message_id.p, message_id.len) & LEAD_RING_MASK;
	return h ? h : 1; /* 0 marks an empty slot */
}

/* Dedupe: true when hash h was seen; otherwise remembers it. */
static bool lead_dedupe_check(struct lead *l, uint64_t h)
{
	if (h == 0)
		return false;
	for (size_t i = 0; i < LEAD_RING; i++)
		if (lead_ring_get(l, i) == h)
			return true;
	lead_ring_set(l, l->ring_pos, h);
	l->ring_pos = (uint8_t)((l->ring_pos + 1) % LEAD_RING);
	return false;
}

/* An e-mail of only white space is none, as for the lead key (event.c). */
static void lead_identity_note(struct lead *l, const struct event *ev)
{
	if (!ev->user_id.len && strv_empty(strv_trim_space(ev->email)))
		return;
	l->flags |= LEAD_F_IDENTIFIED;
	if (l->lifecycle == LEAD_ANONYMOUS)
		l->lifecycle = LEAD_KNOWN;
}

static bool lead_required_present(const struct qualify_config *qc,
				  const struct lead *l)
{
	struct jval v;

	for (size_t i = 0; i < qc->nrequired; i++) {
		if (!strcmp(qc->required_traits[i], "email_domain")) {
			char buf[256];
			struct strv dom;
			if (!lead_email_domain(l, buf, sizeof(buf), &dom))
				return false;
		} else if (!lead_trait_get(l, qc->required_traits[i], &v) ||
			   v.kind == JVAL_NULL) {
			return false;
		}
	}
	return true;
}

/* The checks, cheapest first: the lifecycle, disqualification and grade
 * are stored bytes, the score a walk over the lead's records, the
 * required traits a walk over its traits per name. lead_event_apply asks
 * on every event and GCC inlines it there: an event pays the compares it
 * paid before the reasons had names. */
enum lead_qual lead_qual_check(const struct engine_config *cfg,
			       const struct lead *l)
{
	const struct qualify_config *qc = &cfg->qualify;
	char min = qc->min_grade ? qc->min_grade : 'D';

	if (l->lifecycle != LEAD_ANONYMOUS && l->lifecycle != LEAD_KNOWN)
		return LEAD_QUAL_HANDED_OFF;
	if (l->disq != LEAD_DISQ_NONE)
		return LEAD_QUAL_DISQUALIFIED;
	if (lead_fit_grade(&cfg->fit, l) > min)
		return LEAD_QUAL_GRADE;
	if (lead_score_sum(l) < qc->threshold)
		return LEAD_QUAL_THRESHOLD;
	if (!lead_required_present(qc, l))
		return LEAD_QUAL_TRAIT;
	return LEAD_QUAL_OK;
}

const char *lead_qual_name(enum lead_qual q)
{
	static const char *const names[LEAD_QUAL_COUNT] = {
		"qualified",       "handed_off",      "disqualified",
		"grade_below_min", "below_threshold", "missing_trait"};

	return (unsigned)q < LEAD_QUAL_COUNT ? names[q] : "unknown";
}

enum lead_outcome lead_event_apply(const struct engine_config *cfg,
				   struct lead_table *t, const struct event *ev,
				   struct lead **out, struct assign_cmd *cmd)
{
	return lead_event_apply_hashed(cfg, t, ev, table_hash(ev->lead_key),
				       out, cmd);
}

enum lead_outcome lead_event_apply_hashed(const struct engine_config *cfg,
					  struct lead_table *t,
					  const struct event *ev, uint64_t h,
					  struct lead **out,
					  struct assign_cmd *cmd)
{
	uint64_t msg_hash = lead_dedupe_hash(ev->message_id);
	size_t i = table_slot_of(t, ev->lead_key, h);
	struct lead *l = t->slots[i] ? slot_lead(t, t->slots[i]) : NULL;

	if (out)
		*out = NULL;
	if (cmd)
		*cmd = (struct assign_cmd){0};
	if (!l) {
		l = table_add(t, ev->lead_key, h, i);
		if (!l)
			return LEAD_DUPLICATE; /* no key or memory: no change */
		l->last_ms = ev->ts_ms; /* a new lead starts at its event */
	} else if (l->ext) {
		/* the records are a separate block: start fetching them now,
		 * while dedupe and rule matching (which read the event) run */
		__builtin_prefetch(l->ext, 1);
	}
	if (out)
		*out = l;
	if (lead_dedupe_check(l, msg_hash))
		return LEAD_DUPLICATE;
	lead_identity_note(l, ev);
	lead_traits_merge(t, l, ev, &cfg->fit);
	lead_score_event(&cfg->scoring, t, l, ev);
	if (!cmd || lead_qual_check(cfg, l) != LEAD_QUAL_OK)
		return LEAD_UPDATED;
	if (lead_assign_build(cfg, l, cmd) < 0)
		return LEAD_UPDATED; /* retried on the lead's next event */
	l->lifecycle = LEAD_HANDED_OFF;
	return LEAD_QUALIFIED;
}

void lead_state_reset_cycle(struct lead_table *t, struct lead *l)
{
	lead_ext_resize(t, l, 0, l->traits_len);
	if (l->cycle < UINT16_MAX)
		l->cycle++; /* saturates: once per cycle still holds */
	l->lifecycle =
		(l->flags & LEAD_F_IDENTIFIED) ? LEAD_KNOWN : LEAD_ANONYMOUS;
}

static bool lead_feedback_move(struct lead_table *t, struct lead *l,
			       const char *outcome)
{
	enum lead_lifecycle s = l->lifecycle;
	bool open = s == LEAD_HANDED_OFF || s == LEAD_MQL;

	if (!strcmp(outcome, "accepted")) {
		if (open)
			l->lifecycle = LEAD_ACCEPTED;
	} else if (!strcmp(outcome, "converted")) {
		if (open || s == LEAD_ACCEPTED)
			l->lifecycle = LEAD_CONVERTED;
	} else if (!strcmp(outcome, "rejected")) {
		if (open || s == LEAD_ACCEPTED) {
			l->lifecycle = LEAD_REJECTED;
			lead_state_reset_cycle(t, l);
		}
	} else if (!strcmp(outcome, "recycled")) {
		if (open || s == LEAD_ACCEPTED || s == LEAD_CONVERTED) {
			l->lifecycle = LEAD_RECYCLED;
			lead_state_reset_cycle(t, l);
		}
	} else {
		return false;
	}
	return true;
}

int lead_feedback_apply(const struct engine_config *cfg, struct lead_table *t,
			struct strv key, const char *outcome, int64_t ts_ms)
{
	struct lead *l = lead_table_find(t, key);

	if (!l || !outcome)
		return -1;
	if (!lead_feedback_move(t, l, outcome))
		return -1;
	lead_score_advance(&cfg->scoring, l, ts_ms);
	return 0;
}

struct strv lead_key(const struct lead *l)
{
	return (struct strv){l->key, l->key_len};
}

/* The score as of ts_ms; for a time before the latest event the stored
 * score is returned, since undoing later events is not possible. */
double lead_score_at(const struct engine_config *cfg, const struct lead *l,
		     int64_t ts_ms)
{
	return lead_score_sum(l) *
	       lead_decay_factor(&cfg->scoring, ts_ms - l->last_ms);
}

char lead_grade(const struct lead *l)
{
	return l->grade;
}

enum lead_disq lead_disq_get(const struct lead *l)
{
	return (enum lead_disq)l->disq;
}

enum lead_lifecycle lead_lifecycle_get(const struct lead *l)
{
	return (enum lead_lifecycle)l->lifecycle;
}

unsigned lead_cycle(const struct lead *l)
{
	return l->cycle;
}

const char *lead_lifecycle_name(enum lead_lifecycle s)
{
	static const char *const names[LEAD_LIFECYCLE_COUNT] = {
		"anonymous", "known",    "mql",       "handed_off",
		"accepted",  "rejected", "converted", "recycled"};

	return (unsigned)s < LEAD_LIFECYCLE_COUNT ? names[s] : "unknown";
}

int64_t lead_last_seen(const struct lead *l)
{
	return l->last_ms;
}

/* A lead that has been handed off keeps its cycle for good: deleted, it
 * would come back at cycle 1, and its next handoff would repeat its first
 * one's handoff_id, which consumers drop as a duplicate. Such leads are
 * the few that reached sales, so keeping them costs little. */
static bool lead_ever_handed_off(const struct lead *l)
{
	return l->cycle > 1 ||
	       (l->lifecycle != LEAD_ANONYMOUS && l->lifecycle != LEAD_KNOWN);
}

bool lead_is_expired(const struct engine_config *cfg, const struct lead *l,
		     int64_t now_ms, int64_t ttl_ms, double min_score)
{
	if (l->last_ms >= now_ms - ttl_ms || lead_ever_handed_off(l))
		return false;
	return fabs(lead_score_at(cfg, l, now_ms)) < min_score;
}
