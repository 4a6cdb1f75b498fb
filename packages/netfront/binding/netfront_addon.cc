// SPDX-License-Identifier: MIT
//
// netfront_addon.cc - the N-API glue that makes a Node program a vpio guest:
// the netfront C core (csrc/nf_*.c) over the broker-backed host ops
// (csrc/host_broker.c, vpio/netfront_broker.h), compiled in.
//
//   NativeDev            one vif (struct nf_dev)
//     connect(devid, mode, timeoutMs)   Promise<void>: the session (HELLO on
//                                       $VPIO_CTRL_FD, once per process) and
//                                       nf_connect(), on a libuv worker thread
//     info()                            { mac, mtu, txSlots, rxSlots, bufSize, domid }
//     send(frames[]) -> n               nf_tx_burst(..., NF_TX_KICK), copies
//     receive(max) -> Buffer[]          nf_rx_burst, one copy per packet
//     waitRx(ms) / waitTx(ms)           Promise<0|1>: nf_rx_wait / nf_tx_wait
//                                       on a worker thread (poll mode: looks
//                                       every 50 us until ms passes)
//     rxPending(), txSpace(), stats()
//     disconnect()                      Promise<rc>: nf_disconnect()
//
// Threading (vpio/netfront.h): the event loop thread does send/receive; a
// worker thread may sleep in waitRx (the RX direction) while the loop
// sends (TX), and in waitTx while the loop receives. The addon refuses a
// call that would put two threads in one direction (NETFRONT_BUSY), and
// connect/disconnect of every device run under one mutex, since they share
// the process's one guest session (vpio_guest and xenstore handle).
//
// Errors: C++ exceptions are disabled; a bad argument throws a JS error with
// code ERR_ARGUMENT; a failed C call rejects/throws with code NETFRONT_ERRNO
// and `errno` set (the negative errno's absolute value). The TS layer
// (src/netfront.ts) validates first.

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "vpio/netfront.h"
#include "vpio/netfront_broker.h"
}

namespace {

constexpr uint32_t kMaxBurst = 256;

std::mutex g_session_mu;          // guards g_session and every connect/disconnect
nf_session *g_session = nullptr;  // opened on the first connect, kept for the process

void ThrowCode(Napi::Env env, const char *code, const std::string &msg, int err = 0)
{
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", Napi::String::New(env, code));
	if (err)
		e.Set("errno", Napi::Number::New(env, err));
	e.ThrowAsJavaScriptException();
}

uint64_t NowUs()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

class NativeDev;

// A worker whose result settles a promise: rc < 0 rejects with its errno.
class Worker : public Napi::AsyncWorker {
      public:
	Worker(Napi::Env env, Napi::Object self, const char *what)
	    : Napi::AsyncWorker(env, what), deferred_(Napi::Promise::Deferred::New(env)), what_(what)
	{
		self_ = Napi::Persistent(self);
	}
	Napi::Promise Promise() { return deferred_.Promise(); }

      protected:
	void OnOK() override
	{
		Napi::Env env = Env();
		Done();
		if (rc_ < 0) {
			Napi::Error e = Napi::Error::New(env, std::string(what_) + ": " + strerror(-rc_));
			e.Set("code", Napi::String::New(env, "NETFRONT_ERRNO"));
			e.Set("errno", Napi::Number::New(env, -rc_));
			deferred_.Reject(e.Value());
		} else {
			deferred_.Resolve(Napi::Number::New(env, rc_));
		}
	}
	virtual void Done() {}
	Napi::Promise::Deferred deferred_;
	Napi::ObjectReference self_;
	const char *what_;
	int rc_ = 0;
};

class NativeDev : public Napi::ObjectWrap<NativeDev> {
      public:
	static Napi::Function Init(Napi::Env env)
	{
		return DefineClass(env, "NativeDev",
				   {
					   InstanceMethod("connect", &NativeDev::Connect),
					   InstanceMethod("info", &NativeDev::Info),
					   InstanceMethod("send", &NativeDev::Send),
					   InstanceMethod("receive", &NativeDev::Receive),
					   InstanceMethod("waitRx", &NativeDev::WaitRx),
					   InstanceMethod("waitTx", &NativeDev::WaitTx),
					   InstanceMethod("rxPending", &NativeDev::RxPending),
					   InstanceMethod("txSpace", &NativeDev::TxSpace),
					   InstanceMethod("stats", &NativeDev::Stats),
					   InstanceMethod("disconnect", &NativeDev::Disconnect),
				   });
	}

