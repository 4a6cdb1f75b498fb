// SPDX-License-Identifier: MIT
//
// ring_addon.cc - the N-API glue of @vpio/ring. Control plane and test
// support only: nothing here is ever called per packet by vpio itself.
//
//   layout()            offsets, sizes and constants of vpio/ring.h, computed
//                       here with offsetof/sizeof (independently of the
//                       generated src/layout.generated.ts; a test compares)
//   checkHead/checkCur/checkSlot/checkOffload
//                       the C validators of ring.h, returning verdict numbers
//   initRing(mem, byteOffset, geometry)
//                       vring_be_init() on memory inside a Uint8Array
//   RingHarness         one struct vring_be and one struct vring_fe over a
//                       ring and a pool Uint8Array, exposing the burst
//                       helpers of both sides, for tests and tools
//
// Error handling: C++ exceptions are disabled (binding.gyp defines
// NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS). Every argument is checked; a bad
// one throws a JS TypeError/RangeError with code 'ERR_ARGUMENT' and the
// method returns at once. The TS layer (src/ring-harness.ts) validates first
// and throws @vpio/errors errors; these checks are the last line, so that no
// JS value can make the process touch memory outside the Buffers it passed.
//
// Concurrency: everything runs on the JS thread that owns the instance.
// State is per addon instance (Napi::Addon) and per harness (ObjectWrap); no
// globals. A harness keeps strong references to its two Uint8Arrays and
// re-checks, before every call, that their memory has not moved or shrunk
// (a detached or resized ArrayBuffer makes the call throw).

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "vpio/ring.h"
#include "vpio/ring_be.h"
#include "vpio/ring_fe.h"

namespace {

// Ring memory handed to the C helpers must be at least this aligned: every
// shared word is then naturally aligned (atomics stay untorn) and no
// compiler-chosen aligned vector access can fault. Real rings are mapped
// pages; Node allocates ArrayBuffers with malloc, which gives 16.
constexpr uintptr_t kRingAlign = 16;

// Most packets a single burst call accepts (a ring holds at most 4095).
constexpr uint32_t kMaxBurst = 65536;

// Largest scratch a dequeue burst allocates (each packet needs buf_size
// bytes): a call returns fewer packets rather than allocate more, so no
// argument can make the (exception-less) allocation fail.
constexpr size_t kMaxScratch = 64u << 20;

uint32_t CapBurst(uint32_t max, uint32_t num_slots, uint32_t buf_size)
{
	uint32_t n = max < num_slots ? max : num_slots;
	size_t fit = kMaxScratch / (buf_size ? buf_size : 1);
	return n < fit ? n : static_cast<uint32_t>(fit);
}

// ---------------------------------------------------------------------------
// Argument helpers. Each returns false after throwing a JS exception.

void ThrowArg(Napi::Env env, bool type_error, const std::string &msg)
{
	Napi::Error err = type_error ? Napi::Error(Napi::TypeError::New(env, msg))
				     : Napi::Error(Napi::RangeError::New(env, msg));
	err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
	err.ThrowAsJavaScriptException();
}

void ThrowState(Napi::Env env, const char *code, const std::string &msg)
{
	Napi::Error err = Napi::Error::New(env, msg);
	err.Set("code", Napi::String::New(env, code));
	err.ThrowAsJavaScriptException();
}

bool GetUint(Napi::Env env, Napi::Value v, const std::string &name, uint64_t max, uint64_t *out)
{
	if (!v.IsNumber()) {
		ThrowArg(env, true, name + ": expected an integer in [0, " + std::to_string(max) + "]");
		return false;
	}
	double d = v.As<Napi::Number>().DoubleValue();
	// NaN fails every comparison, so test for the good range.
	if (!(d >= 0 && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<uint64_t>(d))) {
		ThrowArg(env, false, name + ": expected an integer in [0, " + std::to_string(max) + "]");
		return false;
	}
	*out = static_cast<uint64_t>(d);
	return true;
}

bool GetU32(Napi::Env env, Napi::Value v, const std::string &name, uint32_t max, uint32_t *out)
{
	uint64_t x;

	if (!GetUint(env, v, name, max, &x))
		return false;
	*out = static_cast<uint32_t>(x);
	return true;
}

bool GetObject(Napi::Env env, Napi::Value v, const std::string &name, Napi::Object *out)
{
	if (!v.IsObject() || v.IsArray()) {
		ThrowArg(env, true, name + ": expected an object");
		return false;
	}
	*out = v.As<Napi::Object>();
	return true;
}

// obj[key] as an unsigned integer; a missing key takes `def` when def_ok.
bool GetField(Napi::Env env, Napi::Object obj, const char *obj_name, const char *key, uint32_t max, bool def_ok,
	      uint32_t def, uint32_t *out)
{
	std::string name = std::string(obj_name) + "." + key;
	Napi::Value v = obj.Get(key);

	if (env.IsExceptionPending())
		return false; // a throwing getter
	if (v.IsUndefined() && def_ok) {
		*out = def;
		return true;
	}
	return GetU32(env, v, name, max, out);
}

struct Bytes {
	uint8_t *data;
	size_t len;
};

bool GetBytes(Napi::Env env, Napi::Value v, const std::string &name, Bytes *out)
{
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
		ThrowArg(env, true, name + ": expected a Buffer or Uint8Array");
		return false;
	}
	Napi::Uint8Array a = v.As<Napi::Uint8Array>();
	out->data = a.Data();
	out->len = a.ByteLength();
	if (out->data == nullptr)
		out->len = 0;
	return true;
}

