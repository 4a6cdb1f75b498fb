/* SPDX-License-Identifier: MIT */
/*
 * nf_handshake.c - the frontend's half of the vif handshake and teardown
 * (see vpio/netfront.h for the steps; @vpio/vif's frontendStep() decides
 * the same things in the same order and is the tests' oracle).
 *
 * Concurrency: runs on the caller's thread, one request in flight on the
 * caller's xs handle; every wait is a xenstore watch event (a watch on the
 * whole backend directory) or a timeout, never a spin. The watch stays
 * from nf_connect() to nf_disconnect(): nf_backend_check() reads the
 * backend's state when it fires. Freestanding.
 *
 * Queues: `vif` is queue 0 (the array nf_connect got); the xenstore work,
 * the watch and the error node are the vif's, the rings, pool and channels
 * each queue's own (its struct nf_dev, its NF_HAVE_* bits). With k > 1
 * queues a queue's keys sit under queue-<i>/ ("mid" below), with one they
 * are the flat keys.
 */
#include "nf_internal.h"

#define NF_VAL_MAX 256u /* longest value read */
#define NF_TX_ATTEMPTS 16
#define NF_CHECK_MAX_EVENTS 64u /* watch events nf_backend_check() takes per call */

struct nf_val {
	char s[NF_VAL_MAX];
	uint32_t len;
	int present; /* 0: missing (or unreadable) */
};

static uint64_t page_round(uint64_t n)
{
	return (n + NF_PAGE_BYTES - 1) & ~(uint64_t)(NF_PAGE_BYTES - 1);
}

/* dir "/" mid key [index]; mid "" or a queue's "queue-<i>/"; index < 0: none. */
static int make_path(char *buf, uint32_t cap, const char *dir, const char *mid, const char *key, int index)
{
	struct nf_str s;

	nf_str_init(&s, buf, cap);
	nf_str_add(&s, dir);
	nf_str_add(&s, "/");
	nf_str_add(&s, mid);
	nf_str_add(&s, key);
	if (index >= 0)
		nf_str_add_u32(&s, (uint32_t)index);
	return s.overflow ? -VP_ERANGE : 0;
}

/* Reads dir/mid key[index]. 0 (v->present tells), or a transport/daemon errno other than ENOENT/EACCES. */
static int read_qval(struct nf_dev *nf, const char *dir, const char *mid, const char *key, int index, struct nf_val *v)
{
	char path[224];
	int rc = make_path(path, sizeof(path), dir, mid, key, index);

	v->present = 0;
	v->len = 0;
	v->s[0] = '\0';
	if (rc)
		return rc;
	rc = xs_read(nf->cfg.xs, XS_NO_TX, path, v->s, sizeof(v->s), &v->len);
	if (rc == -XS_ERANGE) { /* too long to be valid: keep what fits, to show it */
		v->present = 1;
		v->len = NF_VAL_MAX;
		return 0;
	}
	if (rc == -XS_ENOENT || rc == -XS_EACCES)
		return 0;
	if (rc)
		return rc;
	v->present = 1;
	return 0;
}

static int read_val(struct nf_dev *nf, const char *dir, const char *key, int index, struct nf_val *v)
{
	return read_qval(nf, dir, "", key, index, v);
}

static int write_own_q(struct nf_dev *nf, uint32_t tx, const char *mid, const char *key, const char *value)
{
	char path[96];
	int rc = make_path(path, sizeof(path), nf->dir, mid, key, -1);

	return rc ? rc : xs_write(nf->cfg.xs, tx, path, value, nf_strlen(value));
}

static int write_own(struct nf_dev *nf, uint32_t tx, const char *key, const char *value)
{
	return write_own_q(nf, tx, "", key, value);
}

/* Removes own mid key inside tx; a key that is not there is fine. */
static int rm_own_q(struct nf_dev *nf, uint32_t tx, const char *mid, const char *key)
{
	char path[96];
	int rc = make_path(path, sizeof(path), nf->dir, mid, key, -1);

	if (!rc)
		rc = xs_rm(nf->cfg.xs, tx, path);
	return rc == -XS_ENOENT ? 0 : rc;
}

/* "queue-<q>/" when the vif uses several queues, else "" (the flat keys). */
static void queue_mid(const struct nf_dev *vif, uint32_t q, char mid[16])
{
	struct nf_str s;

	nf_str_init(&s, mid, 16);
	if (vif->nqueues > 1) {
		nf_str_add(&s, VIF_KEY_QUEUE_PREFIX);
		nf_str_add_u32(&s, q);
		nf_str_add(&s, "/");
	}
}

