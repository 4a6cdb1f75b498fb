/* SPDX-License-Identifier: MIT */
/*
 * learn.c - the MAC learning table, the switch's default lookup ops.
 *
 * Concurrency model (hot: every packet looks up, learns on its source):
 *   - The table is an array of buckets of VSW_MAC_WAYS entries, each entry
 *     two 64-bit words {key, val}. Readers never lock: they load key
 *     (acquire), then val (acquire), then key again; a changed key, a zero
 *     val or a val whose tag does not match the key is a miss (the frame is
 *     flooded, which is always safe: VLANs are checked on egress).
 *   - Writers (a new MAC, a move, aging, a port's flush) take the bucket's
 *     spin lock. A write clears val before it changes key and sets val
 *     last, each with release, pairing with the reader's acquires.
 *   - Refreshing the timestamp of an entry the source already owns is one
 *     relaxed-ordered store without the lock, and only when the coarse time
 *     (2^20 ns units) changed, so a flow does not write the line per packet.
 *   - Entries name a port group (sw->groups[slot], group.c), not a port: a
 *     MAC learned on any member of a group (the queue pairs of one vif)
 *     resolves to the group, and the same MAC on another member of the same
 *     group is the owner refreshing its entry, not a move.
 *   - A group learns at most max_macs entries (group->macs, atomic: its
 *     members may be served by different workers, each adds under the
 *     bucket lock it holds); a full bucket or a group at its cap refuses to
 *     learn (counted on the learning port), it never evicts a live entry of
 *     another group. The hash is keyed by a per-switch random seed, so a
 *     guest cannot aim its MACs at one bucket.
 *   - Aging: entries older than aging_ns miss on lookup at once; a sweep
 *     (vsw_learn_age, at most every aging_ns / 4, one thread at a time)
 *     frees them and gives the owner's cap back.
 *   - Static entries: a MAC-locked port's own MAC (from the control plane,
 *     never from a frame) is installed at attach (vsw_learn_static) with
 *     the STATIC bit: it never ages and never moves, so traffic to a guest
 *     that only receives (a sink) is unicast from the first frame instead
 *     of flooded forever, and no other group can claim that MAC. It counts
 *     against the group's cap once (a second member with the same MAC finds
 *     it in place) and goes with vsw_learn_flush_group() when the group's
 *     last member leaves.
 *
 * val = (group slot + 1) << 48 | STATIC << 47 | tag (15 bits, never 0) << 32 | coarse time.
 */
#include <stdlib.h>
#include <string.h>

#include "sw_internal.h"

#define VSW_MAC_WAYS 4u
#define VSW_TIME_SHIFT 20
#define VSW_MAC_STATIC (1ull << 47)

static uint64_t mac_key(const uint8_t *mac, uint16_t vid)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < 6; i++)
		m = (m << 8) | mac[i];
	return (1ull << 63) | ((uint64_t)(vid & 0xfff) << 48) | m;
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64 finaliser */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t bucket_of(const struct vsw *sw, uint64_t key)
{
	return (uint32_t)(mix(key ^ sw->seed) & (sw->mac_buckets - 1));
}

static uint16_t key_tag(uint64_t key)
{
	uint64_t h = mix(key);

	return (uint16_t)(((h >> 16) & 0x7fff) | 1); /* 15 bits (bit 15 of the field is STATIC), never 0 */
}

static uint64_t make_val(uint32_t port, uint64_t key, uint64_t now)
{
	return ((uint64_t)(port + 1) << 48) | ((uint64_t)key_tag(key) << 32) | (uint32_t)(now >> VSW_TIME_SHIFT);
}

static int expired(const struct vsw *sw, uint64_t val, uint64_t now)
{
	if (val & VSW_MAC_STATIC)
		return 0;
	uint32_t age = (uint32_t)(now >> VSW_TIME_SHIFT) - (uint32_t)val;

	return ((uint64_t)age << VSW_TIME_SHIFT) > sw->aging_ns;
}

/* Under the bucket lock of an entry of group slot g: its count changes by d. */
static void macs_add(struct vsw *sw, uint32_t g, int d)
{
	if (g < VSW_MAX_PORTS)
		__atomic_fetch_add(&sw->groups[g].macs, (uint32_t)d, __ATOMIC_RELAXED);
}

/*
 * Takes one entry of group g's cap: 1, or 0 when it is at max_macs. A
 * compare-and-swap, so members learning on different workers (under
 * different bucket locks) never take the group past its cap together.
 */
