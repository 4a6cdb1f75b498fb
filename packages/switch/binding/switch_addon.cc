// SPDX-License-Identifier: MIT
//
// switch_addon.cc - the thin N-API glue of @vpio/switch. Control operations
// only: nothing here runs per packet (the workers, or pollOnce(), forward
// whole batches in C).
//
//   new NativeSwitch({ cores, mode, manualClock, macEntries, agingNs })
//   addPort(cfg) -> id      cfg's Uint8Arrays are the port's mapped memory
//   removePort(id)          returns once no worker touches the port
//   portGroup(id) -> ids | null   the members of id's port group, oldest first
//   portStats(id), workerStats(w), portIds(), nWorkers()
//   advanceClock(ns), now(), pollOnce(), close()
//   new NativeCapture(sw, port, { snaplen, bufferBytes, dirs })
//     read() -> { data, drops, records, attached }   every waiting record in one Buffer
//     stop()                  unhooks it (returns at a quiescent point); read() still drains
//     close()                 stops and frees it
//
// The TS layer (src/switch.ts) validates every argument first and throws
// ArgumentError; the checks here are the last line, so that no JS value can
// make the process touch memory outside the buffers it passed: they throw
// TypeError/RangeError with code ERR_ARGUMENT. C errors throw an Error with
// code SWITCH_<ERRNO> and an `errno` property.
//
// Ownership: a switch keeps a strong reference to the three buffers of
// each attached port until the port is removed or the switch closed, so
// the memory the workers copy from and into cannot be collected. State is
// per instance (ObjectWrap) and per addon instance (Napi::Addon: the set of
// open switches, closed by an environment cleanup hook); no globals.

#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

extern "C" {
#include "vpio/switch.h"
}

namespace {

void ThrowArg(Napi::Env env, const std::string &msg)
{
	Napi::Error err = Napi::TypeError::New(env, msg);
	err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
	err.ThrowAsJavaScriptException();
}

void ThrowErrno(Napi::Env env, int rc, const std::string &what)
{
	int e = rc < 0 ? -rc : rc;
	Napi::Error err = Napi::Error::New(env, what + ": " + std::strerror(e));
	err.Set("code", Napi::String::New(env, "SWITCH_ERRNO"));
	err.Set("errno", Napi::Number::New(env, e));
	err.ThrowAsJavaScriptException();
}

bool GetU64(Napi::Object o, const char *key, uint64_t *out, uint64_t max)
{
	Napi::Value v = o.Get(key);
	if (v.IsUndefined()) {
		*out = 0;
		return true;
	}
	if (!v.IsNumber())
		return false;
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= 0) || d > static_cast<double>(max) || d != static_cast<double>(static_cast<uint64_t>(d)))
		return false;
	*out = static_cast<uint64_t>(d);
	return true;
}

bool GetInt(Napi::Object o, const char *key, int64_t *out, int64_t min, int64_t max, int64_t dflt)
{
	Napi::Value v = o.Get(key);
	if (v.IsUndefined()) {
		*out = dflt;
		return true;
	}
	if (!v.IsNumber())
		return false;
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= static_cast<double>(min)) || d > static_cast<double>(max) || d != static_cast<double>(static_cast<int64_t>(d)))
		return false;
	*out = static_cast<int64_t>(d);
	return true;
}

bool GetBytes(Napi::Object o, const char *key, Napi::Uint8Array *out)
{
	Napi::Value v = o.Get(key);
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
		return false;
	*out = v.As<Napi::Uint8Array>();
	return true;
}

class SwitchAddon;
class NativeCapture;

class NativeSwitch : public Napi::ObjectWrap<NativeSwitch> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit NativeSwitch(const Napi::CallbackInfo &info);
	~NativeSwitch() override { Close(); }
	void Close();
	struct vsw *Raw() const { return sw_; }
	std::set<NativeCapture *> captures_; // unhooked (owner cleared) when the switch closes