static int write_state(struct nf_dev *nf, uint32_t state)
{
	char v[4];
	struct nf_str s;

	nf_str_init(&s, v, sizeof(v));
	nf_str_add_u32(&s, state);
	return write_own(nf, XS_NO_TX, VIF_KEY_STATE, v);
}

/*
 * write_state(), in one transaction with a read of the own `backend` key:
 * skipped (0) when the toolstack removed the own directory (a write would
 * bring back a stray node in a vif that no longer exists).
 */
static int write_state_if_there(struct nf_dev *nf, uint32_t state)
{
	char path[96], v[4], be[8];
	struct nf_str s;
	uint32_t tx;
	int attempt, rc = -VP_EAGAIN;

	if ((rc = make_path(path, sizeof(path), nf->dir, "", VIF_KEY_BACKEND, -1)))
		return rc;
	nf_str_init(&s, v, sizeof(v));
	nf_str_add_u32(&s, state);
	for (attempt = 0, rc = -VP_EAGAIN; attempt < NF_TX_ATTEMPTS && rc == -VP_EAGAIN; attempt++) {
		if ((rc = xs_transaction_start(nf->cfg.xs, &tx)))
			return rc;
		rc = xs_read(nf->cfg.xs, tx, path, be, sizeof(be), 0);
		if (rc == -XS_ERANGE) /* there: only its presence matters */
			rc = 0;
		if (rc == -XS_ENOENT || rc == -XS_EACCES) {
			(void)xs_transaction_end(nf->cfg.xs, tx, 0);
			return 0;
		}
		if (!rc)
			rc = write_own(nf, tx, VIF_KEY_STATE, v);
		if (rc) {
			(void)xs_transaction_end(nf->cfg.xs, tx, 0);
			return rc;
		}
		rc = xs_transaction_end(nf->cfg.xs, tx, 1);
	}
	return rc;
}

/*
 * Writes "<prefix><key><index>: expected <what>, got <shown>" as the own
 * `error` node (the text @vpio/vif's parsers produce) and returns -VP_EPROTO.
 */
static int fail_value(struct nf_dev *nf, const char *prefix, const char *key, int index, const char *what,
		      const struct nf_val *v)
{
	char text[VIF_LIMIT_MAX_ERROR_BYTES];
	struct nf_str s;

	nf_str_init(&s, text, sizeof(text));
	nf_str_add(&s, prefix);
	nf_str_add(&s, key);
	if (index >= 0)
		nf_str_add_u32(&s, (uint32_t)index);
	nf_str_add(&s, ": expected ");
	nf_str_add(&s, what);
	nf_str_add(&s, ", got ");
	if (v->present)
		nf_str_add_shown(&s, v->s, v->len, 32);
	else
		nf_str_add(&s, "nothing");
	(void)write_own(nf, XS_NO_TX, VIF_KEY_ERROR, text); /* best effort: the errno below is the result */
	return -VP_EPROTO;
}

/* The backend's state: 0 and *st, -VP_ENOENT when absent, -VP_EPROTO (error node written) when garbage. */
static int backend_state(struct nf_dev *nf, uint32_t *st)
{
	struct nf_val v;
	int rc = read_val(nf, nf->backend, VIF_KEY_STATE, -1, &v);

	if (rc)
		return rc;
	if (!v.present)
		return -VP_ENOENT;
	if (nf_parse_state(v.s, v.len, st))
		return fail_value(nf, "backend ", VIF_KEY_STATE, -1, "a xenbus state in [0, 8]", &v);
	return 0;
}

/* Waits for the next event on the backend watch. 0, -VP_ETIMEDOUT or an errno. */
static int wait_watch(struct nf_dev *nf)
{
	char path[224], token[32];
	int rc = xs_wait_event(nf->cfg.xs, nf->cfg.timeout_ms, path, sizeof(path), token, sizeof(token));

	if (rc == -XS_EOVERFLOW || rc == -XS_ERANGE) /* dropped or oversized events: re-read anyway */
		return 0;
	if (rc == -XS_ETIMEDOUT)
		return -VP_ETIMEDOUT;
	return rc;
}