static int macs_take(struct vsw_group *g)
{
	uint32_t cur = __atomic_load_n(&g->macs, __ATOMIC_RELAXED);

	do {
		if (cur >= g->max_macs)
			return 0;
	} while (!__atomic_compare_exchange_n(&g->macs, &cur, cur + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 1;
}

/* Under the bucket lock: clear an entry (val first: pairs with the reader's acquire of val). */
static void entry_clear(struct vsw_mac_entry *e)
{
	__atomic_store_n(&e->val, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&e->key, 0, __ATOMIC_RELEASE);
}

/* Under the bucket lock: install key/val (key first with val 0, then val). */
static void entry_set(struct vsw_mac_entry *e, uint64_t key, uint64_t val)
{
	__atomic_store_n(&e->val, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
	__atomic_store_n(&e->val, val, __ATOMIC_RELEASE);
}

static void learn_slow(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint64_t key, uint64_t now)
{
	uint32_t b = bucket_of(sw, key), i;
	struct vsw_mac_entry *e = &sw->mac[(size_t)b * VSW_MAC_WAYS], *free_e = NULL;
	struct vsw_pcount *pc = &w->pc[src->id];
	struct vsw_group *g = src->grp;

	vsw_spin_lock(&sw->mac_locks[b]);
	for (i = 0; i < VSW_MAC_WAYS; i++) {
		uint64_t k = __atomic_load_n(&e[i].key, __ATOMIC_RELAXED), v = __atomic_load_n(&e[i].val, __ATOMIC_RELAXED);

		if (k == key) {
			uint32_t owner = (uint32_t)(v >> 48) - 1;

			if (v && owner == src->gslot) {
				/* its group's (learned on this or another member): a refresh, never a move */
				if (!(v & VSW_MAC_STATIC))
					__atomic_store_n(&e[i].val, make_val(src->gslot, key, now), __ATOMIC_RELEASE);
			} else if (v & VSW_MAC_STATIC) {
				VSW_STAT_ADD(pc->learn_refused, 1); /* another group's own MAC: never moves */
			} else if (macs_take(g)) {
				/* a move (or a dead entry revived): the old owner's cap is given back */
				if (v && !expired(sw, v, now))
					VSW_STAT_ADD(pc->mac_moves, 1);
				else
					VSW_STAT_ADD(pc->learned, 1);
				if (v)
					macs_add(sw, owner, -1);
				__atomic_store_n(&e[i].val, make_val(src->gslot, key, now), __ATOMIC_RELEASE);
			} else {
				VSW_STAT_ADD(pc->learn_refused, 1);
			}
			goto out;
		}
		if (!free_e && (k == 0 || v == 0 || expired(sw, v, now)))
			free_e = &e[i];
	}
	if (!free_e || !macs_take(g)) {
		VSW_STAT_ADD(pc->learn_refused, 1);
		goto out;
	}
	if (free_e->key && __atomic_load_n(&free_e->val, __ATOMIC_RELAXED))
		macs_add(sw, (uint32_t)(__atomic_load_n(&free_e->val, __ATOMIC_RELAXED) >> 48) - 1, -1); /* an expired entry, not yet swept */
	entry_set(free_e, key, make_val(src->gslot, key, now));
	VSW_STAT_ADD(pc->learned, 1);
out:
	vsw_spin_unlock(&sw->mac_locks[b]);
}

/* Lock-free probe: the entry's val for key, or 0. */
static uint64_t probe(const struct vsw *sw, uint64_t key, struct vsw_mac_entry **where)
{
	uint32_t b = bucket_of(sw, key), i;
	struct vsw_mac_entry *e = &sw->mac[(size_t)b * VSW_MAC_WAYS];

	for (i = 0; i < VSW_MAC_WAYS; i++) {
		/* pairs with the releases in entry_set()/entry_clear() */
		if (__atomic_load_n(&e[i].key, __ATOMIC_ACQUIRE) != key)
			continue;
		uint64_t v = __atomic_load_n(&e[i].val, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&e[i].key, __ATOMIC_ACQUIRE) != key || !v || ((uint16_t)(v >> 32) & 0x7fff) != key_tag(key))
			return 0;
		*where = &e[i];
		return v;
	}
	return 0;
}

static int learning_learn(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, const uint8_t *mac, uint16_t vid,
			  uint64_t now)
{
	uint64_t key, v;
	struct vsw_mac_entry *e = NULL;

	if (mac[0] & 1) /* a multicast source is never learned */
		return 1;
	key = mac_key(mac, vid);
	v = probe(sw, key, &e);
	if (v && (uint32_t)(v >> 48) - 1 == src->gslot && !expired(sw, v, now)) {
		/* refresh once per time unit; the entry stays src's group's and fresh, so no lookup changes */
		if (!(v & VSW_MAC_STATIC) && (uint32_t)v != (uint32_t)(now >> VSW_TIME_SHIFT))
			__atomic_compare_exchange_n(&e->val, &v, make_val(src->gslot, key, now), 0, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED);
		return 1;
	}
	learn_slow(sw, w, src, key, now);
	return 0;
}

static uint16_t learning_lookup(struct vsw *sw, const uint8_t *mac, uint16_t vid, uint64_t now)
{
	struct vsw_mac_entry *e = NULL;
	uint64_t v = probe(sw, mac_key(mac, vid), &e);

	if (!v || expired(sw, v, now))
		return VSW_DST_NONE;
	return (uint16_t)((v >> 48) - 1);
}

const struct vsw_lookup_ops vsw_learning_ops = {
	.learn = learning_learn,
	.lookup = learning_lookup,
};

int vsw_learn_init(struct vsw *sw)
{
	uint32_t entries = sw->cfg.mac_entries ? sw->cfg.mac_entries : 8192u;

	if (!vring_is_pow2(entries) || entries < VSW_MAC_TABLE_MIN || entries > (1u << 24))
		return -VP_EINVAL;
	sw->mac_buckets = entries / VSW_MAC_WAYS;
	sw->mac = calloc(entries, sizeof(*sw->mac));
	sw->mac_locks = calloc(sw->mac_buckets, sizeof(*sw->mac_locks));
	if (!sw->mac || !sw->mac_locks)
		return -VP_ENOMEM;
	return 0;
}

void vsw_learn_fini(struct vsw *sw)
{
	free(sw->mac);
	free(sw->mac_locks);
	sw->mac = NULL;
	sw->mac_locks = NULL;
}

/*
 * Control path: installs (vid, mac) as a static entry of port p's group
 * (replacing a learned one of any group, whose cap is given back; an entry
 * the group already has, static or learned, is made static without being
 * counted again: the second member of a multi-queue vif). 0, or -VP_ENOSPC
 * when the bucket is full of live entries (the MAC is then learned as usual).
 */
int vsw_learn_static(struct vsw *sw, struct vsw_port *p, const uint8_t *mac, uint16_t vid)
{
	uint64_t key = mac_key(mac, vid), now = vsw_clock_now(sw);
	uint32_t b = bucket_of(sw, key), i;
	struct vsw_mac_entry *e = &sw->mac[(size_t)b * VSW_MAC_WAYS], *slot = NULL;
	int rc = 0;

	if (mac[0] & 1)
		return -VP_EINVAL;
	vsw_spin_lock(&sw->mac_locks[b]);
	for (i = 0; i < VSW_MAC_WAYS; i++) {
		uint64_t k = __atomic_load_n(&e[i].key, __ATOMIC_RELAXED), v = __atomic_load_n(&e[i].val, __ATOMIC_RELAXED);

		if (k == key) {
			slot = &e[i];
			break;
		}
		if (!slot && (k == 0 || v == 0 || expired(sw, v, now)))
			slot = &e[i];
	}
	if (!slot) {
		rc = -VP_ENOSPC;
	} else {
		uint64_t v = __atomic_load_n(&slot->val, __ATOMIC_RELAXED);

		if (slot->key == key && v && (uint32_t)(v >> 48) - 1 == p->gslot) {
			/* already the group's: made static in place (val only: the key stays, lookups keep hitting) */
			__atomic_store_n(&slot->val, make_val(p->gslot, key, now) | VSW_MAC_STATIC, __ATOMIC_RELEASE);
		} else {
			if (slot->key && v)
				macs_add(sw, (uint32_t)(v >> 48) - 1, -1);
			entry_set(slot, key, make_val(p->gslot, key, now) | VSW_MAC_STATIC);
			__atomic_fetch_add(&p->grp->macs, 1, __ATOMIC_RELAXED);
		}
	}
	vsw_spin_unlock(&sw->mac_locks[b]);
	return rc;
}

/* Control path: drop every entry of a group slot (after its last member is unreachable by workers). */
void vsw_learn_flush_group(struct vsw *sw, uint32_t gslot)
{
	uint32_t b, i;

	for (b = 0; b < sw->mac_buckets; b++) {
		struct vsw_mac_entry *e = &sw->mac[(size_t)b * VSW_MAC_WAYS];

		vsw_spin_lock(&sw->mac_locks[b]);
		for (i = 0; i < VSW_MAC_WAYS; i++)
			if (e[i].key && (uint32_t)(__atomic_load_n(&e[i].val, __ATOMIC_RELAXED) >> 48) - 1 == gslot)
				entry_clear(&e[i]);
		vsw_spin_unlock(&sw->mac_locks[b]);
	}
}

/* Frees expired entries; at most one sweeper at a time, at most every aging_ns / 4. */
void vsw_learn_age(struct vsw *sw, uint64_t now)
{
	uint32_t b, i;

	if (now < __atomic_load_n(&sw->next_sweep_ns, __ATOMIC_RELAXED) || !vsw_spin_trylock(&sw->sweep_lock))
		return;
	if (now >= sw->next_sweep_ns) {
		for (b = 0; b < sw->mac_buckets; b++) {
			struct vsw_mac_entry *e = &sw->mac[(size_t)b * VSW_MAC_WAYS];

			vsw_spin_lock(&sw->mac_locks[b]);
			for (i = 0; i < VSW_MAC_WAYS; i++) {
				uint64_t v = __atomic_load_n(&e[i].val, __ATOMIC_RELAXED);

				if (e[i].key && v && expired(sw, v, now)) {
					macs_add(sw, (uint32_t)(v >> 48) - 1, -1);
					entry_clear(&e[i]);
				}
			}
			vsw_spin_unlock(&sw->mac_locks[b]);
		}
		__atomic_store_n(&sw->next_sweep_ns, now + sw->aging_ns / 4, __ATOMIC_RELAXED);
	}
	vsw_spin_unlock(&sw->sweep_lock);
}