// A JS array of Uint8Arrays, each at most max_len bytes, copied into one
// scratch vector as it is read (an element's getter could detach an earlier
// element, and C must never read JS memory that might alias the pool).
// Only the first copy_limit packets are copied and counted: a ring cannot
// take more in one burst, every element is still checked.
bool GetPackets(Napi::Env env, Napi::Value v, const char *name, size_t max_len, uint32_t copy_limit,
		std::vector<uint8_t> *scratch, std::vector<const void *> *ptrs, std::vector<uint16_t> *lens,
		uint32_t *count)
{
	if (!v.IsArray()) {
		ThrowArg(env, true, std::string(name) + ": expected an array of Buffers");
		return false;
	}
	Napi::Array arr = v.As<Napi::Array>();
	uint32_t n = arr.Length();
	if (n > kMaxBurst) {
		ThrowArg(env, false, std::string(name) + ": at most " + std::to_string(kMaxBurst) + " packets per burst");
		return false;
	}
	std::vector<size_t> offsets(n);
	lens->assign(n ? n : 1, 0);
	scratch->clear();
	for (uint32_t i = 0; i < n; i++) {
		Bytes b;
		Napi::Value e = arr.Get(i);
		if (env.IsExceptionPending())
			return false;
		std::string ename = std::string(name) + "[" + std::to_string(i) + "]";
		if (!GetBytes(env, e, ename, &b))
			return false;
		if (b.len > max_len) {
			ThrowArg(env, false, ename + ": expected at most " + std::to_string(max_len) + " bytes");
			return false;
		}
		if (i >= copy_limit)
			continue;
		offsets[i] = scratch->size();
		scratch->insert(scratch->end(), b.data, b.data + b.len);
		(*lens)[i] = static_cast<uint16_t>(b.len);
	}
	n = n < copy_limit ? n : copy_limit;
	scratch->push_back(0); // never empty: data() is a valid pointer
	ptrs->assign(n ? n : 1, scratch->data());
	for (uint32_t i = 0; i < n; i++)
		(*ptrs)[i] = scratch->data() + offsets[i];
	*count = n;
	return true;
}

Napi::Array DropsArray(Napi::Env env, const uint64_t drops[VRING_VERDICT_COUNT])
{
	Napi::Array a = Napi::Array::New(env, VRING_VERDICT_COUNT);
	for (uint32_t i = 0; i < VRING_VERDICT_COUNT; i++)
		a.Set(i, Napi::Number::New(env, static_cast<double>(drops[i])));
	return a;
}

// ---------------------------------------------------------------------------
// layout(): the same shape as src/layout.generated.ts.

struct FieldDesc {
	const char *name;
	size_t offset;
	size_t size;
};

#define VP_FIELD(type, member, name) FieldDesc{name, offsetof(type, member), sizeof(((type *)nullptr)->member)}

Napi::Object StructLayout(Napi::Env env, size_t size, size_t align, const std::vector<FieldDesc> &fields)
{
	Napi::Object o = Napi::Object::New(env);
	Napi::Object f = Napi::Object::New(env);
	o.Set("size", Napi::Number::New(env, static_cast<double>(size)));
	o.Set("align", Napi::Number::New(env, static_cast<double>(align)));
	for (const FieldDesc &d : fields) {
		Napi::Object e = Napi::Object::New(env);
		e.Set("offset", Napi::Number::New(env, static_cast<double>(d.offset)));
		e.Set("size", Napi::Number::New(env, static_cast<double>(d.size)));
		f.Set(d.name, e);
	}
	o.Set("fields", f);
	return o;
}