/* Step 2: sizes (the flat -desc keys, every queue's) and refs (mid: the queue's) of one ring from the own directory. */
static int read_ring(struct nf_dev *nf, const char *mid, int is_tx, uint32_t *slots,
		     uint32_t refs[VIF_LIMIT_MAX_RING_REFS], uint32_t *nrefs)
{
	const char *desc = is_tx ? VIF_KEY_TX_DESC : VIF_KEY_RX_DESC;
	const char *count = is_tx ? VIF_KEY_TX_RING_REFS : VIF_KEY_RX_RING_REFS;
	const char *prefix = is_tx ? VIF_KEY_TX_RING_REF_PREFIX : VIF_KEY_RX_RING_REF_PREFIX;
	struct nf_val v;
	uint32_t i;
	int rc;

	if ((rc = read_val(nf, nf->dir, desc, -1, &v)))
		return rc;
	if (!v.present || nf_parse_slots(v.s, v.len, slots))
		return fail_value(nf, "", desc, -1, "a power of two in [64, 4096]", &v);
	if ((rc = read_qval(nf, nf->dir, mid, count, -1, &v)))
		return rc;
	if (!v.present || nf_parse_ref_count(v.s, v.len, nrefs))
		return fail_value(nf, mid, count, -1, "a ref count in [1, 17]", &v);
	for (i = 0; i < *nrefs; i++) {
		if ((rc = read_qval(nf, nf->dir, mid, prefix, (int)i, &v)))
			return rc;
		if (!v.present || nf_parse_gref(v.s, v.len, &refs[i]))
			return fail_value(nf, mid, prefix, (int)i, "a grant ref in [8, 4294967295]", &v);
	}
	return 0;
}

/* Maps one ring of queue q (the vif's grant ops and backend). */
static int map_ring(struct nf_dev *vif, struct nf_dev *q, int is_tx, uint32_t slots, const uint32_t *refs, uint32_t nrefs)
{
	uint64_t bytes = page_round(vring_ring_bytes(slots));
	void *addr = 0;
	int rc = vif->gops.map(vif->gops.ctx, vif->backend_id, refs, nrefs, bytes, 1, &addr);

	if (rc)
		return rc;
	if (is_tx) {
		q->tx_ring = addr;
		q->tx_ring_bytes = bytes;
		q->have |= NF_HAVE_TX_RING;
	} else {
		q->rx_ring = addr;
		q->rx_ring_bytes = bytes;
		q->have |= NF_HAVE_RX_RING;
	}
	return 0;
}

/* The pool's refs: the slots' grefs in slot order (TX, then RX), consecutive equal refs once. */
static int pool_refs(struct nf_dev *nf, uint32_t *refs, uint32_t *n)
{
	const struct vring_fe *rings[2] = { &nf->tx, &nf->rx };
	uint32_t r, i, count = 0;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < rings[r]->num_slots; i++) {
			uint64_t g = VP_READ_ONCE(rings[r]->slots[i].u.gref); /* once: checked below */

			if (g == 0 || (count && refs[count - 1] == g))
				continue;
			if (g < 8 || g > 0xffffffffull)
				return -VP_EPROTO;
			if (count == NF_MAX_POOL_REFS)
				return -VP_E2BIG;
			refs[count++] = (uint32_t)g;
		}
	}
	*n = count;
	return count ? 0 : -VP_EPROTO;
}

