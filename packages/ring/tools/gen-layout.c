/* SPDX-License-Identifier: MIT */
/*
 * gen-layout - prints src/layout.generated.ts: every offset and size of the
 * ring ABI structs and every constant of vpio/ring.h, computed by the C
 * compiler from the header itself, so the TypeScript view never carries a
 * hand-typed layout number.
 *
 * The addon (binding/ring_addon.cc) computes the same numbers independently
 * and test/layout.test.ts compares both, key by key in both directions.
 *
 * Usage: gen-layout > src/layout.generated.ts   (the Makefile does this)
 */
#include <stdio.h>
#include <string.h>

#include "vpio/ring.h"

struct field {
	const char *name;
	unsigned long offset;
	unsigned long size;
};

#define FIELD(type, member, name)                                                        \
	{                                                                                \
		name, (unsigned long)offsetof(type, member), (unsigned long)sizeof(((type *)0)->member) \
	}

static const struct field hdr_fields[] = {
	FIELD(struct vring_hdr, magic, "magic"),
	FIELD(struct vring_hdr, abi_version, "abi_version"),
	FIELD(struct vring_hdr, kind, "kind"),
	FIELD(struct vring_hdr, num_slots, "num_slots"),
	FIELD(struct vring_hdr, buf_size, "buf_size"),
	FIELD(struct vring_hdr, nr_bufs, "nr_bufs"),
	FIELD(struct vring_hdr, features, "features"),
	FIELD(struct vring_hdr, head, "head"),
	FIELD(struct vring_hdr, cur, "cur"),
	FIELD(struct vring_hdr, tail, "tail"),
	FIELD(struct vring_hdr, fe_need_kick, "fe_need_kick"),
	FIELD(struct vring_hdr, be_need_kick, "be_need_kick"),
};

static const struct field slot_fields[] = {
	FIELD(struct vring_slot, buf_idx, "buf_idx"),
	FIELD(struct vring_slot, len, "len"),
	FIELD(struct vring_slot, flags, "flags"),
	FIELD(struct vring_slot, u.gref, "gref"),
	FIELD(struct vring_slot, u.offload, "offload"),
};

static const struct field offload_fields[] = {
	FIELD(struct vring_offload, csum_start, "csum_start"),
	FIELD(struct vring_offload, csum_offset, "csum_offset"),
	FIELD(struct vring_offload, gso_size, "gso_size"),
	FIELD(struct vring_offload, gso_type, "gso_type"),
	FIELD(struct vring_offload, oflags, "oflags"),
};

struct constant {
	const char *name;
	unsigned long value;
};

#define CONST(prefix, name)                                                              \
	{                                                                                \
		#name, (unsigned long)prefix##name                                       \
	}

static const struct constant ring_constants[] = {
	CONST(VRING_, MAGIC),
	CONST(VRING_, ABI_VERSION),
	CONST(VRING_, MIN_SLOTS),
	CONST(VRING_, MAX_SLOTS),
	CONST(VRING_, DEFAULT_SLOTS),
	CONST(VRING_, DEFAULT_BUF_SIZE),
	CONST(VRING_, MIN_BUF_SIZE),
	CONST(VRING_, MAX_BUF_SIZE),
	CONST(VRING_, ETH_HLEN),
	CONST(VRING_, SLOTS_OFFSET),
};

static const struct constant kind_constants[] = {
	CONST(VRING_KIND_, TX),
	CONST(VRING_KIND_, RX),
};

static const struct constant flag_constants[] = {
	CONST(VRING_F_, MORE),
	CONST(VRING_F_, OFFLOAD),
	CONST(VRING_F_, KNOWN),
};

static const struct constant feature_constants[] = {
	CONST(VRING_FEAT_, CHAIN),
	CONST(VRING_FEAT_, OFFLOAD),
	CONST(VRING_FEAT_, KNOWN),
};

static const struct constant ofl_constants[] = {
	CONST(VRING_OFL_, NEEDS_CSUM),
	CONST(VRING_OFL_, KNOWN),
};

static const struct constant gso_constants[] = {
	CONST(VRING_GSO_, NONE),
	CONST(VRING_GSO_, TCPV4),
	CONST(VRING_GSO_, TCPV6),
	CONST(VRING_GSO_, UDP_L4),
	CONST(VRING_GSO_, MAX_TYPE),
	CONST(VRING_GSO_, SIZE_MIN),
	CONST(VRING_GSO_, SIZE_MAX),
};

/*
 * The verdict enum, in order. C cannot enumerate an enum, so the identifiers
 * are listed here once; the static assert below fails the build when ring.h
 * gains a verdict this list lacks, and main() checks the values are 0..N-1.
 */
#define VERDICT(id)                                                                      \
	{                                                                                \
		#id, (unsigned long)id                                                   \
	}