struct ConstDesc {
	const char *name;
	uint32_t value;
};

Napi::Object Constants(Napi::Env env, const std::vector<ConstDesc> &consts)
{
	Napi::Object o = Napi::Object::New(env);
	for (const ConstDesc &c : consts)
		o.Set(c.name, Napi::Number::New(env, c.value));
	return o;
}

// "VRING_DROP_BUF_IDX" -> "buf_idx", "VRING_OK" -> "ok"
std::string VerdictName(const char *id)
{
	std::string s(id);
	const std::string drop = "VRING_DROP_", plain = "VRING_";
	if (s.compare(0, drop.size(), drop) == 0)
		s = s.substr(drop.size());
	else if (s.compare(0, plain.size(), plain) == 0)
		s = s.substr(plain.size());
	for (char &c : s)
		if (c >= 'A' && c <= 'Z')
			c = static_cast<char>(c - 'A' + 'a');
	return s;
}

#define VP_CONST(name) ConstDesc{#name, static_cast<uint32_t>(VRING_##name)}
#define VP_CONST_IN(prefix, name) ConstDesc{#name, static_cast<uint32_t>(prefix##name)}
#define VP_VERDICT(id) ConstDesc{#id, static_cast<uint32_t>(id)}

Napi::Object BuildLayout(Napi::Env env)
{
	Napi::Object o = Napi::Object::New(env);

	o.Set("VRING_HDR", StructLayout(env, sizeof(struct vring_hdr), alignof(struct vring_hdr),
					 {
						 VP_FIELD(struct vring_hdr, magic, "magic"),
						 VP_FIELD(struct vring_hdr, abi_version, "abi_version"),
						 VP_FIELD(struct vring_hdr, kind, "kind"),
						 VP_FIELD(struct vring_hdr, num_slots, "num_slots"),
						 VP_FIELD(struct vring_hdr, buf_size, "buf_size"),
						 VP_FIELD(struct vring_hdr, nr_bufs, "nr_bufs"),
						 VP_FIELD(struct vring_hdr, features, "features"),
						 VP_FIELD(struct vring_hdr, head, "head"),
						 VP_FIELD(struct vring_hdr, cur, "cur"),
						 VP_FIELD(struct vring_hdr, tail, "tail"),
						 VP_FIELD(struct vring_hdr, fe_need_kick, "fe_need_kick"),
						 VP_FIELD(struct vring_hdr, be_need_kick, "be_need_kick"),
					 }));
	o.Set("VRING_SLOT", StructLayout(env, sizeof(struct vring_slot), alignof(struct vring_slot),
					  {
						  VP_FIELD(struct vring_slot, buf_idx, "buf_idx"),
						  VP_FIELD(struct vring_slot, len, "len"),
						  VP_FIELD(struct vring_slot, flags, "flags"),
						  VP_FIELD(struct vring_slot, u.gref, "gref"),
						  VP_FIELD(struct vring_slot, u.offload, "offload"),
					  }));
	o.Set("VRING_OFFLOAD", StructLayout(env, sizeof(struct vring_offload), alignof(struct vring_offload),
					     {
						     VP_FIELD(struct vring_offload, csum_start, "csum_start"),
						     VP_FIELD(struct vring_offload, csum_offset, "csum_offset"),
						     VP_FIELD(struct vring_offload, gso_size, "gso_size"),
						     VP_FIELD(struct vring_offload, gso_type, "gso_type"),
						     VP_FIELD(struct vring_offload, oflags, "oflags"),
					     }));
	o.Set("VRING", Constants(env, {
					      VP_CONST(MAGIC),
					      VP_CONST(ABI_VERSION),
					      VP_CONST(MIN_SLOTS),
					      VP_CONST(MAX_SLOTS),
					      VP_CONST(DEFAULT_SLOTS),
					      VP_CONST(DEFAULT_BUF_SIZE),
					      VP_CONST(MIN_BUF_SIZE),
					      VP_CONST(MAX_BUF_SIZE),
					      VP_CONST(ETH_HLEN),
					      VP_CONST(SLOTS_OFFSET),
				      }));
	o.Set("VRING_KIND", Constants(env, {VP_CONST_IN(VRING_KIND_, TX), VP_CONST_IN(VRING_KIND_, RX)}));
	o.Set("VRING_F", Constants(env, {VP_CONST_IN(VRING_F_, MORE), VP_CONST_IN(VRING_F_, OFFLOAD),
					 VP_CONST_IN(VRING_F_, KNOWN)}));
	o.Set("VRING_FEAT", Constants(env, {VP_CONST_IN(VRING_FEAT_, CHAIN), VP_CONST_IN(VRING_FEAT_, OFFLOAD),
					    VP_CONST_IN(VRING_FEAT_, KNOWN)}));
	o.Set("VRING_OFL", Constants(env, {VP_CONST_IN(VRING_OFL_, NEEDS_CSUM), VP_CONST_IN(VRING_OFL_, KNOWN)}));
	o.Set("VRING_GSO", Constants(env, {
						  VP_CONST_IN(VRING_GSO_, NONE),
						  VP_CONST_IN(VRING_GSO_, TCPV4),
						  VP_CONST_IN(VRING_GSO_, TCPV6),
						  VP_CONST_IN(VRING_GSO_, UDP_L4),
						  VP_CONST_IN(VRING_GSO_, MAX_TYPE),
						  VP_CONST_IN(VRING_GSO_, SIZE_MIN),
						  VP_CONST_IN(VRING_GSO_, SIZE_MAX),
					  }));

	const std::vector<ConstDesc> verdicts = {
		VP_VERDICT(VRING_OK),
		VP_VERDICT(VRING_DROP_HEAD),
		VP_VERDICT(VRING_DROP_CUR),
		VP_VERDICT(VRING_DROP_BUF_IDX),
		VP_VERDICT(VRING_DROP_LEN_ZERO),
		VP_VERDICT(VRING_DROP_LEN_SHORT),
		VP_VERDICT(VRING_DROP_LEN_LONG),
		VP_VERDICT(VRING_DROP_FLAGS),
		VP_VERDICT(VRING_DROP_OFFLOAD),
		VP_VERDICT(VRING_VERDICT_COUNT),
	};
	o.Set("VRING_VERDICT", Constants(env, verdicts));
	// Names indexed by value; the count entry is not a verdict.
	Napi::Array names = Napi::Array::New(env);
	for (const ConstDesc &c : verdicts)
		if (c.value < VRING_VERDICT_COUNT)
			names.Set(c.value, Napi::String::New(env, VerdictName(c.name)));
	o.Set("VRING_VERDICT_NAMES", names);
	return o;
}