private:
	struct PortRefs {
		Napi::Reference<Napi::Uint8Array> tx, rx, pool;
	};

	bool Open(Napi::Env env)
	{
		if (!sw_) {
			Napi::Error err = Napi::Error::New(env, "the switch is closed");
			err.Set("code", Napi::String::New(env, "SWITCH_CLOSED"));
			err.ThrowAsJavaScriptException();
			return false;
		}
		return true;
	}

	Napi::Value AddPort(const Napi::CallbackInfo &info);
	Napi::Value RemovePort(const Napi::CallbackInfo &info);
	Napi::Value PortStats(const Napi::CallbackInfo &info);
	Napi::Value PortGroup(const Napi::CallbackInfo &info);
	Napi::Value WorkerStats(const Napi::CallbackInfo &info);
	Napi::Value PortIds(const Napi::CallbackInfo &info);
	Napi::Value NWorkers(const Napi::CallbackInfo &info);
	Napi::Value AdvanceClock(const Napi::CallbackInfo &info);
	Napi::Value Now(const Napi::CallbackInfo &info);
	Napi::Value PollOnce(const Napi::CallbackInfo &info);
	Napi::Value CloseJs(const Napi::CallbackInfo &info);

	struct vsw *sw_ = nullptr;
	uint64_t manual_ns_ = 0; // read by the workers through vsw_clock_manual (atomic)
	std::map<uint32_t, PortRefs> ports_;
	SwitchAddon *addon_ = nullptr;
};

class SwitchAddon : public Napi::Addon<SwitchAddon> {
public:
	SwitchAddon(Napi::Env env, Napi::Object exports);
	~SwitchAddon() { CloseAll(); }
	static void Cleanup(void *arg) { static_cast<SwitchAddon *>(arg)->CloseAll(); }
	void CloseAll()
	{
		std::set<NativeSwitch *> open = open_;
		for (NativeSwitch *s : open)
			s->Close();
	}
	std::set<NativeSwitch *> open_;
	Napi::FunctionReference switch_ctor_; // to check that an object is a NativeSwitch
};

Napi::Function NativeSwitch::Init(Napi::Env env)
{
	return DefineClass(env, "NativeSwitch",
			   { InstanceMethod("addPort", &NativeSwitch::AddPort),
			     InstanceMethod("removePort", &NativeSwitch::RemovePort),
			     InstanceMethod("portStats", &NativeSwitch::PortStats),
			     InstanceMethod("portGroup", &NativeSwitch::PortGroup),
			     InstanceMethod("workerStats", &NativeSwitch::WorkerStats),
			     InstanceMethod("portIds", &NativeSwitch::PortIds),
			     InstanceMethod("nWorkers", &NativeSwitch::NWorkers),
			     InstanceMethod("advanceClock", &NativeSwitch::AdvanceClock),
			     InstanceMethod("now", &NativeSwitch::Now),
			     InstanceMethod("pollOnce", &NativeSwitch::PollOnce),
			     InstanceMethod("close", &NativeSwitch::CloseJs) });
}

