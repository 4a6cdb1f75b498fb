/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: what a verified packet carries, and the PRNG of the random
 * sleeps.
 *
 * A verified packet of len bytes (len >= 14, the ring's minimum), all in
 * host byte order (both peers run on the same host):
 *
 *   [0, 8)    seq: the producer's sequence number, from 0
 *   [8, 12)   csum: checksum of everything else (below)
 *   [12, len) pattern: byte i is byte (i % 8) of w = seq * 0x9E3779B97F4A7C15,
 *             so every aligned 8-byte word from offset 16 on equals w
 *
 * csum is FNV-1a taken over 64-bit words instead of bytes (one multiply per
 * 8 bytes): h = 0xcbf29ce484222325; for each word x: h ^= x; h *= 0x100000001b3;
 * the words are seq, then [12, len) read as consecutive 8-byte words (the
 * last one zero-padded), then len; csum = low 32 bits of h ^ (h >> 32).
 * The consumer recomputes it and compares the pattern against seq: a flipped
 * byte anywhere shows as `corrupt`, a wrong seq as `lost` or `dup_or_reordered`.
 *
 * Per packet only: no syscalls, no allocation.
 */
#include <string.h>

#include "pair.h"

#define PAT_MUL 0x9E3779B97F4A7C15ull
#define FNV_OFF 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t pat_word(uint64_t seq)
{
	return seq * PAT_MUL;
}

static uint32_t pay_csum(const uint8_t *p, uint32_t len)
{
	uint64_t h = FNV_OFF, x;
	uint32_t i;

	memcpy(&x, p, 8);
	h = (h ^ x) * FNV_PRIME;
	for (i = 12; i + 8 <= len; i += 8) {
		memcpy(&x, p + i, 8);
		h = (h ^ x) * FNV_PRIME;
	}
	if (i < len) {
		x = 0;
		memcpy(&x, p + i, len - i);
		h = (h ^ x) * FNV_PRIME;
	}
	h = (h ^ len) * FNV_PRIME;
	return (uint32_t)(h ^ (h >> 32));
}

void pair_pay_stamp(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t w = pat_word(seq);
	uint32_t i, csum;

	/* offset 8 is word-aligned in the pattern: write w at 8 and let csum
	 * overwrite [8, 12) afterwards */
	memcpy(p + 8, &w, len - 8 < 8 ? len - 8 : 8);
	for (i = 16; i + 8 <= len; i += 8)
		memcpy(p + i, &w, 8);
	if (i < len)
		memcpy(p + i, &w, len - i);
	memcpy(p, &seq, 8);
	csum = pay_csum(p, len);
	memcpy(p + 8, &csum, 4);
}

uint64_t pair_pay_seq(const uint8_t *p)
{
	uint64_t seq;

	memcpy(&seq, p, 8);
	return seq;
}

int pair_pay_intact(const uint8_t *p, uint32_t len)
{
	uint64_t seq = pair_pay_seq(p), w = pat_word(seq), x;
	uint32_t csum, i, head = len < 16 ? len - 12 : 4;

	memcpy(&csum, p + 8, 4);
	if (csum != pay_csum(p, len))
		return 0;
	/* [12, 16) holds bytes 4..7 of w */
	if (memcmp(p + 12, (const uint8_t *)&w + 4, head) != 0)
		return 0;
	for (i = 16; i + 8 <= len; i += 8) {
		memcpy(&x, p + i, 8);
		if (x != w)
			return 0;
	}
	return i >= len || memcmp(p + i, &w, len - i) == 0;
}

void pair_pay_fill_plain(uint8_t *p, uint32_t len)
{
	memset(p, 0x11, len);
}

/* xorshift64*: small, fast, good enough to decide when to nap. */
uint64_t pair_rand_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

int pair_rand_chance(uint64_t *state, double prob)
{
	if (prob <= 0)
		return 0;
	return (double)(pair_rand_next(state) >> 11) * 0x1.0p-53 < prob;
}

void pair_rand_seed(uint64_t *state, uint64_t seed, unsigned stream)
{
	/* one splitmix64 step spreads (seed, stream) over the state; never 0 */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	*state = z ? z : 1;
}