// ---------------------------------------------------------------------------
// Validator arguments

bool GetOffload(Napi::Env env, Napi::Value v, const char *name, struct vring_offload *o)
{
	Napi::Object obj;
	uint32_t cs, co, gs, gt, of;

	if (!GetObject(env, v, name, &obj))
		return false;
	if (!GetField(env, obj, name, "csumStart", 0xffff, false, 0, &cs) ||
	    !GetField(env, obj, name, "csumOffset", 0xffff, false, 0, &co) ||
	    !GetField(env, obj, name, "gsoSize", 0xffff, false, 0, &gs) ||
	    !GetField(env, obj, name, "gsoType", 0xff, false, 0, &gt) ||
	    !GetField(env, obj, name, "oflags", 0xff, false, 0, &of))
		return false;
	o->csum_start = static_cast<uint16_t>(cs);
	o->csum_offset = static_cast<uint16_t>(co);
	o->gso_size = static_cast<uint16_t>(gs);
	o->gso_type = static_cast<uint8_t>(gt);
	o->oflags = static_cast<uint8_t>(of);
	return true;
}

// ---------------------------------------------------------------------------
// RingHarness

class RingHarness : public Napi::ObjectWrap<RingHarness> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "RingHarness",
				   {
					   InstanceMethod("beInit", &RingHarness::BeInit),
					   InstanceMethod("feAttach", &RingHarness::FeAttach),
					   InstanceMethod("feTxBurst", &RingHarness::FeTxBurst),
					   InstanceMethod("beTxBurst", &RingHarness::BeTxBurst),
					   InstanceMethod("beRxBurst", &RingHarness::BeRxBurst),
					   InstanceMethod("feRxBurst", &RingHarness::FeRxBurst),
					   InstanceMethod("bePrepareSleep", &RingHarness::BePrepareSleep),
					   InstanceMethod("fePrepareSleep", &RingHarness::FePrepareSleep),
					   InstanceMethod("beWoken", &RingHarness::BeWoken),
					   InstanceMethod("feWoken", &RingHarness::FeWoken),
					   InstanceAccessor("hwcur", &RingHarness::GetHwcur, nullptr),
					   InstanceAccessor("hwtail", &RingHarness::GetHwtail, nullptr),
					   InstanceAccessor("feHead", &RingHarness::GetFeHead, nullptr),
					   InstanceAccessor("feTailCache", &RingHarness::GetFeTailCache, nullptr),
				   });
	}

	explicit RingHarness(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingHarness>(info)
	{
		Napi::Env env = info.Env();
		Bytes ring, pool;

		if (!info.IsConstructCall()) {
			ThrowArg(env, true, "RingHarness: use new");
			return;
		}
		if (!GetBytes(env, info[0], "ring", &ring) || !GetBytes(env, info[1], "pool", &pool))
			return;
		if (reinterpret_cast<uintptr_t>(ring.data) % kRingAlign != 0) {
			ThrowArg(env, false,
				 "ring: memory must be " + std::to_string(kRingAlign) + "-byte aligned (use a byteOffset that is a multiple of " +
					 std::to_string(kRingAlign) + ")");
			return;
		}
		ring_ = ring;
		pool_ = pool;
		ring_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
		pool_ref_ = Napi::Persistent(info[1].As<Napi::Object>());
	}

private:
	// Both Uint8Arrays still cover the memory the C state points into.
	bool MemoryIntact(Napi::Env env)
	{
		Bytes r, p;

		if (ring_ref_.IsEmpty() || pool_ref_.IsEmpty()) {
			ThrowState(env, "ERR_STATE", "RingHarness was not constructed");
			return false;
		}
		if (!GetBytes(env, ring_ref_.Value(), "ring", &r) || !GetBytes(env, pool_ref_.Value(), "pool", &p))
			return false;
		if (r.data != ring_.data || r.len != ring_.len || p.data != pool_.data || p.len != pool_.len) {
			ThrowState(env, "ERR_BUFFER_DETACHED", "RingHarness: the ring or pool memory was detached or resized");
			return false;
		}
		return true;
	}

	bool NeedBe(Napi::Env env)
	{
		if (!MemoryIntact(env))
			return false;
		if (!be_ready_) {
			ThrowState(env, "ERR_STATE", "RingHarness: beInit() has not succeeded yet");
			return false;
		}
		return true;
	}

	bool NeedFe(Napi::Env env)
	{
		if (!MemoryIntact(env))
			return false;
		if (!fe_ready_) {
			ThrowState(env, "ERR_STATE", "RingHarness: feAttach() has not succeeded yet");
			return false;
		}
		return true;
	}

	// beInit({kind, numSlots, bufSize, nrBufs, firstBuf, features}) -> 0 or -errno
	Napi::Value BeInit(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		Napi::Object g;
		uint32_t kind, num_slots, buf_size, nr_bufs, first_buf, features;

		if (!MemoryIntact(env) || !GetObject(env, info[0], "geometry", &g))
			return env.Undefined();
		if (!GetField(env, g, "geometry", "kind", UINT32_MAX, false, 0, &kind) ||
		    !GetField(env, g, "geometry", "numSlots", UINT32_MAX, false, 0, &num_slots) ||
		    !GetField(env, g, "geometry", "bufSize", UINT32_MAX, false, 0, &buf_size) ||
		    !GetField(env, g, "geometry", "nrBufs", UINT32_MAX, false, 0, &nr_bufs) ||
		    !GetField(env, g, "geometry", "firstBuf", UINT32_MAX, true, 0, &first_buf) ||
		    !GetField(env, g, "geometry", "features", UINT32_MAX, true, 0, &features))
			return env.Undefined();
		if (!MemoryIntact(env)) // the getters above may have run JS
			return env.Undefined();
		if (static_cast<uint64_t>(nr_bufs) * buf_size > pool_.len) {
			ThrowArg(env, false,
				 "pool: nrBufs * bufSize = " + std::to_string(static_cast<uint64_t>(nr_bufs) * buf_size) +
					 " bytes do not fit in a pool of " + std::to_string(pool_.len) + " bytes");
			return env.Undefined();
		}
		uint32_t ring_bytes = ring_.len > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(ring_.len);
		int rc = vring_be_init(&be_, ring_.data, ring_bytes, pool_.data, kind, num_slots, buf_size, nr_bufs,
				       first_buf, features);
		if (rc == 0)
			be_ready_ = true;
		return Napi::Number::New(env, rc);
	}

	// feAttach(kind) -> 0 or -errno
	Napi::Value FeAttach(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t kind;

		if (!MemoryIntact(env) || !GetU32(env, info[0], "kind", UINT32_MAX, &kind))
			return env.Undefined();
		struct vring_fe fe;
		int rc = vring_fe_attach(&fe, ring_.data, ring_.len, pool_.data, pool_.len, kind);
		if (rc == 0) {
			fe_ = fe;
			fe_ready_ = true;
		}
		return Napi::Number::New(env, rc);
	}

	// feTxBurst(packets) -> {n, kick}
	Napi::Value FeTxBurst(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		std::vector<uint8_t> scratch;
		std::vector<const void *> src;
		std::vector<uint16_t> lens;
		uint32_t n = 0;
		int kick = 0;

		if (!NeedFe(env) ||
		    !GetPackets(env, info[0], "packets", 0xffff, fe_.num_slots, &scratch, &src, &lens, &n) ||
		    !MemoryIntact(env)) // element getters may have run JS
			return env.Undefined();
		uint32_t done = vring_fe_tx_burst(&fe_, src.data(), lens.data(), n, &kick);
		Napi::Object r = Napi::Object::New(env);
		r.Set("n", Napi::Number::New(env, done));
		r.Set("kick", Napi::Number::New(env, kick ? 1 : 0));
		return r;
	}

	// beTxBurst(max) -> {packets, drops, kick}
	Napi::Value BeTxBurst(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t max;
		uint64_t drops[VRING_VERDICT_COUNT] = {0};
		int kick = 0;

		if (!NeedBe(env) || !GetU32(env, info[0], "max", kMaxBurst, &max))
			return env.Undefined();
		// At most num_slots - 1 packets are ever pending: capping keeps the scratch small.
		uint32_t n = CapBurst(max, be_.num_slots, be_.lim.buf_size);
		std::vector<uint8_t> scratch(static_cast<size_t>(n ? n : 1) * be_.lim.buf_size);
		std::vector<void *> dst(n ? n : 1);
		std::vector<uint16_t> lens(n ? n : 1);
		for (uint32_t i = 0; i < n; i++)
			dst[i] = scratch.data() + static_cast<size_t>(i) * be_.lim.buf_size;
		uint32_t got = vring_be_tx_burst(&be_, dst.data(), lens.data(), n, drops, &kick);
		Napi::Array packets = Napi::Array::New(env, got);
		for (uint32_t i = 0; i < got; i++)
			packets.Set(i, Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t *>(dst[i]), lens[i]));
		Napi::Object r = Napi::Object::New(env);
		r.Set("packets", packets);
		r.Set("drops", DropsArray(env, drops));
		r.Set("kick", Napi::Number::New(env, kick ? 1 : 0));
		return r;
	}

	// beRxBurst(packets) -> {n, drops, kick}
	Napi::Value BeRxBurst(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		std::vector<uint8_t> scratch;
		std::vector<const void *> src;
		std::vector<uint16_t> lens;
		uint64_t drops[VRING_VERDICT_COUNT] = {0};
		uint32_t n = 0;
		int kick = 0;

		// vring_be_rx_burst() requires every length <= buf_size: enforced here.
		if (!NeedBe(env) ||
		    !GetPackets(env, info[0], "packets", be_.lim.buf_size, be_.num_slots, &scratch, &src, &lens, &n) ||
		    !MemoryIntact(env)) // element getters may have run JS
			return env.Undefined();
		// ...and may have re-run beInit() with a smaller buf_size: check again.
		for (uint32_t i = 0; i < n; i++) {
			if (lens[i] > be_.lim.buf_size) {
				ThrowArg(env, false, "packets[" + std::to_string(i) + "]: longer than buf_size");
				return env.Undefined();
			}
		}
		uint32_t done = vring_be_rx_burst(&be_, src.data(), lens.data(), n, drops, &kick);
		Napi::Object r = Napi::Object::New(env);
		r.Set("n", Napi::Number::New(env, done));
		r.Set("drops", DropsArray(env, drops));
		r.Set("kick", Napi::Number::New(env, kick ? 1 : 0));
		return r;
	}

	// feRxBurst(max) -> {packets, kick}
	Napi::Value FeRxBurst(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t max;
		int kick = 0;

		if (!NeedFe(env) || !GetU32(env, info[0], "max", kMaxBurst, &max))
			return env.Undefined();
		uint32_t n = CapBurst(max, fe_.num_slots, fe_.buf_size);
		std::vector<uint8_t> scratch(static_cast<size_t>(n ? n : 1) * fe_.buf_size);
		std::vector<void *> dst(n ? n : 1);
		std::vector<uint16_t> lens(n ? n : 1);
		for (uint32_t i = 0; i < n; i++)
			dst[i] = scratch.data() + static_cast<size_t>(i) * fe_.buf_size;
		uint32_t got = vring_fe_rx_burst(&fe_, dst.data(), lens.data(), n, &kick);
		Napi::Array packets = Napi::Array::New(env, got);
		for (uint32_t i = 0; i < got; i++)
			packets.Set(i, Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t *>(dst[i]), lens[i]));
		Napi::Object r = Napi::Object::New(env);
		r.Set("packets", packets);
		r.Set("kick", Napi::Number::New(env, kick ? 1 : 0));
		return r;
	}

	Napi::Value BePrepareSleep(const Napi::CallbackInfo &info)
	{
		if (!NeedBe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), vring_be_prepare_sleep(&be_));
	}

	Napi::Value FePrepareSleep(const Napi::CallbackInfo &info)
	{
		if (!NeedFe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), vring_fe_prepare_sleep(&fe_));
	}

	Napi::Value BeWoken(const Napi::CallbackInfo &info)
	{
		if (NeedBe(info.Env()))
			vring_be_woken(&be_);
		return info.Env().Undefined();
	}

	Napi::Value FeWoken(const Napi::CallbackInfo &info)
	{
		if (NeedFe(info.Env()))
			vring_fe_woken(&fe_);
		return info.Env().Undefined();
	}

	Napi::Value GetHwcur(const Napi::CallbackInfo &info)
	{
		if (!NeedBe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), be_.hwcur);
	}

	Napi::Value GetHwtail(const Napi::CallbackInfo &info)
	{
		if (!NeedBe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), be_.hwtail);
	}

	Napi::Value GetFeHead(const Napi::CallbackInfo &info)
	{
		if (!NeedFe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), fe_.head);
	}

	Napi::Value GetFeTailCache(const Napi::CallbackInfo &info)
	{
		if (!NeedFe(info.Env()))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), fe_.tail_cache);
	}

	Napi::ObjectReference ring_ref_;
	Napi::ObjectReference pool_ref_;
	Bytes ring_{nullptr, 0};
	Bytes pool_{nullptr, 0};
	struct vring_be be_ {};
	struct vring_fe fe_ {};
	bool be_ready_ = false;
	bool fe_ready_ = false;
};