static const struct constant verdicts[] = {
	VERDICT(VRING_OK),
	VERDICT(VRING_DROP_HEAD),
	VERDICT(VRING_DROP_CUR),
	VERDICT(VRING_DROP_BUF_IDX),
	VERDICT(VRING_DROP_LEN_ZERO),
	VERDICT(VRING_DROP_LEN_SHORT),
	VERDICT(VRING_DROP_LEN_LONG),
	VERDICT(VRING_DROP_FLAGS),
	VERDICT(VRING_DROP_OFFLOAD),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

VP_STATIC_ASSERT(COUNT(verdicts) == VRING_VERDICT_COUNT, "gen-layout lists every verdict of ring.h");

static void print_struct(const char *export_name, const char *c_name, unsigned long size, unsigned long align,
			 const struct field *f, size_t n)
{
	size_t i;

	printf("/** Layout of `%s`: byte offset and size of every field. */\n", c_name);
	printf("export const %s = {\n", export_name);
	printf("  size: %lu,\n", size);
	printf("  align: %lu,\n", align);
	printf("  fields: {\n");
	for (i = 0; i < n; i++)
		printf("    %s: { offset: %lu, size: %lu },\n", f[i].name, f[i].offset, f[i].size);
	printf("  },\n");
	printf("} as const;\n\n");
}

static void print_constants(const char *export_name, const char *comment, const struct constant *c, size_t n)
{
	size_t i;

	printf("/** %s */\n", comment);
	printf("export const %s = {\n", export_name);
	for (i = 0; i < n; i++)
		printf("  %s: %lu,\n", c[i].name, c[i].value);
	printf("} as const;\n\n");
}

/* "VRING_DROP_LEN_SHORT" -> "len_short", "VRING_OK" -> "ok" */
static int short_name(const char *id, char *out, size_t out_size)
{
	const char *p = id;
	size_t i;

	if (strncmp(p, "VRING_DROP_", 11) == 0)
		p += 11;
	else if (strncmp(p, "VRING_", 6) == 0)
		p += 6;
	else
		return -1;
	for (i = 0; p[i]; i++) {
		if (i + 1 >= out_size)
			return -1;
		out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	}
	out[i] = '\0';
	return 0;
}

int main(void)
{
	char name[64];
	size_t i;

	for (i = 0; i < COUNT(verdicts); i++) {
		if (verdicts[i].value != i) {
			fprintf(stderr, "gen-layout: %s is %lu, expected %zu\n", verdicts[i].name, verdicts[i].value,
				i);
			return 1;
		}
	}

	printf("// Generated from include/vpio/ring.h by tools/gen-layout.c. Do not edit:\n");
	printf("// `make -s all` regenerates it at every build (the file is not committed).\n\n");

	print_struct("VRING_HDR", "struct vring_hdr", (unsigned long)sizeof(struct vring_hdr),
		     (unsigned long)_Alignof(struct vring_hdr), hdr_fields, COUNT(hdr_fields));
	print_struct("VRING_SLOT", "struct vring_slot", (unsigned long)sizeof(struct vring_slot),
		     (unsigned long)_Alignof(struct vring_slot), slot_fields, COUNT(slot_fields));
	print_struct("VRING_OFFLOAD", "struct vring_offload", (unsigned long)sizeof(struct vring_offload),
		     (unsigned long)_Alignof(struct vring_offload), offload_fields, COUNT(offload_fields));

	print_constants("VRING", "Ring constants (VRING_*): magic, ABI version, geometry limits.", ring_constants,
			COUNT(ring_constants));
	print_constants("VRING_KIND", "Ring kinds (hdr.kind, VRING_KIND_*).", kind_constants,
			COUNT(kind_constants));
	print_constants("VRING_F", "Slot flags (slot.flags, VRING_F_*).", flag_constants, COUNT(flag_constants));
	print_constants("VRING_FEAT", "Features (hdr.features, VRING_FEAT_*).", feature_constants,
			COUNT(feature_constants));
	print_constants("VRING_OFL", "Offload word flags (offload.oflags, VRING_OFL_*).", ofl_constants,
			COUNT(ofl_constants));
	print_constants("VRING_GSO", "Offload word GSO types and size limits (VRING_GSO_*).", gso_constants,
			COUNT(gso_constants));

	printf("/** The verdicts of the validators (enum vring_verdict), by C identifier. */\n");
	printf("export const VRING_VERDICT = {\n");
	for (i = 0; i < COUNT(verdicts); i++)
		printf("  %s: %lu,\n", verdicts[i].name, verdicts[i].value);
	printf("  VRING_VERDICT_COUNT: %lu,\n", (unsigned long)VRING_VERDICT_COUNT);
	printf("} as const;\n\n");

	printf("/** Verdict names, indexed by verdict value: the identifier without VRING_DROP_ / VRING_, lower case. */\n");
	printf("export const VRING_VERDICT_NAMES = [");
	for (i = 0; i < COUNT(verdicts); i++) {
		if (short_name(verdicts[i].name, name, sizeof(name))) {
			fprintf(stderr, "gen-layout: cannot name verdict %s\n", verdicts[i].name);
			return 1;
		}
		printf("%s'%s'", i ? ", " : "", name);
	}
	printf("] as const;\n");
	return ferror(stdout) ? 1 : 0;
}