NativeSwitch::NativeSwitch(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeSwitch>(info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsObject()) {
		ThrowArg(env, "options: expected an object");
		return;
	}
	Napi::Object o = info[0].As<Napi::Object>();
	Napi::Value coresV = o.Get("cores");
	if (!coresV.IsArray()) {
		ThrowArg(env, "cores: expected an array");
		return;
	}
	Napi::Array coresA = coresV.As<Napi::Array>();
	if (coresA.Length() > VSW_MAX_WORKERS) {
		ThrowArg(env, "cores: too many");
		return;
	}
	std::vector<int> cores;
	for (uint32_t i = 0; i < coresA.Length(); i++) {
		Napi::Value c = coresA.Get(i);
		if (!c.IsNumber() || c.As<Napi::Number>().Int32Value() < -1 || c.As<Napi::Number>().DoubleValue() >= CPU_SETSIZE) {
			ThrowArg(env, "cores: expected core numbers");
			return;
		}
		cores.push_back(c.As<Napi::Number>().Int32Value());
	}
	int64_t mode = 0;
	uint64_t mac_entries = 0, aging_ns = 0;
	if (!GetInt(o, "mode", &mode, 0, 1, 0) || !GetU64(o, "macEntries", &mac_entries, 1u << 24) ||
	    !GetU64(o, "agingNs", &aging_ns, UINT64_MAX >> 12)) {
		ThrowArg(env, "mode, macEntries or agingNs: out of range");
		return;
	}
	bool manual = o.Get("manualClock").ToBoolean().Value();
	struct vsw_config cfg;
	std::memset(&cfg, 0, sizeof(cfg));
	cfg.n_workers = static_cast<uint32_t>(cores.size());
	cfg.cores = cores.empty() ? nullptr : cores.data();
	cfg.mode = mode ? VSW_MODE_POLL : VSW_MODE_EVENT;
	cfg.mac_entries = static_cast<uint32_t>(mac_entries);
	cfg.aging_ns = aging_ns;
	if (manual) {
		cfg.clock = vsw_clock_manual;
		cfg.clock_ctx = &manual_ns_;
	}
	int rc = vsw_create(&cfg, &sw_);
	if (rc) {
		sw_ = nullptr;
		ThrowErrno(env, rc, "vsw_create");
		return;
	}
	addon_ = env.GetInstanceData<SwitchAddon>();
	if (addon_)
		addon_->open_.insert(this);
}

// A capture of one port (vpio/switch.h "Packet capture"). Holds the C
// capture until close() or collection; its owner switch pointer is cleared
// when the switch closes (vsw_destroy() unhooks it), so nothing here touches
// a destroyed switch.
class NativeCapture : public Napi::ObjectWrap<NativeCapture> {
public:
	static Napi::Function Init(Napi::Env env)
	{
		return DefineClass(env, "NativeCapture",
				   { InstanceMethod("read", &NativeCapture::Read), InstanceMethod("stop", &NativeCapture::Stop),
				     InstanceMethod("close", &NativeCapture::CloseJs) });
	}

	explicit NativeCapture(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeCapture>(info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsNumber() || !info[2].IsObject()) {
			ThrowArg(env, "NativeCapture(switch, port, options): bad arguments");
			return;
		}
		Napi::Object swo = info[0].As<Napi::Object>();
		SwitchAddon *addon = env.GetInstanceData<SwitchAddon>();
		NativeSwitch *owner = addon && swo.InstanceOf(addon->switch_ctor_.Value()) ? NativeSwitch::Unwrap(swo) : nullptr;
		if (!owner) {
			ThrowArg(env, "switch: expected a NativeSwitch");
			return;
		}
		if (!owner->Raw()) {
			Napi::Error err = Napi::Error::New(env, "the switch is closed");
			err.Set("code", Napi::String::New(env, "SWITCH_CLOSED"));
			err.ThrowAsJavaScriptException();
			return;
		}
		Napi::Object o = info[2].As<Napi::Object>();
		uint64_t snaplen = 0, bytes = 0, dirs = 0;
		if (!GetU64(o, "snaplen", &snaplen, 65535) || !GetU64(o, "bufferBytes", &bytes, VSW_CAP_MAX_BYTES) ||
		    !GetU64(o, "dirs", &dirs, VSW_CAP_IN | VSW_CAP_OUT)) {
			ThrowArg(env, "snaplen, bufferBytes or dirs: out of range");
			return;
		}
		struct vsw_capture_config cfg;
		std::memset(&cfg, 0, sizeof(cfg));
		cfg.snaplen = static_cast<uint32_t>(snaplen);
		cfg.buffer_bytes = static_cast<uint32_t>(bytes);
		cfg.dirs = static_cast<uint32_t>(dirs);
		int rc = vsw_capture_start(owner->Raw(), info[1].As<Napi::Number>().Uint32Value(), &cfg, &cap_);
		if (rc) {
			cap_ = nullptr;
			ThrowErrno(env, rc, "vsw_capture_start");
			return;
		}
		owner_ = owner;
		owner_->captures_.insert(this);
	}

	~NativeCapture() override { Free(); }