	explicit NativeDev(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeDev>(info)
	{
		memset(&nf_, 0, sizeof(nf_));
	}

	// State shared with the workers (each flag owned by one thread at a time).
	nf_dev nf_;
	bool connected_ = false;
	bool busy_ctl_ = false; // connect/disconnect in flight
	bool busy_rx_ = false;  // waitRx in flight: receive() refused
	bool busy_tx_ = false;  // waitTx in flight: send() refused
	nf_mode mode_ = NF_MODE_EVENT;

      private:
	std::vector<uint8_t> scratch_; // receive()'s copy-out area (event loop thread only)

	bool Ready(Napi::Env env)
	{
		if (busy_ctl_) {
			ThrowCode(env, "NETFRONT_BUSY", "the vif is connecting or disconnecting");
			return false;
		}
		if (!connected_) {
			ThrowCode(env, "NETFRONT_STATE", "the vif is not connected");
			return false;
		}
		return true;
	}

	class ConnectWorker : public Worker {
	      public:
		ConnectWorker(Napi::Env env, NativeDev *d, uint32_t devid, nf_mode mode, int timeout)
		    : Worker(env, d->Value(), "connect"), d_(d), devid_(devid), mode_(mode), timeout_(timeout)
		{
		}
		void Execute() override
		{
			std::lock_guard<std::mutex> lock(g_session_mu);
			if (!g_session) {
				nf_session *s = new nf_session;
				int rc = nf_session_open(s);
				if (rc < 0) {
					delete s;
					rc_ = rc;
					return;
				}
				g_session = s;
			}
			nf_config cfg;
			nf_session_config(g_session, &cfg, devid_, mode_, timeout_);
			rc_ = nf_connect(&d_->nf_, &cfg);
		}
		void Done() override
		{
			d_->busy_ctl_ = false;
			d_->connected_ = rc_ == 0;
			d_->mode_ = mode_;
		}

	      private:
		NativeDev *d_;
		uint32_t devid_;
		nf_mode mode_;
		int timeout_;
	};

	class DisconnectWorker : public Worker {
	      public:
		DisconnectWorker(Napi::Env env, NativeDev *d) : Worker(env, d->Value(), "disconnect"), d_(d) {}
		void Execute() override
		{
			std::lock_guard<std::mutex> lock(g_session_mu);
			rc_ = nf_disconnect(&d_->nf_);
		}
		void Done() override
		{
			d_->busy_ctl_ = false;
			d_->connected_ = false;
		}

	      private:
		NativeDev *d_;
	};

	class WaitWorker : public Worker {
	      public:
		WaitWorker(Napi::Env env, NativeDev *d, bool rx, int timeout)
		    : Worker(env, d->Value(), rx ? "waitRx" : "waitTx"), d_(d), rx_(rx), timeout_(timeout)
		{
		}
		void Execute() override
		{
			nf_dev *nf = &d_->nf_;
			if (d_->mode_ == NF_MODE_EVENT) {
				rc_ = rx_ ? nf_rx_wait(nf, timeout_) : nf_tx_wait(nf, timeout_);
				return;
			}
			// poll mode: the core never sleeps; look until something is there
			uint64_t end = NowUs() + static_cast<uint64_t>(timeout_) * 1000u;
			for (;;) {
				if (rx_ ? nf_rx_pending(nf) > 0 : nf_tx_space(nf) > 0) {
					rc_ = 1;
					return;
				}
				if (NowUs() >= end) {
					rc_ = 0;
					return;
				}
				timespec ts = { 0, 50000 };
				nanosleep(&ts, nullptr);
			}
		}
		void Done() override
		{
			if (rx_)
				d_->busy_rx_ = false;
			else
				d_->busy_tx_ = false;
		}

	      private:
		NativeDev *d_;
		bool rx_;
		int timeout_;
	};

	Napi::Value Connect(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
			ThrowCode(env, "ERR_ARGUMENT", "connect(devid, mode, timeoutMs)");
			return env.Undefined();
		}
		int64_t devid = info[0].As<Napi::Number>().Int64Value();
		int64_t mode = info[1].As<Napi::Number>().Int64Value();
		int64_t timeout = info[2].As<Napi::Number>().Int64Value();
		if (devid < 0 || devid > 65535 || (mode != 0 && mode != 1) || timeout < -1 || timeout > 3600000) {
			ThrowCode(env, "ERR_ARGUMENT", "connect: devid in [0, 65535], mode 0|1, timeoutMs in [-1, 3600000]");
			return env.Undefined();
		}
		if (busy_ctl_ || connected_) {
			ThrowCode(env, "NETFRONT_STATE", "connect() on a vif that is connected or connecting");
			return env.Undefined();
		}
		busy_ctl_ = true;
		auto *w = new ConnectWorker(env, this, static_cast<uint32_t>(devid), static_cast<nf_mode>(mode),
					    static_cast<int>(timeout));
		Napi::Promise p = w->Promise();
		w->Queue();
		return p;
	}

