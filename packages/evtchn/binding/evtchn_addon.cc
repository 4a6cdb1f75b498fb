// SPDX-License-Identifier: MIT
//
// evtchn_addon.cc - the N-API glue of @vpio/evtchn (host driver). One call
// per control operation or notification; never per packet.
//
//   createPair()            evtchn_host_pair(): [{rxFd, txFd}, {rxFd, txFd}] or -errno
//   notify(txFd)            evtchn_notify(): 0 sent, 1 coalesced, or -errno
//   drain(rxFd)             evtchn_drain(): count, or -errno (-EPIPE: peer closed)
//   poll(rxFd)              evtchn_wait(fd, 0): 1 pending, 0 not, or -errno
//   closeFd(fd)             close(): 0 or -errno
//   Watcher(fd, cb)         a libuv poll handle on fd (readable or disconnect)
//                           calling cb(status) on the JS thread; start(),
//                           stop(), close()
//
// Why a libuv poll handle and not an async worker: a waiting channel then
// costs no thread. An AsyncWorker would park one libuv thread-pool thread
// (4 by default, shared with fs and dns) in poll() per waiting channel, so a
// few idle channels would stall the whole process; the poll handle sits in
// the event loop's epoll set with every socket Node already watches.
//
// Ownership: a Watcher never owns its descriptor; close it after the
// Watcher. The uv handle is heap-allocated and freed in its close callback,
// which may run after the Watcher object is gone (handle->data is cleared
// first). Everything runs on the JS thread; no globals.

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <string>
#include <unistd.h>

#include "vpio/evtchn.h"
#include "vpio/evtchn_pair.h"

namespace {

bool GetFd(Napi::Env env, Napi::Value v, const char *name, int *out)
{
	if (!v.IsNumber()) {
		Napi::Error err = Napi::TypeError::New(env, std::string(name) + ": expected a descriptor number");
		err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
		err.ThrowAsJavaScriptException();
		return false;
	}
	double d = v.As<Napi::Number>().DoubleValue();
	*out = (d >= -1 && d <= 2147483647.0 && d == static_cast<double>(static_cast<int>(d))) ? static_cast<int>(d) : -1;
	return true;
}

class Watcher : public Napi::ObjectWrap<Watcher> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Watcher",
				   {
					   InstanceMethod("start", &Watcher::Start),
					   InstanceMethod("stop", &Watcher::Stop),
					   InstanceMethod("close", &Watcher::Close),
				   });
	}

	explicit Watcher(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Watcher>(info)
	{
		Napi::Env env = info.Env();
		int fd;
		uv_loop_t *loop = nullptr;

		if (!GetFd(env, info[0], "fd", &fd))
			return;
		if (!info[1].IsFunction()) {
			Napi::TypeError::New(env, "callback: expected a function").ThrowAsJavaScriptException();
			return;
		}
		if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
			Napi::Error::New(env, "no libuv loop").ThrowAsJavaScriptException();
			return;
		}
		handle_ = new uv_poll_t;
		int rc = uv_poll_init(loop, handle_, fd);
		if (rc < 0) {
			delete handle_;
			handle_ = nullptr;
			Napi::Error err = Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(rc));
			err.Set("errno", Napi::Number::New(env, rc));
			err.ThrowAsJavaScriptException();
			return;
		}
		handle_->data = this;
		cb_ = Napi::Persistent(info[1].As<Napi::Function>());
		env_ = env;
	}

	~Watcher() override
	{
		CloseHandle();
	}

private:
	static void OnClosed(uv_handle_t *h)
	{
		delete reinterpret_cast<uv_poll_t *>(h);
	}

	static void OnPoll(uv_poll_t *h, int status, int events)
	{
		Watcher *self = static_cast<Watcher *>(h->data);
		if (self == nullptr)
			return;
		Napi::Env env = self->env_;
		Napi::HandleScope scope(env);
		int st = status < 0 ? status : ((events & UV_DISCONNECT) ? 1 : 0);
		self->cb_.MakeCallback(env.Global(), {Napi::Number::New(env, st)});
		if (env.IsExceptionPending()) {
			Napi::Error e = env.GetAndClearPendingException();
			napi_fatal_exception(env, e.Value());
		}
	}

	void CloseHandle()
	{
		if (handle_ == nullptr)
			return;
		uv_poll_stop(handle_);
		handle_->data = nullptr;
		uv_close(reinterpret_cast<uv_handle_t *>(handle_), OnClosed);
		handle_ = nullptr;
	}

	Napi::Value Start(const Napi::CallbackInfo &info)
	{
		if (handle_ == nullptr)
			return Napi::Number::New(info.Env(), -EBADF);
		return Napi::Number::New(info.Env(), uv_poll_start(handle_, UV_READABLE | UV_DISCONNECT, OnPoll));
	}

	Napi::Value Stop(const Napi::CallbackInfo &info)
	{
		if (handle_ != nullptr)
			uv_poll_stop(handle_);
		return info.Env().Undefined();
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		CloseHandle();
		cb_.Reset();
		return info.Env().Undefined();
	}

	uv_poll_t *handle_ = nullptr;
	Napi::FunctionReference cb_;
	napi_env env_ = nullptr;
};

Napi::Object EndObject(Napi::Env env, const struct evtchn_end &e)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("rxFd", Napi::Number::New(env, e.rx_fd));
	o.Set("txFd", Napi::Number::New(env, e.tx_fd));
	return o;
}

class EvtchnAddon : public Napi::Addon<EvtchnAddon> {
public:
	EvtchnAddon(Napi::Env env, Napi::Object exports)
	{
		Napi::Function watcher = Watcher::Define(env);
		DefineAddon(exports, {
					     InstanceMethod("createPair", &EvtchnAddon::CreatePair),
					     InstanceMethod("notify", &EvtchnAddon::Notify),
					     InstanceMethod("drain", &EvtchnAddon::Drain),
					     InstanceMethod("poll", &EvtchnAddon::Poll),
					     InstanceMethod("closeFd", &EvtchnAddon::CloseFd),
					     InstanceValue("Watcher", watcher, napi_enumerable),
				     });
	}

private:
	Napi::Value CreatePair(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		struct evtchn_end a, b;
		int rc = evtchn_host_pair(&a, &b);

		if (rc < 0)
			return Napi::Number::New(env, rc);
		Napi::Array out = Napi::Array::New(env, 2);
		out.Set(0u, EndObject(env, a));
		out.Set(1u, EndObject(env, b));
		return out;
	}

	Napi::Value Notify(const Napi::CallbackInfo &info)
	{
		int fd;
		if (!GetFd(info.Env(), info[0], "txFd", &fd))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), evtchn_notify(fd));
	}

	Napi::Value Drain(const Napi::CallbackInfo &info)
	{
		int fd;
		if (!GetFd(info.Env(), info[0], "rxFd", &fd))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), evtchn_drain(fd));
	}

	Napi::Value Poll(const Napi::CallbackInfo &info)
	{
		int fd;
		if (!GetFd(info.Env(), info[0], "rxFd", &fd))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), evtchn_wait(fd, 0));
	}

	Napi::Value CloseFd(const Napi::CallbackInfo &info)
	{
		int fd;
		if (!GetFd(info.Env(), info[0], "fd", &fd))
			return info.Env().Undefined();
		if (fd < 0)
			return Napi::Number::New(info.Env(), -EBADF);
		return Napi::Number::New(info.Env(), close(fd) < 0 && errno != EINTR ? -errno : 0);
	}
};

} // namespace

NODE_API_ADDON(EvtchnAddon)
