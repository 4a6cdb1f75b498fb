// SPDX-License-Identifier: MIT
//
// domain_addon.cc - the N-API glue of @vpio/domain: the few syscalls Node
// does not offer. Control plane only (one call per domain operation).
//
//   pidfdOpen(pid)                       fd | -errno
//   pidfdSendSignal(pidfd, sig)          0 | -errno
//   socketpair(seqpacket)                [fd, fd] (both O_CLOEXEC) | -errno
//   setNonblock(fd)                      0 | -errno
//   sendmsg(fd, bytes, fds[])            bytes sent | -errno   (MSG_DONTWAIT | MSG_NOSIGNAL)
//   recvmsg(fd, maxBytes)                { data, fds, truncated } | -errno | 0 at EOF (hang-up;
//                                        an empty datagram is data of length 0)
//                                        (received fds are O_CLOEXEC)
//   close(fd)                            0 | -errno
//   new FdWatcher(fd, cb)                uv_poll for readability on the JS thread's
//                                        loop; cb() on each readable event (or
//                                        error); stop() ends it (idempotent)
//   setDumpable(on) / getDumpable()      prctl PR_SET/GET_DUMPABLE
//   getNofile() / setNofile(soft, hard)  RLIMIT_NOFILE
//
// Why uv_poll for pidfds: a pidfd becomes readable when its process exits,
// so death arrives as an ordinary event on the loop that owns the domain
// table; no thread, no polling interval, one fd per domain.
//
// Errors: syscalls report -errno as a number (the TS layer turns them into
// ErrnoError with the operation's name, mapping errno in one place); a bad
// argument throws a TypeError with code ERR_ARGUMENT. The TS layer validates
// first. State: FdWatcher instances only; no globals.

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vpio/domain_ctrl.h"

namespace {

bool ArgInt(const Napi::CallbackInfo &info, size_t i, int64_t min, int64_t max, int64_t *out)
{
	if (info.Length() <= i || !info[i].IsNumber()) {
		Napi::Error e = Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected a number");
		e.Set("code", Napi::String::New(info.Env(), "ERR_ARGUMENT"));
		e.ThrowAsJavaScriptException();
		return false;
	}
	double d = info[i].As<Napi::Number>().DoubleValue();
	if (d != static_cast<double>(static_cast<int64_t>(d)) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
		Napi::Error e = Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + ": out of range");
		e.Set("code", Napi::String::New(info.Env(), "ERR_ARGUMENT"));
		e.ThrowAsJavaScriptException();
		return false;
	}
	*out = static_cast<int64_t>(d);
	return true;
}

Napi::Value Neg(Napi::Env env, int err)
{
	return Napi::Number::New(env, -err);
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info)
{
	int64_t pid;
	if (!ArgInt(info, 0, 1, 0x7fffffff, &pid))
		return info.Env().Undefined();
	long fd = syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
	if (fd < 0)
		return Neg(info.Env(), errno);
	fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC); /* pidfd_open sets it; be explicit */
	return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info)
{
	int64_t fd, sig;
	if (!ArgInt(info, 0, 0, 0x7fffffff, &fd) || !ArgInt(info, 1, 0, 64, &sig))
		return info.Env().Undefined();
	if (syscall(SYS_pidfd_send_signal, static_cast<int>(fd), static_cast<int>(sig), nullptr, 0) < 0)
		return Neg(info.Env(), errno);
	return Napi::Number::New(info.Env(), 0);
}