// ---------------------------------------------------------------------------
// The addon instance

class RingAddon : public Napi::Addon<RingAddon> {
public:
	RingAddon(Napi::Env env, Napi::Object exports)
	{
		Napi::Function harness = RingHarness::Define(env);
		harness_ctor_ = Napi::Persistent(harness);
		DefineAddon(exports, {
					     InstanceMethod("layout", &RingAddon::Layout),
					     InstanceMethod("checkHead", &RingAddon::CheckHead),
					     InstanceMethod("checkCur", &RingAddon::CheckCur),
					     InstanceMethod("checkSlot", &RingAddon::CheckSlot),
					     InstanceMethod("checkOffload", &RingAddon::CheckOffload),
					     InstanceMethod("initRing", &RingAddon::InitRing),
					     InstanceValue("RingHarness", harness, napi_enumerable),
				     });
	}

private:
	Napi::Value Layout(const Napi::CallbackInfo &info)
	{
		return BuildLayout(info.Env());
	}

	// checkHead(head, hwcur, hwtail, numSlots) -> verdict
	Napi::Value CheckHead(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t a, b, c, n;

		if (!GetU32(env, info[0], "head", UINT32_MAX, &a) || !GetU32(env, info[1], "hwcur", UINT32_MAX, &b) ||
		    !GetU32(env, info[2], "hwtail", UINT32_MAX, &c) || !GetU32(env, info[3], "numSlots", UINT32_MAX, &n))
			return env.Undefined();
		return Napi::Number::New(env, vring_check_head(a, b, c, n));
	}