/* Step 2 for queue q: read its refs, map both rings, check them, map its pool, attach. */
static int map_queue(struct nf_dev *vif, struct nf_dev *q)
{
	uint32_t tx_slots, rx_slots, tx_refs[VIF_LIMIT_MAX_RING_REFS], rx_refs[VIF_LIMIT_MAX_RING_REFS];
	uint32_t ntx, nrx, prefs[NF_MAX_POOL_REFS], npool;
	char mid[16];
	int rc;

	queue_mid(vif, q->queue, mid);
	if ((rc = read_ring(vif, mid, 1, &tx_slots, tx_refs, &ntx)) || (rc = read_ring(vif, mid, 0, &rx_slots, rx_refs, &nrx)))
		return rc;
	if ((rc = map_ring(vif, q, 1, tx_slots, tx_refs, ntx)) || (rc = map_ring(vif, q, 0, rx_slots, rx_refs, nrx)))
		return rc;
	/* headers first, without a pool: magic, ABI version, geometry, kind */
	if ((rc = vring_fe_attach(&q->tx, q->tx_ring, q->tx_ring_bytes, 0, ~(uint64_t)0, VRING_KIND_TX)) ||
	    (rc = vring_fe_attach(&q->rx, q->rx_ring, q->rx_ring_bytes, 0, ~(uint64_t)0, VRING_KIND_RX)))
		return rc;
	if (q->tx.num_slots != tx_slots || q->rx.num_slots != rx_slots || q->tx.nr_bufs != q->rx.nr_bufs ||
	    q->tx.buf_size != q->rx.buf_size)
		return -VP_EPROTO;
	if ((rc = pool_refs(q, prefs, &npool)))
		return rc;
	q->pool_bytes = page_round((uint64_t)q->tx.nr_bufs * q->tx.buf_size);
	if ((rc = vif->gops.map(vif->gops.ctx, vif->backend_id, prefs, npool, q->pool_bytes, 1, &q->pool)))
		return rc;
	q->have |= NF_HAVE_POOL;
	if ((rc = vring_fe_attach(&q->tx, q->tx_ring, q->tx_ring_bytes, q->pool, q->pool_bytes, VRING_KIND_TX)) ||
	    (rc = vring_fe_attach(&q->rx, q->rx_ring, q->rx_ring_bytes, q->pool, q->pool_bytes, VRING_KIND_RX)))
		return rc;
	return 0;
}

/*
 * Step 2: the queues (want > 1: min(want, multi-queue-max-queues), the key
 * absent meaning 1; want 1 never reads it), then each queue's rings and pool.
 */
static int map_all(struct nf_dev *vif, uint32_t want)
{
	struct nf_val v;
	uint32_t q, max = 1;
	int rc;

	if ((rc = read_val(vif, vif->dir, VIF_KEY_FEATURE_NETMAP, -1, &v)))
		return rc;
	if (!v.present || v.len != 1 || v.s[0] != '1')
		return fail_value(vif, "", VIF_KEY_FEATURE_NETMAP, -1, "\"1\"", &v);
	/* feature-netmap-offload: "1" offered; anything else (or absent) is not an offer */
	if ((rc = read_val(vif, vif->dir, VIF_KEY_FEATURE_NETMAP_OFFLOAD, -1, &v)))
		return rc;
	if ((vif->cfg.features & NF_FEAT_OFFLOAD) && v.present && v.len == 1 && v.s[0] == '1')
		vif->features |= NF_FEAT_OFFLOAD;
	if (want > 1) {
		if ((rc = read_val(vif, vif->dir, VIF_KEY_MULTI_QUEUE_MAX_QUEUES, -1, &v)))
			return rc;
		if (v.present && nf_parse_queue_count(v.s, v.len, &max)) {
			char what[32];
			struct nf_str s;

			nf_str_init(&s, what, sizeof(what));
			nf_str_add(&s, "a queue count in [1, ");
			nf_str_add_u32(&s, NF_MAX_QUEUES);
			nf_str_add(&s, "]");
			return fail_value(vif, "", VIF_KEY_MULTI_QUEUE_MAX_QUEUES, -1, what, &v);
		}
	}
	vif->nqueues = want < max ? want : max;
	for (q = 0; q < vif->nqueues; q++)
		if ((rc = map_queue(vif, &vif[q])))
			return rc;
	return 0;
}

/*
 * Step 3 inside transaction tx: the channel keys. One queue: the flat
 * event-channel-tx/-rx, and a multi-queue-num-queues an earlier connect
 * left removed (it would name queues this one does not use). k > 1:
 * multi-queue-num-queues=k and queue-<i>/event-channel-tx/-rx for i < k
 * (stale flat ones removed; the backend ignores them anyway).
 */
static int write_channels(struct nf_dev *vif, uint32_t tx)
{
	char port[12], mid[16];
	struct nf_str s;
	uint32_t q;
	int rc;

	if (vif->nqueues > 1) {
		nf_str_init(&s, port, sizeof(port));
		nf_str_add_u32(&s, vif->nqueues);
		if ((rc = write_own(vif, tx, VIF_KEY_MULTI_QUEUE_NUM_QUEUES, port)) ||
		    (rc = rm_own_q(vif, tx, "", VIF_KEY_EVENT_CHANNEL_TX)) || (rc = rm_own_q(vif, tx, "", VIF_KEY_EVENT_CHANNEL_RX)))
			return rc;
	} else if ((rc = rm_own_q(vif, tx, "", VIF_KEY_MULTI_QUEUE_NUM_QUEUES))) {
		return rc;
	}
	for (q = 0; q < vif->nqueues; q++) {
		queue_mid(vif, q, mid);
		nf_str_init(&s, port, sizeof(port));
		nf_str_add_u32(&s, vif[q].tx_port);
		if ((rc = write_own_q(vif, tx, mid, VIF_KEY_EVENT_CHANNEL_TX, port)))
			return rc;
		nf_str_init(&s, port, sizeof(port));
		nf_str_add_u32(&s, vif[q].rx_port);
		if ((rc = write_own_q(vif, tx, mid, VIF_KEY_EVENT_CHANNEL_RX, port)))
			return rc;
	}
	return 0;
}

