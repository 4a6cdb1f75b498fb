// SPDX-License-Identifier: MIT
//
// region.cc - Region and the argument checks shared by @vpio/grant's two
// addons (see region.h).

#include "region.h"

#include <cerrno>
#include <unistd.h>

namespace vpio_grant {

void ThrowArg(Napi::Env env, const std::string &msg)
{
	Napi::Error err = Napi::TypeError::New(env, msg);
	err.Set("code", Napi::String::New(env, "ERR_ARGUMENT"));
	err.ThrowAsJavaScriptException();
}

bool GetInt(Napi::Env env, Napi::Value v, const char *name, double min, double max, int64_t *out)
{
	if (!v.IsNumber()) {
		ThrowArg(env, std::string(name) + ": expected an integer");
		return false;
	}
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<int64_t>(d))) {
		ThrowArg(env, std::string(name) + ": integer out of range");
		return false;
	}
	*out = static_cast<int64_t>(d);
	return true;
}

bool GetBool(Napi::Env env, Napi::Value v, const char *name, bool *out)
{
	if (!v.IsBoolean()) {
		ThrowArg(env, std::string(name) + ": expected a boolean");
		return false;
	}
	*out = v.As<Napi::Boolean>().Value();
	return true;
}

namespace {

void FinalizeMapping(Napi::Env, void *, MapState *s)
{
	s->unmap(&s->m);
	delete s;
}

} // namespace

Napi::Function Region::Define(Napi::Env env)
{
	return DefineClass(env, "Region",
			   {
				   InstanceAccessor("fd", &Region::Fd, nullptr),
				   InstanceAccessor("buffer", &Region::Buffer, nullptr),
				   InstanceMethod("closeFd", &Region::CloseFd),
				   InstanceMethod("unmap", &Region::Unmap),
			   });
}

Region::Region(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Region>(info) {}

Region::~Region()
{
	if (fd_ >= 0)
		close(fd_);
}

void Region::Adopt(Napi::Env env, int fd, void *addr, size_t bytes, UnmapFn unmap)
{
	fd_ = fd;
	state_ = new MapState{{addr, bytes, VGNT_ACCESS_RW}, unmap};
	Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, addr, bytes, FinalizeMapping, state_);
	ab_ = Napi::Persistent(ab);
}

Napi::Value Region::Fd(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), fd_);
}

Napi::Value Region::Buffer(const Napi::CallbackInfo &info)
{
	if (state_ == nullptr)
		return info.Env().Undefined();
	return ab_.Value();
}

Napi::Value Region::CloseFd(const Napi::CallbackInfo &info)
{
	int rc = 0;

	if (fd_ >= 0) {
		rc = close(fd_) < 0 && errno != EINTR ? -errno : 0;
		fd_ = -1; // Linux releases the descriptor even on error
	}
	return Napi::Number::New(info.Env(), rc);
}

Napi::Value Region::Unmap(const Napi::CallbackInfo &info)
{
	if (state_ == nullptr)
		return Napi::Number::New(info.Env(), 0);
	MapState *s = state_;
	Napi::ArrayBuffer ab = ab_.Value();
	int rc = s->unmap(&s->m);
	if (rc < 0)
		return Napi::Number::New(info.Env(), rc);
	state_ = nullptr; // the finalizer owns s from here on
	ab.Detach();
	ab_.Reset();
	return Napi::Number::New(info.Env(), 0);
}

} // namespace vpio_grant