Napi::Value SocketPair(const Napi::CallbackInfo &info)
{
	bool seqpacket = info.Length() > 0 && info[0].ToBoolean().Value();
	int sv[2];
	if (socketpair(AF_UNIX, (seqpacket ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0, sv) < 0)
		return Neg(info.Env(), errno);
	Napi::Array a = Napi::Array::New(info.Env(), 2);
	a.Set(0u, Napi::Number::New(info.Env(), sv[0]));
	a.Set(1u, Napi::Number::New(info.Env(), sv[1]));
	return a;
}

Napi::Value SetNonblock(const Napi::CallbackInfo &info)
{
	int64_t fd;
	if (!ArgInt(info, 0, 0, 0x7fffffff, &fd))
		return info.Env().Undefined();
	int fl = fcntl(static_cast<int>(fd), F_GETFL);
	if (fl < 0 || fcntl(static_cast<int>(fd), F_SETFL, fl | O_NONBLOCK) < 0)
		return Neg(info.Env(), errno);
	return Napi::Number::New(info.Env(), 0);
}

Napi::Value SendMsg(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int64_t fd;
	if (!ArgInt(info, 0, 0, 0x7fffffff, &fd))
		return env.Undefined();
	if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsArray()) {
		Napi::TypeError::New(env, "sendmsg(fd, Uint8Array, fds[])").ThrowAsJavaScriptException();
		return env.Undefined();
	}
	Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
	Napi::Array fdsArr = info[2].As<Napi::Array>();
	if (fdsArr.Length() > VPIO_CTRL_MAX_FDS) {
		Napi::RangeError::New(env, "too many fds").ThrowAsJavaScriptException();
		return env.Undefined();
	}
	int fds[VPIO_CTRL_MAX_FDS];
	for (uint32_t i = 0; i < fdsArr.Length(); i++) {
		Napi::Value v = fdsArr.Get(i);
		if (!v.IsNumber()) {
			Napi::TypeError::New(env, "fds: expected numbers").ThrowAsJavaScriptException();
			return env.Undefined();
		}
		fds[i] = v.As<Napi::Number>().Int32Value();
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * VPIO_CTRL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { bytes.Data(), bytes.ByteLength() };
	struct msghdr msg;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fdsArr.Length() > 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * fdsArr.Length());
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * fdsArr.Length());
		memcpy(CMSG_DATA(c), fds, sizeof(int) * fdsArr.Length());
	}
	ssize_t n;
	do
		n = sendmsg(static_cast<int>(fd), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return Neg(env, errno);
	return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value RecvMsg(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int64_t fd, max;
	if (!ArgInt(info, 0, 0, 0x7fffffff, &fd) || !ArgInt(info, 1, 1, 1 << 20, &max))
		return env.Undefined();
	std::vector<uint8_t> buf(static_cast<size_t>(max));
	union {
		char buf[CMSG_SPACE(sizeof(int) * VPIO_CTRL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { buf.data(), buf.size() };
	struct msghdr msg;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	ssize_t n;
	do
		n = recvmsg(static_cast<int>(fd), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return Neg(env, errno);
	Napi::Array fds = Napi::Array::New(env);
	uint32_t k = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			int f;
			memcpy(&f, p + i * sizeof(int), sizeof(int));
			fds.Set(k++, Napi::Number::New(env, f));
		}
	}
	if (n == 0 && k == 0) {
		/* EOF, or an empty datagram (SOCK_SEQPACKET reads both as 0): only a
		 * hang-up is EOF, or a guest could stop vpiod reading its socket */
		struct pollfd p = { static_cast<int>(fd), POLLIN | POLLRDHUP, 0 };
		if (poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
			return Napi::Number::New(env, 0);
	}
	Napi::Object out = Napi::Object::New(env);
	out.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data(), static_cast<size_t>(n)));
	out.Set("fds", fds);
	out.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0));
	return out;
}

Napi::Value Close(const Napi::CallbackInfo &info)
{
	int64_t fd;
	if (!ArgInt(info, 0, 0, 0x7fffffff, &fd))
		return info.Env().Undefined();
	if (close(static_cast<int>(fd)) < 0)
		return Neg(info.Env(), errno);
	return Napi::Number::New(info.Env(), 0);
}

Napi::Value SetDumpable(const Napi::CallbackInfo &info)
{
	int64_t on;
	if (!ArgInt(info, 0, 0, 1, &on))
		return info.Env().Undefined();
	if (prctl(PR_SET_DUMPABLE, static_cast<unsigned long>(on), 0, 0, 0) < 0)
		return Neg(info.Env(), errno);
	return Napi::Number::New(info.Env(), 0);
}

Napi::Value GetDumpable(const Napi::CallbackInfo &info)
{
	int r = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	return Napi::Number::New(info.Env(), r < 0 ? -errno : r);
}