	// The switch is closing: vsw_destroy() unhooks the capture; forget the switch.
	void Orphan()
	{
		owner_ = nullptr;
	}

private:
	void Unhook()
	{
		if (cap_ && owner_ && owner_->Raw())
			vsw_capture_stop(owner_->Raw(), cap_); // returns at a quiescent point
		if (owner_)
			owner_->captures_.erase(this);
		owner_ = nullptr;
	}

	void Free()
	{
		Unhook();
		if (cap_)
			vsw_capture_free(cap_);
		cap_ = nullptr;
	}

	Napi::Value Read(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!cap_) {
			Napi::Error err = Napi::Error::New(env, "the capture is closed");
			err.Set("code", Napi::String::New(env, "CAPTURE_CLOSED"));
			err.ThrowAsJavaScriptException();
			return env.Undefined();
		}
		// one copy of every waiting record into one Buffer: TS slices it
		uint64_t pending = vsw_capture_pending(cap_), drops = 0;
		uint32_t records = 0;
		Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(pending));
		uint64_t n = vsw_capture_read(cap_, data.Data(), pending, &drops, &records);
		Napi::Object o = Napi::Object::New(env);
		o.Set("data", n == pending ? data : Napi::Buffer<uint8_t>::Copy(env, data.Data(), static_cast<size_t>(n)));
		o.Set("drops", Napi::Number::New(env, static_cast<double>(drops)));
		o.Set("records", Napi::Number::New(env, records));
		o.Set("attached", Napi::Boolean::New(env, vsw_capture_attached(cap_) != 0));
		return o;
	}

	Napi::Value Stop(const Napi::CallbackInfo &info)
	{
		Unhook();
		return info.Env().Undefined();
	}

	Napi::Value CloseJs(const Napi::CallbackInfo &info)
	{
		Free();
		return info.Env().Undefined();
	}

	struct vsw_capture *cap_ = nullptr;
	NativeSwitch *owner_ = nullptr;
};

SwitchAddon::SwitchAddon(Napi::Env env, Napi::Object exports)
{
	Napi::Function switchCtor = NativeSwitch::Init(env);
	switch_ctor_ = Napi::Persistent(switchCtor);
	DefineAddon(exports, { InstanceValue("NativeSwitch", switchCtor, napi_enumerable),
			       InstanceValue("NativeCapture", NativeCapture::Init(env), napi_enumerable) });
	Napi::Object names = Napi::Object::New(env);
	for (unsigned r = 1; r < VSW_DROP_COUNT; r++)
		names.Set(r, Napi::String::New(env, vsw_drop_name(r)));
	exports.Set("dropNames", names);
	exports.Set("maxPorts", Napi::Number::New(env, VSW_MAX_PORTS));
	exports.Set("maxWorkers", Napi::Number::New(env, VSW_MAX_WORKERS));
	exports.Set("groupMax", Napi::Number::New(env, VSW_GROUP_MAX));
	exports.Set("evtchnPortMax", Napi::Number::New(env, VSW_EVTCHN_PORT_MAX));
	exports.Set("histBuckets", Napi::Number::New(env, VSW_HIST_BUCKETS));
	// the capture record layout (struct vsw_cap_rec), never retyped in TS
	Napi::Object rec = Napi::Object::New(env);
	rec.Set("bytes", Napi::Number::New(env, sizeof(struct vsw_cap_rec)));
	rec.Set("align", Napi::Number::New(env, VSW_CAP_ALIGN));
	rec.Set("tsNsOffset", Napi::Number::New(env, offsetof(struct vsw_cap_rec, ts_ns)));
	rec.Set("origLenOffset", Napi::Number::New(env, offsetof(struct vsw_cap_rec, orig_len)));
	rec.Set("capLenOffset", Napi::Number::New(env, offsetof(struct vsw_cap_rec, cap_len)));
	rec.Set("dirOffset", Napi::Number::New(env, offsetof(struct vsw_cap_rec, dir)));
	rec.Set("dirIn", Napi::Number::New(env, VSW_CAP_IN));
	rec.Set("dirOut", Napi::Number::New(env, VSW_CAP_OUT));
	rec.Set("minBufferBytes", Napi::Number::New(env, VSW_CAP_MIN_BYTES));
	rec.Set("maxBufferBytes", Napi::Number::New(env, VSW_CAP_MAX_BYTES));
	exports.Set("captureRecord", rec);
	napi_add_env_cleanup_hook(env, Cleanup, this);
}

