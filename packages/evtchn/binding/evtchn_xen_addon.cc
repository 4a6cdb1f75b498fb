// SPDX-License-Identifier: MIT
//
// evtchn_xen_addon.cc - the N-API glue of @vpio/evtchn's xen driver
// (vpio_evtchn_xen.node, linked with libxenevtchn). A separate addon so
// host mode never loads a Xen library: src/xen-ports.ts requires it only
// when the xen driver is asked for, after checking /dev/xen/evtchn exists.
// One call per control operation or notification; never per packet.
//
//   allocUnbound(remoteDomid)              evtchn_xen_alloc_unbound(): a Port, or -errno
//   bindInterdomain(remoteDomid, remotePort) evtchn_xen_bind_interdomain(): a Port, or -errno
//   Port   .fd (its own /dev/xen/evtchn descriptor, O_NONBLOCK; -1 once
//          closed), .port (local), .remoteDomid,
//          .notify() -> 0 | -errno        evtchn_xen_fd_notify()
//          .consume() -> count | -errno   evtchn_xen_fd_consume(): pending + unmask
//          .close() -> 0 | -errno         evtchn_xen_close(): unbind + close
//
// Waiting is the host addon's Watcher (a libuv poll handle) on .fd. A Port
// garbage collected without close() is closed by its destructor. No
// globals: the Port constructor lives in per-instance addon data.

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "vpio/evtchn_xen.h"

namespace {

bool GetU32(Napi::Env env, Napi::Value v, const char *name, double max, uint32_t *out)
{
	if (!v.IsNumber()) {
		Napi::Error err = Napi::TypeError::New(env, std::string(name) + ": expected an integer");
		err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
		err.ThrowAsJavaScriptException();
		return false;
	}
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
		Napi::Error err = Napi::TypeError::New(env, std::string(name) + ": integer out of range");
		err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
		err.ThrowAsJavaScriptException();
		return false;
	}
	*out = static_cast<uint32_t>(d);
	return true;
}

class Port : public Napi::ObjectWrap<Port> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Port",
				   {
					   InstanceAccessor("fd", &Port::Fd, nullptr),
					   InstanceAccessor("port", &Port::LocalPort, nullptr),
					   InstanceAccessor("remoteDomid", &Port::RemoteDomid, nullptr),
					   InstanceMethod("notify", &Port::Notify),
					   InstanceMethod("consume", &Port::Consume),
					   InstanceMethod("close", &Port::Close),
				   });
	}

	explicit Port(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Port>(info)
	{
		x_.xce = nullptr;
		x_.fd = -1;
		x_.port = 0;
		x_.remote_domid = 0;
	}

	~Port() override
	{
		evtchn_xen_close(&x_);
	}

	void Adopt(const struct evtchn_xen &x)
	{
		x_ = x;
	}

private:
	Napi::Value Fd(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), x_.fd);
	}

	Napi::Value LocalPort(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), x_.port);
	}

	Napi::Value RemoteDomid(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), x_.remote_domid);
	}

	Napi::Value Notify(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), x_.xce ? evtchn_xen_fd_notify(x_.fd, x_.port) : -EBADF);
	}

	Napi::Value Consume(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), x_.xce ? evtchn_xen_fd_consume(x_.fd) : -EBADF);
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), evtchn_xen_close(&x_));
	}

	struct evtchn_xen x_;
};

class EvtchnXenAddon : public Napi::Addon<EvtchnXenAddon> {
public:
	EvtchnXenAddon(Napi::Env env, Napi::Object exports)
	{
		Napi::Function port = Port::Define(env);
		port_ctor_ = Napi::Persistent(port);
		DefineAddon(exports, {
					     InstanceMethod("allocUnbound", &EvtchnXenAddon::AllocUnbound),
					     InstanceMethod("bindInterdomain", &EvtchnXenAddon::BindInterdomain),
					     InstanceValue("Port", port, napi_enumerable),
				     });
	}

private:
	Napi::Value NewPort(Napi::Env env, const struct evtchn_xen &x)
	{
		Napi::Object obj = port_ctor_.New({});
		if (env.IsExceptionPending()) {
			struct evtchn_xen tmp = x;
			evtchn_xen_close(&tmp);
			return env.Undefined();
		}
		Port::Unwrap(obj)->Adopt(x);
		return obj;
	}

	// allocUnbound(remoteDomid) -> Port | -errno
	Napi::Value AllocUnbound(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t remote;
		struct evtchn_xen x;

		if (!GetU32(env, info[0], "remoteDomid", 0x7fef, &remote))
			return env.Undefined();
		int rc = evtchn_xen_alloc_unbound(&x, remote);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		return NewPort(env, x);
	}

	// bindInterdomain(remoteDomid, remotePort) -> Port | -errno
	Napi::Value BindInterdomain(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		uint32_t remote, rport;
		struct evtchn_xen x;

		if (!GetU32(env, info[0], "remoteDomid", 0x7fef, &remote) ||
		    !GetU32(env, info[1], "remotePort", 4294967295.0, &rport))
			return env.Undefined();
		int rc = evtchn_xen_bind_interdomain(&x, remote, rport);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		return NewPort(env, x);
	}

	Napi::FunctionReference port_ctor_;
};

} // namespace

NODE_API_ADDON(EvtchnXenAddon)