/* Step 3: one transaction, channels then state=Connected. */
static int publish_channels(struct nf_dev *nf)
{
	uint32_t tx;
	int attempt, rc = -VP_EAGAIN;

	for (attempt = 0; attempt < NF_TX_ATTEMPTS && rc == -VP_EAGAIN; attempt++) {
		if ((rc = xs_transaction_start(nf->cfg.xs, &tx)))
			return rc;
		rc = write_channels(nf, tx);
		if (!rc && (nf->features & NF_FEAT_OFFLOAD))
			rc = write_own(nf, tx, VIF_KEY_REQUEST_NETMAP_OFFLOAD, "1");
		else if (!rc)
			rc = rm_own_q(nf, tx, "", VIF_KEY_REQUEST_NETMAP_OFFLOAD); /* an earlier connect's request must not outlive it */
		if (!rc)
			rc = rm_own_q(nf, tx, "", VIF_KEY_ERROR);
		if (!rc)
			rc = write_own(nf, tx, VIF_KEY_STATE, "4");
		if (rc) {
			(void)xs_transaction_end(nf->cfg.xs, tx, 0);
			return rc;
		}
		rc = xs_transaction_end(nf->cfg.xs, tx, 1);
	}
	return rc;
}

/* Closes queue q's channels and unmaps its pool and rings (the vif's ops). */
static void undo_queue(struct nf_dev *vif, struct nf_dev *q)
{
	if (q->have & NF_HAVE_RX_PORT)
		(void)vif->eops.close(vif->eops.ctx, q->rx_port);
	if (q->have & NF_HAVE_TX_PORT)
		(void)vif->eops.close(vif->eops.ctx, q->tx_port);
	if (q->have & NF_HAVE_POOL)
		(void)vif->gops.unmap(vif->gops.ctx, q->pool, q->pool_bytes);
	if (q->have & NF_HAVE_RX_RING)
		(void)vif->gops.unmap(vif->gops.ctx, q->rx_ring, q->rx_ring_bytes);
	if (q->have & NF_HAVE_TX_RING)
		(void)vif->gops.unmap(vif->gops.ctx, q->tx_ring, q->tx_ring_bytes);
	q->have &= NF_HAVE_WATCH;
	q->state = NF_STATE_CLOSED;
	q->nqueues = 0;
}

/* Every queue's resources in reverse order, then the watch. */
static void undo(struct nf_dev *vif)
{
	uint32_t q;

	for (q = vif->nqueues; q-- > 1;)
		undo_queue(vif, &vif[q]);
	undo_queue(vif, vif);
	if (vif->have & NF_HAVE_WATCH)
		(void)xs_unwatch(vif->cfg.xs, vif->backend, NF_WATCH_TOKEN);
	vif->have = 0;
}

static int same_val(const struct nf_val *a, const struct nf_val *b)
{
	uint32_t i;

	if (a->present != b->present || a->len != b->len)
		return 0;
	for (i = 0; i < a->len && i < NF_VAL_MAX; i++)
		if (a->s[i] != b->s[i])
			return 0;
	return 1;
}