void NativeSwitch::Close()
{
	if (sw_) {
		for (NativeCapture *c : captures_)
			c->Orphan(); // vsw_destroy() below unhooks them; they stay readable until closed
		captures_.clear();
		vsw_destroy(sw_); // stops the workers first: no memory is touched after this
		sw_ = nullptr;
	}
	ports_.clear();
	if (addon_) {
		addon_->open_.erase(this);
		addon_ = nullptr;
	}
}

Napi::Value NativeSwitch::CloseJs(const Napi::CallbackInfo &info)
{
	Close();
	return info.Env().Undefined();
}

Napi::Value NativeSwitch::AddPort(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsObject()) {
		ThrowArg(env, "port: expected an object");
		return env.Undefined();
	}
	Napi::Object o = info[0].As<Napi::Object>();
	Napi::Uint8Array tx, rx, pool, mac;
	if (!GetBytes(o, "txRing", &tx) || !GetBytes(o, "rxRing", &rx) || !GetBytes(o, "pool", &pool) ||
	    !GetBytes(o, "mac", &mac) || mac.ByteLength() != 6) {
		ThrowArg(env, "txRing, rxRing, pool, mac: expected Uint8Arrays (mac of 6 bytes)");
		return env.Undefined();
	}
	struct vsw_port_config c;
	std::memset(&c, 0, sizeof(c));
	c.tx_ring = tx.Data();
	c.tx_ring_bytes = tx.ByteLength();
	c.rx_ring = rx.Data();
	c.rx_ring_bytes = rx.ByteLength();
	c.pool = pool.Data();
	c.pool_bytes = pool.ByteLength();
	std::memcpy(c.mac, mac.Data(), 6);
	uint64_t u[16];
	int64_t fds[4], worker, vlan_mode, group;
	const char *u_keys[] = { "txSlots", "rxSlots", "bufSize", "nrBufs", "features", "flags", "accessVid", "nativeVid",
				 "ratePps", "burstPkts", "rateBps", "burstBytes", "floodPps", "floodBurst", "maxMacs" };
	for (unsigned i = 0; i < 15; i++) {
		if (!GetU64(o, u_keys[i], &u[i], i < 8 || i == 14 ? UINT32_MAX : (1ull << 53))) {
			ThrowArg(env, std::string(u_keys[i]) + ": out of range");
			return env.Undefined();
		}
	}
	int64_t chports[2];
	if (!GetInt(o, "txPort", &chports[0], 0, VSW_EVTCHN_PORT_MAX, 0) || !GetInt(o, "rxPort", &chports[1], 0, VSW_EVTCHN_PORT_MAX, 0)) {
		ThrowArg(env, "txPort, rxPort: out of range");
		return env.Undefined();
	}
	const char *fd_keys[] = { "txWaitFd", "txNotifyFd", "rxWaitFd", "rxNotifyFd" };
	for (unsigned i = 0; i < 4; i++) {
		if (!GetInt(o, fd_keys[i], &fds[i], -1, INT32_MAX, -1)) {
			ThrowArg(env, std::string(fd_keys[i]) + ": out of range");
			return env.Undefined();
		}
	}
	if (!GetInt(o, "worker", &worker, -1, VSW_MAX_WORKERS, -1) || !GetInt(o, "vlanMode", &vlan_mode, 0, 1, 0) ||
	    !GetInt(o, "group", &group, -1, VSW_MAX_PORTS - 1, -1)) {
		ThrowArg(env, "worker, vlanMode or group: out of range");
		return env.Undefined();
	}
	std::vector<uint16_t> vids;
	Napi::Value tv = o.Get("trunkVids");
	if (!tv.IsUndefined()) {
		if (!tv.IsArray() || tv.As<Napi::Array>().Length() > 4094) {
			ThrowArg(env, "trunkVids: expected an array");
			return env.Undefined();
		}
		Napi::Array a = tv.As<Napi::Array>();
		for (uint32_t i = 0; i < a.Length(); i++) {
			Napi::Value v = a.Get(i);
			if (!v.IsNumber() || v.As<Napi::Number>().Int32Value() < 0 || v.As<Napi::Number>().Int32Value() > 4095) {
				ThrowArg(env, "trunkVids: expected VLAN ids");
				return env.Undefined();
			}
			vids.push_back(static_cast<uint16_t>(v.As<Napi::Number>().Int32Value()));
		}
	}
	c.tx_slots = static_cast<uint32_t>(u[0]);
	c.rx_slots = static_cast<uint32_t>(u[1]);
	c.buf_size = static_cast<uint32_t>(u[2]);
	c.nr_bufs = static_cast<uint32_t>(u[3]);
	c.features = static_cast<uint32_t>(u[4]);
	c.flags = static_cast<uint32_t>(u[5]);
	c.vlan_mode = vlan_mode ? VSW_VLAN_TRUNK : VSW_VLAN_ACCESS;
	c.access_vid = static_cast<uint16_t>(u[6] > 0xffff ? 0 : u[6]);
	c.native_vid = static_cast<uint16_t>(u[7] > 0xffff ? 0xffff : u[7]);
	c.trunk_vids = vids.empty() ? nullptr : vids.data();
	c.n_trunk_vids = static_cast<uint32_t>(vids.size());
	c.rate_pps = u[8];
	c.burst_pkts = u[9];
	c.rate_bps = u[10];
	c.burst_bytes = u[11];
	c.flood_pps = u[12];
	c.flood_burst = u[13];
	c.max_macs = static_cast<uint32_t>(u[14]);
	c.tx_wait_fd = static_cast<int>(fds[0]);
	c.tx_notify_fd = static_cast<int>(fds[1]);
	c.rx_wait_fd = static_cast<int>(fds[2]);
	c.rx_notify_fd = static_cast<int>(fds[3]);
	c.tx_port = static_cast<uint32_t>(chports[0]);
	c.rx_port = static_cast<uint32_t>(chports[1]);
	c.worker = static_cast<int>(worker);
	if (group >= 0) { // join that port's group
		c.flags |= VSW_PORT_GROUP;
		c.group = static_cast<uint32_t>(group);
	}
	uint32_t id = 0;
	int rc = vsw_port_add(sw_, &c, &id);
	if (rc) {
		ThrowErrno(env, rc, "vsw_port_add");
		return env.Undefined();
	}
	PortRefs &refs = ports_[id];
	refs.tx = Napi::Persistent(tx);
	refs.rx = Napi::Persistent(rx);
	refs.pool = Napi::Persistent(pool);
	return Napi::Number::New(env, id);
}