Napi::Value GetNofile(const Napi::CallbackInfo &info)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return Neg(info.Env(), errno);
	Napi::Object o = Napi::Object::New(info.Env());
	o.Set("soft", Napi::Number::New(info.Env(), static_cast<double>(rl.rlim_cur)));
	o.Set("hard", Napi::Number::New(info.Env(), static_cast<double>(rl.rlim_max)));
	return o;
}

Napi::Value SetNofile(const Napi::CallbackInfo &info)
{
	int64_t soft, hard;
	if (!ArgInt(info, 0, 1, 1 << 30, &soft) || !ArgInt(info, 1, 1, 1 << 30, &hard))
		return info.Env().Undefined();
	struct rlimit rl = { static_cast<rlim_t>(soft), static_cast<rlim_t>(hard) };
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return Neg(info.Env(), errno);
	return Napi::Number::New(info.Env(), 0);
}

// One uv_poll per watched fd. The handle memory is freed in the close
// callback (uv requires it to outlive uv_close). The JS object holds a
// strong self-reference while the poll is active so it cannot be collected
// under an active handle.
class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "FdWatcher", { InstanceMethod<&FdWatcher::Stop>("stop") });
	}

	FdWatcher(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FdWatcher>(info)
	{
		Napi::Env env = info.Env();
		int64_t fd;
		if (!ArgInt(info, 0, 0, 0x7fffffff, &fd))
			return;
		if (info.Length() < 2 || !info[1].IsFunction()) {
			Napi::TypeError::New(env, "FdWatcher(fd, callback)").ThrowAsJavaScriptException();
			return;
		}
		uv_loop_t *loop = nullptr;
		if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
			Napi::Error::New(env, "no uv loop").ThrowAsJavaScriptException();
			return;
		}
		callback_ = Napi::Persistent(info[1].As<Napi::Function>());
		poll_ = new uv_poll_t;
		int err = uv_poll_init(loop, poll_, static_cast<int>(fd));
		if (err == 0) {
			poll_->data = this;
			err = uv_poll_start(poll_, UV_READABLE, OnReadable);
			if (err != 0)
				CloseHandle();
		} else {
			delete poll_;
			poll_ = nullptr;
		}
		if (err != 0) {
			Napi::Error e = Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(err));
			e.Set("errno", Napi::Number::New(env, -err));
			e.ThrowAsJavaScriptException();
			return;
		}
		Ref();
	}

	~FdWatcher() override
	{
		CloseHandle();
	}

private:
	static void OnReadable(uv_poll_t *h, int status, int)
	{
		FdWatcher *self = static_cast<FdWatcher *>(h->data);
		if (self == nullptr || self->callback_.IsEmpty())
			return;
		Napi::Env env = self->callback_.Env();
		Napi::HandleScope scope(env);
		// Called from libuv, outside any JS frame: MakeCallback runs the
		// microtask queue afterwards and reports a throw as uncaught.
		self->callback_.MakeCallback(env.Global(), { Napi::Number::New(env, status) });
	}

	void CloseHandle()
	{
		if (poll_ == nullptr)
			return;
		poll_->data = nullptr;
		uv_poll_stop(poll_);
		uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
		poll_ = nullptr;
	}

	Napi::Value Stop(const Napi::CallbackInfo &info)
	{
		if (poll_ != nullptr) {
			CloseHandle();
			Unref();
		}
		return info.Env().Undefined();
	}

	uv_poll_t *poll_ = nullptr;
	Napi::FunctionReference callback_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
	exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
	exports.Set("socketpair", Napi::Function::New(env, SocketPair));
	exports.Set("setNonblock", Napi::Function::New(env, SetNonblock));
	exports.Set("sendmsg", Napi::Function::New(env, SendMsg));
	exports.Set("recvmsg", Napi::Function::New(env, RecvMsg));
	exports.Set("close", Napi::Function::New(env, Close));
	exports.Set("setDumpable", Napi::Function::New(env, SetDumpable));
	exports.Set("getDumpable", Napi::Function::New(env, GetDumpable));
	exports.Set("getNofile", Napi::Function::New(env, GetNofile));
	exports.Set("setNofile", Napi::Function::New(env, SetNofile));
	exports.Set("FdWatcher", FdWatcher::Define(env));
	return exports;
}

} // namespace

NODE_API_MODULE(vpio_domain, Init)