static int connect_steps(struct nf_dev *nf, uint32_t want)
{
	struct nf_val v, stale;
	uint32_t st, q;
	int rc, reconnect;

	/* 1. where the backend is; wait for InitWait */
	if ((rc = read_val(nf, nf->dir, VIF_KEY_BACKEND, -1, &v)))
		return rc;
	if (!v.present || v.len == 0 || v.len >= sizeof(nf->backend) || v.s[0] != '/')
		return v.present ? fail_value(nf, "", VIF_KEY_BACKEND, -1, "a backend path", &v) : -VP_ENOENT;
	vp_memcpy(nf->backend, v.s, v.len);
	nf->backend[v.len] = '\0';
	if ((rc = read_val(nf, nf->dir, VIF_KEY_BACKEND_ID, -1, &v)))
		return rc;
	if (!v.present)
		return -VP_ENOENT;
	if (nf_parse_u32(v.s, v.len, &nf->backend_id) || nf->backend_id > VIF_LIMIT_MAX_DOMID)
		return fail_value(nf, "", VIF_KEY_BACKEND_ID, -1, "a domid in [0, 32751]", &v);
	if ((rc = xs_watch(nf->cfg.xs, nf->backend, NF_WATCH_TOKEN)))
		return rc;
	nf->have |= NF_HAVE_WATCH;
	/*
	 * A reconnect: an earlier disconnect left this vif Closed, and the
	 * backend waits in Closed for the frontend to say Initialising before it
	 * publishes fresh rings (InitWait). Until it follows, its Closing (it may
	 * still be on its way to Closed) and Closed are not a refusal.
	 */
	if ((rc = read_val(nf, nf->dir, VIF_KEY_STATE, -1, &v)))
		return rc;
	reconnect = v.present && !nf_parse_state(v.s, v.len, &st) && st == VIF_STATE_CLOSED;
	if (reconnect && (rc = write_state(nf, VIF_STATE_INITIALISING)))
		return rc;
	for (;;) {
		rc = backend_state(nf, &st);
		if (rc && rc != -VP_ENOENT)
			return rc;
		if (!rc && st == VIF_STATE_INIT_WAIT)
			break;
		if (!rc && !reconnect && (st == VIF_STATE_CLOSING || st == VIF_STATE_CLOSED))
			return -NF_ECONNREFUSED;
		if (!rc && st == VIF_STATE_CONNECTED)
			return -VP_EPROTO; /* Connected before this frontend connected */
		if ((rc = wait_watch(nf)))
			return rc;
	}
	/* 2. map and attach (every queue) */
	if ((rc = map_all(nf, want)))
		return rc;
	/* 3. channels (two per queue), then one transaction */
	for (q = 0; q < nf->nqueues; q++) {
		struct nf_dev *x = &nf[q];

		if ((rc = nf->eops.alloc(nf->eops.ctx, nf->backend_id, &x->tx_port)))
			return rc;
		x->have |= NF_HAVE_TX_PORT;
		if ((rc = nf->eops.alloc(nf->eops.ctx, nf->backend_id, &x->rx_port)))
			return rc;
		x->have |= NF_HAVE_RX_PORT;
	}
	/* an error node from an earlier attempt stays until the backend accepts this one: remember it */
	if ((rc = read_val(nf, nf->backend, VIF_KEY_ERROR, -1, &stale)))
		return rc;
	if ((rc = publish_channels(nf)))
		return rc;
	/* 4. wait for backend Connected; an error node means refused */
	for (;;) {
		if ((rc = backend_state(nf, &st)) && rc != -VP_ENOENT)
			return rc;
		if (!rc && st == VIF_STATE_CONNECTED)
			break;
		if (rc == -VP_ENOENT || st == VIF_STATE_CLOSING || st == VIF_STATE_CLOSED)
			return -NF_ECONNREFUSED;
		if ((rc = read_val(nf, nf->backend, VIF_KEY_ERROR, -1, &v)))
			return rc;
		if (v.present && !same_val(&v, &stale))
			return -NF_ECONNREFUSED;
		if ((rc = wait_watch(nf)))
			return rc;
	}
	if ((rc = read_val(nf, nf->backend, VIF_KEY_MAC, -1, &v)))
		return rc;
	if (!v.present || nf_parse_mac(v.s, v.len, nf->mac))
		return fail_value(nf, "backend ", VIF_KEY_MAC, -1, "a unicast MAC xx:xx:xx:xx:xx:xx", &v);
	if ((rc = read_val(nf, nf->backend, VIF_KEY_MTU, -1, &v)))
		return rc;
	nf->mtu = 1500;
	if (v.present && nf_parse_mtu(v.s, v.len, &nf->mtu))
		return fail_value(nf, "backend ", VIF_KEY_MTU, -1, "an MTU in [68, 65535]", &v);
	return 0;
}