	Napi::Value Disconnect(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		if (busy_rx_ || busy_tx_) {
			ThrowCode(env, "NETFRONT_BUSY", "disconnect() while a wait is in flight");
			return env.Undefined();
		}
		busy_ctl_ = true;
		auto *w = new DisconnectWorker(env, this);
		Napi::Promise p = w->Promise();
		w->Queue();
		return p;
	}

	Napi::Value Info(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		Napi::Object o = Napi::Object::New(env);
		o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, nf_mac(&nf_), 6));
		o.Set("mtu", Napi::Number::New(env, nf_mtu(&nf_)));
		o.Set("txSlots", Napi::Number::New(env, nf_tx_slots(&nf_)));
		o.Set("rxSlots", Napi::Number::New(env, nf_rx_slots(&nf_)));
		o.Set("bufSize", Napi::Number::New(env, nf_buf_size(&nf_)));
		o.Set("domid", Napi::Number::New(env, g_session ? g_session->g.domid : 0));
		return o;
	}

	Napi::Value Send(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		if (busy_tx_) {
			ThrowCode(env, "NETFRONT_BUSY", "send() while waitTx() is in flight");
			return env.Undefined();
		}
		if (info.Length() < 1 || !info[0].IsArray()) {
			ThrowCode(env, "ERR_ARGUMENT", "send(frames: Uint8Array[])");
			return env.Undefined();
		}
		Napi::Array arr = info[0].As<Napi::Array>();
		uint32_t n = arr.Length() < kMaxBurst ? arr.Length() : kMaxBurst;
		const void *pkts[kMaxBurst];
		uint16_t lens[kMaxBurst];
		uint32_t buf = nf_buf_size(&nf_);
		for (uint32_t i = 0; i < n; i++) {
			Napi::Value v = arr.Get(i);
			if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
				ThrowCode(env, "ERR_ARGUMENT", "send: frames[" + std::to_string(i) + "] is not a Uint8Array");
				return env.Undefined();
			}
			Napi::Uint8Array a = v.As<Napi::Uint8Array>();
			if (a.ByteLength() < 14 || a.ByteLength() > buf) {
				ThrowCode(env, "ERR_ARGUMENT",
					  "send: frames[" + std::to_string(i) + "] is " + std::to_string(a.ByteLength()) +
						  " bytes, expected 14.." + std::to_string(buf));
				return env.Undefined();
			}
			pkts[i] = a.Data();
			lens[i] = static_cast<uint16_t>(a.ByteLength());
		}
		uint32_t sent = nf_tx_burst(&nf_, pkts, lens, n, NF_TX_KICK);
		return Napi::Number::New(env, sent);
	}

	Napi::Value Receive(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		if (busy_rx_) {
			ThrowCode(env, "NETFRONT_BUSY", "receive() while waitRx() is in flight");
			return env.Undefined();
		}
		uint32_t max = kMaxBurst;
		if (info.Length() > 0 && info[0].IsNumber()) {
			int64_t m = info[0].As<Napi::Number>().Int64Value();
			if (m < 1 || m > kMaxBurst) {
				ThrowCode(env, "ERR_ARGUMENT", "receive: max in [1, 256]");
				return env.Undefined();
			}
			max = static_cast<uint32_t>(m);
		}
		uint32_t buf = nf_buf_size(&nf_);
		if (scratch_.size() < static_cast<size_t>(max) * buf)
			scratch_.resize(static_cast<size_t>(max) * buf); // kept: no allocation per call once grown
		void *bufs[kMaxBurst];
		uint16_t lens[kMaxBurst];
		for (uint32_t i = 0; i < max; i++)
			bufs[i] = scratch_.data() + static_cast<size_t>(i) * buf;
		uint32_t got = nf_rx_burst(&nf_, bufs, lens, max);
		Napi::Array out = Napi::Array::New(env, got);
		for (uint32_t i = 0; i < got; i++)
			out.Set(i, Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t *>(bufs[i]), lens[i]));
		return out;
	}

	Napi::Value Wait(const Napi::CallbackInfo &info, bool rx)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		if (info.Length() < 1 || !info[0].IsNumber()) {
			ThrowCode(env, "ERR_ARGUMENT", "wait(timeoutMs)");
			return env.Undefined();
		}
		int64_t t = info[0].As<Napi::Number>().Int64Value();
		if (t < 0 || t > 3600000) {
			ThrowCode(env, "ERR_ARGUMENT", "wait: timeoutMs in [0, 3600000]");
			return env.Undefined();
		}
		bool &busy = rx ? busy_rx_ : busy_tx_;
		if (busy) {
			ThrowCode(env, "NETFRONT_BUSY", rx ? "waitRx() already in flight" : "waitTx() already in flight");
			return env.Undefined();
		}
		busy = true;
		auto *w = new WaitWorker(env, this, rx, static_cast<int>(t));
		Napi::Promise p = w->Promise();
		w->Queue();
		return p;
	}
	Napi::Value WaitRx(const Napi::CallbackInfo &info) { return Wait(info, true); }
	Napi::Value WaitTx(const Napi::CallbackInfo &info) { return Wait(info, false); }

	Napi::Value RxPending(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		return Napi::Number::New(env, busy_rx_ ? 0 : nf_rx_pending(&nf_));
	}

	Napi::Value TxSpace(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!Ready(env))
			return env.Undefined();
		return Napi::Number::New(env, busy_tx_ ? 0 : nf_tx_space(&nf_));
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		const struct nf_stats *s = ::nf_stats(&nf_);
		Napi::Object o = Napi::Object::New(env);
		o.Set("txPackets", Napi::Number::New(env, static_cast<double>(s->tx_packets)));
		o.Set("rxPackets", Napi::Number::New(env, static_cast<double>(s->rx_packets)));
		o.Set("txKicks", Napi::Number::New(env, static_cast<double>(s->tx_kicks)));
		o.Set("rxKicks", Napi::Number::New(env, static_cast<double>(s->rx_kicks)));
		o.Set("txSleeps", Napi::Number::New(env, static_cast<double>(s->tx_sleeps)));
		o.Set("rxSleeps", Napi::Number::New(env, static_cast<double>(s->rx_sleeps)));
		return o;
	}
};

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("NativeDev", NativeDev::Init(env));
	exports.Set("maxBurst", Napi::Number::New(env, kMaxBurst));
	return exports;
}

} // namespace

NODE_API_MODULE(vpio_netfront, Init)
