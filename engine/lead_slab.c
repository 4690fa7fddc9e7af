/*
 * lead_slab.c - the allocator that holds one lead table's leads and their
 * ext blocks.
 *
 * A million leads as a million malloc blocks cost twice: every block pays
 * glibc's header and 16-byte rounding (a 52-byte lead with a 36-byte key
 * takes 96 bytes, a 24-byte record block 32), and dropping the table frees
 * them one by one, which at exit took a sixth of a simulate run. Here
 * blocks are carved from a few large chunks in 8-byte size classes with no
 * header: the owner always knows a block's size (a lead's from its key
 * length, an ext block's from nrecs and traits_len), so it passes the size
 * back on free. Freed blocks go to a list per class and are reused first.
 * Dropping the table releases the chunks, not the blocks.
 *
 * Blocks above LEAD_SLAB_MAX (long keys, leads with many traits) are rare
 * and come from malloc; nbig counts them so that a table without any can
 * skip the walk over its leads that freeing them needs.
 *
 * Under AddressSanitizer the slab poisons what is not handed out (fresh
 * chunk space, freed blocks but for their free-list link), so `make check`
 * still catches a lead used after lead_table_remove or an ext overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lead_internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SLAB_ASAN)
#define SLAB_ASAN 1
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define SLAB_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLAB_POISON(p, n)   ((void)(p), (void)(n))
#define SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* The first chunk is small so that a small table (a test, a quiet
 * partition) stays small; each next one doubles. */
#define SLAB_CHUNK_MIN (16u << 10)
#define SLAB_HUGE      LEAD_MEM_HUGE
#define SLAB_CHUNK_MAX SLAB_HUGE

/*
 * At a million leads nearly every lookup misses the TLB as well as the
 * cache: 120 MB of leads and 16 MB of slots are some 35,000 small pages.
 * Asking for transparent huge pages where the kernel leaves them to
 * madvise cuts that to some 70. A hint only: where it is refused or
 * unknown nothing changes but the speed.
 */
void lead_mem_hugepage(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	uintptr_t huge = SLAB_HUGE;
	uintptr_t beg = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t end = ((uintptr_t)p + n) & ~(huge - 1);

	if (end > beg)
		(void)madvise((void *)beg, end - beg, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

static size_t slab_round(size_t n)
{
	return n < 8 ? 8 : (n + 7) & ~(size_t)7;
}

static bool slab_is_big(size_t n)
{
	return n > LEAD_SLAB_MAX;
}

/* Put the block at p (n bytes, rounded) on its class's free list. */
static void slab_push(struct lead_slab *s, void *p, size_t n)
{
	size_t c = n / 8 - 1;

	SLAB_POISON(p, n);
	SLAB_UNPOISON(p, sizeof(void *));
	memcpy(p, &s->free[c], sizeof(void *));
	s->free[c] = p;
}

/* Chunk i's size: they double from SLAB_CHUNK_MIN to SLAB_CHUNK_MAX. */
static size_t slab_chunk_size(size_t i)
{
	size_t size = SLAB_CHUNK_MIN;

	for (; i > 0 && size < SLAB_CHUNK_MAX; i--)
		size *= 2;
	return size;
}

/* A new chunk for the bump pointer; the old chunk's tail is not lost but
 * goes to the free list of its size. */
static int slab_chunk_add(struct lead_slab *s)
{
	size_t size = slab_chunk_size(s->nchunks);
	char *c;
	if (s->nchunks == s->cap_chunks) {
		size_t cap = s->cap_chunks ? s->cap_chunks * 2 : 16;
		char **v = realloc(s->chunks, cap * sizeof(*v));
		if (!v)
			return -1;
		s->chunks = v;
		s->cap_chunks = cap;
	}
	/* full-size chunks are huge-page aligned, so all of each is one page */
	c = size == SLAB_HUGE ? aligned_alloc(SLAB_HUGE, size) : malloc(size);
	if (!c)
		return -1;
	if (size == SLAB_HUGE)
		lead_mem_hugepage(c, size);
	SLAB_POISON(c, size);
	if (s->left >= 8)
		slab_push(s, s->cur, s->left);
	s->chunks[s->nchunks++] = c;
	s->cur = c;
	s->left = size;
	s->held += size;
	return 0;
}

void *lead_slab_alloc(struct lead_slab *s, size_t n)
{
	size_t c;
	void *p;

	if (n == 0)
		return NULL;
	if (slab_is_big(n)) {
		p = malloc(n);
		if (p) {
			s->nbig++;
			s->big_bytes += n;
		}
		return p;
	}
	n = slab_round(n);
	c = n / 8 - 1;
	if (s->free[c]) {
		p = s->free[c];
		memcpy(&s->free[c], p, sizeof(void *));
		/* the next block of this class is one a lead gave back long
		 * ago, out of cache: start fetching it now, or its pop waits
		 * on memory for the link it holds */
		if (s->free[c])
			__builtin_prefetch(s->free[c], 1);
	} else {
		if (s->left < n && slab_chunk_add(s) < 0)
			return NULL;
		p = s->cur;
		s->cur += n;
		s->left -= n;
	}
	SLAB_UNPOISON(p, n);
	return p;
}

void lead_slab_free(struct lead_slab *s, void *p, size_t n)
{
	if (!p)
		return;
	if (slab_is_big(n)) {
		free(p);
		s->nbig--;
		s->big_bytes -= n;
		return;
	}
	slab_push(s, p, slab_round(n));
}

void *lead_slab_refit(struct lead_slab *s, void *p, size_t old, size_t n)
{
	if (p && slab_is_big(old) && slab_is_big(n) && n <= old) {
		s->big_bytes -= old - n; /* as lead_slab_free will count it */
		return p; /* free() needs no size: a smaller record is fine */
	}
	if (p && !slab_is_big(old) && !slab_is_big(n) &&
	    slab_round(n) <= slab_round(old)) {
		SLAB_UNPOISON(p, slab_round(old));
		return p;
	}
	return lead_slab_alloc(s, n);
}

void lead_slab_trim(struct lead_slab *s, void *p, size_t old, size_t n)
{
	size_t have = slab_round(old), want = slab_round(n);

	if (p && n > 0 && !slab_is_big(old) && want < have)
		slab_push(s, (char *)p + want, have - want);
}

void lead_slab_release(struct lead_slab *s)
{
	for (size_t i = 0; i < s->nchunks; i++) {
		SLAB_UNPOISON(s->chunks[i], slab_chunk_size(i));
		free(s->chunks[i]);
	}
	free(s->chunks);
	memset(s, 0, sizeof(*s));
}