Napi::Value NativeSwitch::RemovePort(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsNumber()) {
		ThrowArg(env, "id: expected a number");
		return env.Undefined();
	}
	uint32_t id = info[0].As<Napi::Number>().Uint32Value();
	int rc = vsw_port_remove(sw_, id); // returns after every worker passed a quiescent point
	if (rc) {
		ThrowErrno(env, rc, "vsw_port_remove");
		return env.Undefined();
	}
	ports_.erase(id);
	return env.Undefined();
}

Napi::Value NativeSwitch::PortStats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsNumber()) {
		ThrowArg(env, "id: expected a number");
		return env.Undefined();
	}
	struct vsw_port_stats s;
	int rc = vsw_port_stats(sw_, info[0].As<Napi::Number>().Uint32Value(), &s);
	if (rc) {
		ThrowErrno(env, rc, "vsw_port_stats");
		return env.Undefined();
	}
	Napi::Object o = Napi::Object::New(env);
	auto n = [&](const char *k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
	n("inPackets", s.in_packets);
	n("inBytes", s.in_bytes);
	n("fwdPackets", s.fwd_packets);
	n("fwdPairs", s.fwd_pairs);
	n("outPackets", s.out_packets);
	n("outBytes", s.out_bytes);
	n("flooded", s.flooded);
	n("held", s.held);
	n("learned", s.learned);
	n("macMoves", s.mac_moves);
	n("learnRefused", s.learn_refused);
	n("gsoSegments", s.gso_segments);
	n("macs", s.macs);
	n("worker", s.worker);
	n("group", s.group);
	Napi::Array drops = Napi::Array::New(env, VSW_DROP_COUNT);
	for (unsigned r = 0; r < VSW_DROP_COUNT; r++)
		drops.Set(r, Napi::Number::New(env, static_cast<double>(s.drops[r])));
	o.Set("drops", drops);
	return o;
}