int nf_connect(struct nf_dev *nf, const struct nf_config *cfg)
{
	struct nf_str s;
	uint32_t want, q;
	int rc;

	if (!nf || !cfg || !cfg->xs || !cfg->grant || !cfg->evtchn || !cfg->grant->map || !cfg->grant->unmap ||
	    !cfg->evtchn->alloc || !cfg->evtchn->notify || !cfg->evtchn->wait || !cfg->evtchn->close ||
	    (cfg->mode != NF_MODE_EVENT && cfg->mode != NF_MODE_POLL) || cfg->queues > NF_MAX_QUEUES)
		return -VP_EINVAL;
	want = cfg->queues ? cfg->queues : 1;
	nf_zero(nf, (uint64_t)want * sizeof(*nf));
	for (q = 0; q < want; q++) {
		nf[q].cfg = *cfg;
		nf[q].gops = *cfg->grant;
		nf[q].eops = *cfg->evtchn;
		nf[q].queue = q;
		nf[q].q0 = nf;
	}
	nf_str_init(&s, nf->dir, sizeof(nf->dir));
	nf_str_add(&s, VIF_PATH_DEVICE_VIF_RELATIVE);
	nf_str_add_u32(&s, cfg->devid);
	rc = connect_steps(nf, want);
	if (rc) {
		undo(nf);
		return rc;
	}
	/* what the data path and the getters read, on every queue */
	for (q = 0; q < nf->nqueues; q++) {
		struct nf_dev *x = &nf[q];

		if (q) {
			vp_memcpy(x->dir, nf->dir, sizeof(nf->dir));
			vp_memcpy(x->backend, nf->backend, sizeof(nf->backend));
			vp_memcpy(x->mac, nf->mac, sizeof(nf->mac));
			x->backend_id = nf->backend_id;
			x->mtu = nf->mtu;
			x->features = nf->features;
			x->nqueues = nf->nqueues;
		}
		x->state = NF_STATE_CONNECTED;
	}
	return 0;
}

int nf_disconnect(struct nf_dev *nf)
{
	uint32_t st;
	int rc, result = 0;

	if (nf && nf->q0)
		nf = nf->q0; /* any queue names the vif */
	if (!nf || nf->state == NF_STATE_CLOSED)
		return -NF_ENOTCONN;
	/* frontend 5 -> backend 5 -> (unmap) -> frontend 6 */
	if ((rc = write_state_if_there(nf, VIF_STATE_CLOSING)))
		result = rc;
	while (!result) {
		rc = backend_state(nf, &st);
		if (rc == -VP_ENOENT || (!rc && (st == VIF_STATE_CLOSING || st == VIF_STATE_CLOSED)))
			break;
		if (rc || (rc = wait_watch(nf)))
			result = rc;
	}
	undo(nf);
	if ((rc = write_state_if_there(nf, VIF_STATE_CLOSED)) && !result)
		result = rc;
	return result;
}

int nf_backend_check(struct nf_dev *nf, uint32_t *state)
{
	/* an event's path and token each fit the largest payload: none can stay queued for want of room */
	char path[XS_PAYLOAD_MAX], token[XS_PAYLOAD_MAX];
	struct nf_val v;
	uint32_t i, round;
	int rc;

	if (!nf || !state)
		return -VP_EINVAL;
	if (nf->q0)
		nf = nf->q0;
	if (nf->state == NF_STATE_CLOSED || !(nf->have & NF_HAVE_WATCH))
		return -NF_ENOTCONN;
	for (round = 0;; round++) {
		/* what has arrived: queued by earlier calls on the handle, or readable now (timeout 0: no wait) */
		for (i = 0; i < NF_CHECK_MAX_EVENTS; i++) {
			rc = xs_wait_event(nf->cfg.xs, 0, path, sizeof(path), token, sizeof(token));
			if (rc == -XS_ETIMEDOUT)
				break;
			if (rc && rc != -XS_EOVERFLOW) /* overflow: events were dropped; the read below covers them */
				return rc;
		}
		if ((rc = read_val(nf, nf->backend, VIF_KEY_STATE, -1, &v)))
			return rc;
		/*
		 * Events that arrived during the read were queued, so the descriptor
		 * will not say so: read again rather than leave them for a wake-up
		 * that may never come (a few rounds; the last read stands).
		 */
		if (!xs_pending_events(nf->cfg.xs) || round == 3)
			break;
	}
	return nf_backend_verdict(v.s, v.len, v.present, state);
}

const char *nf_backend_path(const struct nf_dev *nf)
{
	if (nf && nf->q0)
		nf = nf->q0;
	return nf && nf->state != NF_STATE_CLOSED ? nf->backend : "";
}