	// checkCur(cur, head, hwtail, numSlots) -> verdict
	Napi::Value CheckCur(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t a, b, c, n;

		if (!GetU32(env, info[0], "cur", UINT32_MAX, &a) || !GetU32(env, info[1], "head", UINT32_MAX, &b) ||
		    !GetU32(env, info[2], "hwtail", UINT32_MAX, &c) || !GetU32(env, info[3], "numSlots", UINT32_MAX, &n))
			return env.Undefined();
		return Napi::Number::New(env, vring_check_cur(a, b, c, n));
	}

	// checkSlot({bufIdx, len, flags, offload?}, {bufSize, nrBufs, features}, first) -> verdict
	Napi::Value CheckSlot(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		Napi::Object so, lo;
		struct vring_slot s;
		struct vring_limits l;
		uint32_t buf_idx, len, flags;

		std::memset(&s, 0, sizeof(s));
		if (!GetObject(env, info[0], "slot", &so) || !GetObject(env, info[1], "limits", &lo))
			return env.Undefined();
		if (!GetField(env, so, "slot", "bufIdx", UINT32_MAX, false, 0, &buf_idx) ||
		    !GetField(env, so, "slot", "len", 0xffff, false, 0, &len) ||
		    !GetField(env, so, "slot", "flags", 0xffff, false, 0, &flags) ||
		    !GetField(env, lo, "limits", "bufSize", UINT32_MAX, false, 0, &l.buf_size) ||
		    !GetField(env, lo, "limits", "nrBufs", UINT32_MAX, false, 0, &l.nr_bufs) ||
		    !GetField(env, lo, "limits", "features", UINT32_MAX, false, 0, &l.features))
			return env.Undefined();
		Napi::Value ov = so.Get("offload");
		if (env.IsExceptionPending())
			return env.Undefined();
		if (!ov.IsUndefined() && !GetOffload(env, ov, "slot.offload", &s.u.offload))
			return env.Undefined();
		if (!info[2].IsBoolean()) {
			ThrowArg(env, true, "first: expected a boolean");
			return env.Undefined();
		}
		s.buf_idx = buf_idx;
		s.len = static_cast<uint16_t>(len);
		s.flags = static_cast<uint16_t>(flags);
		return Napi::Number::New(env, vring_check_slot(&s, &l, info[2].As<Napi::Boolean>().Value() ? 1 : 0));
	}