Napi::Value NativeSwitch::PortGroup(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsNumber()) {
		ThrowArg(env, "id: expected a number");
		return env.Undefined();
	}
	uint32_t members[VSW_GROUP_MAX];
	int n = vsw_port_group(sw_, info[0].As<Napi::Number>().Uint32Value(), members, VSW_GROUP_MAX);
	if (n < 0)
		return env.Null(); // no such port
	Napi::Array a = Napi::Array::New(env, static_cast<size_t>(n));
	for (int i = 0; i < n; i++)
		a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, members[i]));
	return a;
}

Napi::Value NativeSwitch::WorkerStats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsNumber()) {
		ThrowArg(env, "worker: expected a number");
		return env.Undefined();
	}
	struct vsw_worker_stats s;
	int rc = vsw_worker_stats(sw_, info[0].As<Napi::Number>().Uint32Value(), &s);
	if (rc) {
		ThrowErrno(env, rc, "vsw_worker_stats");
		return env.Undefined();
	}
	Napi::Object o = Napi::Object::New(env);
	auto n = [&](const char *k, double v) { o.Set(k, Napi::Number::New(env, v)); };
	n("batches", static_cast<double>(s.batches));
	n("packets", static_cast<double>(s.packets));
	n("busyNs", static_cast<double>(s.busy_ns));
	n("idleNs", static_cast<double>(s.idle_ns));
	n("sleeps", static_cast<double>(s.sleeps));
	n("wakeups", static_cast<double>(s.wakeups));
	n("core", s.core);
	Napi::Array hist = Napi::Array::New(env, VSW_HIST_BUCKETS);
	for (unsigned b = 0; b < VSW_HIST_BUCKETS; b++)
		hist.Set(b, Napi::Number::New(env, static_cast<double>(s.hist[b])));
	o.Set("batchHistogram", hist);
	return o;
}

Napi::Value NativeSwitch::PortIds(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	uint32_t ids[VSW_MAX_PORTS];
	uint32_t n = vsw_port_ids(sw_, ids, VSW_MAX_PORTS);
	Napi::Array a = Napi::Array::New(env, n);
	for (uint32_t i = 0; i < n; i++)
		a.Set(i, Napi::Number::New(env, ids[i]));
	return a;
}

Napi::Value NativeSwitch::NWorkers(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	return Napi::Number::New(env, vsw_n_workers(sw_));
}

Napi::Value NativeSwitch::AdvanceClock(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	if (info.Length() < 1 || !info[0].IsNumber() || !(info[0].As<Napi::Number>().DoubleValue() >= 0)) {
		ThrowArg(env, "ns: expected a non-negative number");
		return env.Undefined();
	}
	uint64_t ns = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
	// pairs with the acquire load in vsw_clock_manual()
	__atomic_fetch_add(&manual_ns_, ns, __ATOMIC_RELEASE);
	return env.Undefined();
}

Napi::Value NativeSwitch::Now(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	return Napi::BigInt::New(env, vsw_now(sw_));
}

Napi::Value NativeSwitch::PollOnce(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!Open(env))
		return env.Undefined();
	int n = vsw_poll_once(sw_);
	if (n < 0) {
		ThrowErrno(env, n, "vsw_poll_once");
		return env.Undefined();
	}
	return Napi::Number::New(env, n);
}

} // namespace

NODE_API_ADDON(SwitchAddon)
