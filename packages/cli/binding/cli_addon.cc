// SPDX-License-Identifier: MIT
//
// cli_addon.cc - the one syscall the CLI's control socket needs and Node
// does not offer (control plane only, once per accepted connection):
//
//   peerCred(fd)   { pid, uid, gid } of the process that connected the unix
//                  socket fd (getsockopt SO_PEERCRED, as the kernel recorded
//                  it at connect()) | -errno
//
// A bad argument throws a TypeError with code ERR_ARGUMENT (the TS layer
// validates first). No state, no globals.

#include <napi.h>

#include <cerrno>

#include <sys/socket.h>

namespace {

Napi::Value PeerCred(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsNumber()) {
		Napi::Error e = Napi::TypeError::New(env, "argument 0: expected a descriptor");
		e.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
		e.ThrowAsJavaScriptException();
		return env.Undefined();
	}
	int fd = info[0].As<Napi::Number>().Int32Value();
	struct ucred cred = {};
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return Napi::Number::New(env, -errno);
	Napi::Object o = Napi::Object::New(env);
	o.Set("pid", Napi::Number::New(env, cred.pid));
	o.Set("uid", Napi::Number::New(env, cred.uid));
	o.Set("gid", Napi::Number::New(env, cred.gid));
	return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("peerCred", Napi::Function::New(env, PeerCred));
	return exports;
}

} // namespace

NODE_API_MODULE(vpio_cli, Init)