	// checkOffload({csumStart, csumOffset, gsoSize, gsoType, oflags}, pktLen) -> verdict
	Napi::Value CheckOffload(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		struct vring_offload o;
		uint32_t pkt_len;

		if (!GetOffload(env, info[0], "offload", &o) || !GetU32(env, info[1], "pktLen", UINT32_MAX, &pkt_len))
			return env.Undefined();
		return Napi::Number::New(env, vring_check_offload(&o, pkt_len));
	}

	// initRing(mem, byteOffset, {kind, numSlots, bufSize, nrBufs, firstBuf, features}) -> 0 or -errno
	Napi::Value InitRing(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		Bytes mem;
		uint64_t off;
		Napi::Object g;
		uint32_t kind, num_slots, buf_size, nr_bufs, first_buf, features;

		if (!GetBytes(env, info[0], "buffer", &mem) || !GetUint(env, info[1], "byteOffset", mem.len, &off) ||
		    !GetObject(env, info[2], "geometry", &g))
			return env.Undefined();
		if (!GetField(env, g, "geometry", "kind", UINT32_MAX, false, 0, &kind) ||
		    !GetField(env, g, "geometry", "numSlots", UINT32_MAX, false, 0, &num_slots) ||
		    !GetField(env, g, "geometry", "bufSize", UINT32_MAX, false, 0, &buf_size) ||
		    !GetField(env, g, "geometry", "nrBufs", UINT32_MAX, false, 0, &nr_bufs) ||
		    !GetField(env, g, "geometry", "firstBuf", UINT32_MAX, true, 0, &first_buf) ||
		    !GetField(env, g, "geometry", "features", UINT32_MAX, true, 0, &features))
			return env.Undefined();
		// Getters above may run JS; re-read the memory so a detach in between is seen.
		if (!GetBytes(env, info[0], "buffer", &mem))
			return env.Undefined();
		if (off > mem.len) {
			ThrowArg(env, false, "byteOffset: beyond the end of the buffer");
			return env.Undefined();
		}
		uint8_t *base = mem.data + off;
		if (reinterpret_cast<uintptr_t>(base) % kRingAlign != 0) {
			ThrowArg(env, false, "byteOffset: ring memory must be " + std::to_string(kRingAlign) + "-byte aligned");
			return env.Undefined();
		}
		size_t avail = mem.len - off;
		uint32_t ring_bytes = avail > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(avail);
		struct vring_be be;
		// The pool is not touched by vring_be_init(): only its geometry is recorded.
		int rc = vring_be_init(&be, base, ring_bytes, nullptr, kind, num_slots, buf_size, nr_bufs, first_buf,
				       features);
		return Napi::Number::New(env, rc);
	}

	Napi::FunctionReference harness_ctor_;
};

} // namespace

NODE_API_ADDON(RingAddon)
