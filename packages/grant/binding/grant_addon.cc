// SPDX-License-Identifier: MIT
//
// grant_addon.cc - the N-API glue of @vpio/grant (host driver). Control
// plane only: one call per grant, map or unmap.
//
//   pageSize                  the system page size
//   share(bytes, rw)          vgnt_host_share(): a Region with fd and the
//                             owner's mapping, or a negative errno
//   map(fd, bytes, rw)        vgnt_host_map(): a Region without fd (the
//                             caller's descriptor is borrowed), or -errno
//   verify(fd, bytes, rw)     vgnt_host_verify(): 0 or -errno
//   seals(fd)                 vgnt_host_seals(): seal bits or -errno
//   Region                    .fd (-1 once closed), .buffer (an external
//                             ArrayBuffer over the mapping; undefined once
//                             unmapped), .closeFd(), .unmap() -> 0 or -errno
//
// Memory safety of the external ArrayBuffer: unmap() marks the mapping gone,
// munmaps it and detaches the ArrayBuffer in one JS turn, so no view can
// reach unmapped memory (detached views have length 0). A Region garbage
// collected without unmap() leaves the mapping to the ArrayBuffer's
// finalizer, which unmaps when no view can reach it any more; its
// descriptor is closed by the Region's destructor. No globals: the Region
// constructor lives in per-instance addon data.
//
// Arguments are checked here as the last line (code ERR_ARGUMENT); the TS
// layer (src/) validates first and throws the errors users see.

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <unistd.h>

#include "vpio/grant.h"
#include "vpio/grant_share.h"

namespace {

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

// The mapping behind an external ArrayBuffer. Owned by the ArrayBuffer's
// finalizer, which deletes it (and unmaps if Region::unmap() did not).
struct MapState {
	struct vgnt_map m; // m.addr == NULL once unmapped
};

void FinalizeMapping(Napi::Env, void *, MapState *s)
{
	vgnt_host_unmap(&s->m);
	delete s;
}

class Region : public Napi::ObjectWrap<Region> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Region",
				   {
					   InstanceAccessor("fd", &Region::Fd, nullptr),
					   InstanceAccessor("buffer", &Region::Buffer, nullptr),
					   InstanceMethod("closeFd", &Region::CloseFd),
					   InstanceMethod("unmap", &Region::Unmap),
				   });
	}

	explicit Region(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Region>(info) {}

	~Region() override
	{
		if (fd_ >= 0)
			close(fd_);
	}

	// Takes ownership of fd (may be -1) and of the mapping [addr, addr+bytes).
	void Adopt(Napi::Env env, int fd, void *addr, size_t bytes)
	{
		fd_ = fd;
		state_ = new MapState{{addr, bytes, VGNT_ACCESS_RW}};
		Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, addr, bytes, FinalizeMapping, state_);
		ab_ = Napi::Persistent(ab);
	}

private:
	Napi::Value Fd(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), fd_);
	}

	Napi::Value Buffer(const Napi::CallbackInfo &info)
	{
		if (state_ == nullptr)
			return info.Env().Undefined();
		return ab_.Value();
	}

	Napi::Value CloseFd(const Napi::CallbackInfo &info)
	{
		int rc = 0;

		if (fd_ >= 0) {
			rc = close(fd_) < 0 && errno != EINTR ? -errno : 0;
			fd_ = -1; // Linux releases the descriptor even on error
		}
		return Napi::Number::New(info.Env(), rc);
	}

	Napi::Value Unmap(const Napi::CallbackInfo &info)
	{
		if (state_ == nullptr)
			return Napi::Number::New(info.Env(), 0);
		MapState *s = state_;
		Napi::ArrayBuffer ab = ab_.Value();
		int rc = vgnt_host_unmap(&s->m);
		if (rc < 0)
			return Napi::Number::New(info.Env(), rc);
		state_ = nullptr; // the finalizer owns s from here on
		ab.Detach();
		ab_.Reset();
		return Napi::Number::New(info.Env(), 0);
	}

	int fd_ = -1;
	MapState *state_ = nullptr;
	Napi::Reference<Napi::ArrayBuffer> ab_;
};

class GrantAddon : public Napi::Addon<GrantAddon> {
public:
	GrantAddon(Napi::Env env, Napi::Object exports)
	{
		Napi::Function region = Region::Define(env);
		region_ctor_ = Napi::Persistent(region);
		long page = sysconf(_SC_PAGESIZE);
		DefineAddon(exports, {
					     InstanceMethod("share", &GrantAddon::Share),
					     InstanceMethod("map", &GrantAddon::Map),
					     InstanceMethod("verify", &GrantAddon::Verify),
					     InstanceMethod("seals", &GrantAddon::Seals),
					     InstanceValue("pageSize", Napi::Number::New(env, static_cast<double>(page)),
							   napi_enumerable),
					     InstanceValue("Region", region, napi_enumerable),
				     });
	}

private:
	Napi::Value NewRegion(Napi::Env env, int fd, void *addr, size_t bytes)
	{
		Napi::Object obj = region_ctor_.New({});
		if (env.IsExceptionPending())
			return env.Undefined();
		Region::Unwrap(obj)->Adopt(env, fd, addr, bytes);
		return obj;
	}

	// share(bytes, rw) -> Region | -errno
	Napi::Value Share(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t bytes;
		bool rw;
		struct vgnt_region r;

		if (!GetInt(env, info[0], "bytes", 1, 9007199254740991.0, &bytes) || !GetBool(env, info[1], "rw", &rw))
			return env.Undefined();
		int rc = vgnt_host_share(static_cast<size_t>(bytes), rw ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &r);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		return NewRegion(env, r.fd, r.addr, r.bytes);
	}

	// map(fd, bytes, rw) -> Region | -errno
	Napi::Value Map(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t fd, bytes;
		bool rw;
		struct vgnt_map m;

		if (!GetInt(env, info[0], "fd", -1, INT32_MAX, &fd) ||
		    !GetInt(env, info[1], "bytes", 1, 9007199254740991.0, &bytes) || !GetBool(env, info[2], "rw", &rw))
			return env.Undefined();
		int rc = vgnt_host_map(static_cast<int>(fd), static_cast<size_t>(bytes),
				       rw ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &m);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		return NewRegion(env, -1, m.addr, m.bytes);
	}

	// verify(fd, bytes, rw) -> 0 | -errno
	Napi::Value Verify(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t fd, bytes;
		bool rw;

		if (!GetInt(env, info[0], "fd", -1, INT32_MAX, &fd) ||
		    !GetInt(env, info[1], "bytes", 1, 9007199254740991.0, &bytes) || !GetBool(env, info[2], "rw", &rw))
			return env.Undefined();
		return Napi::Number::New(env, vgnt_host_verify(static_cast<int>(fd), static_cast<size_t>(bytes),
							       rw ? VGNT_ACCESS_RW : VGNT_ACCESS_RO));
	}

	// seals(fd) -> seal bits | -errno
	Napi::Value Seals(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t fd;

		if (!GetInt(env, info[0], "fd", -1, INT32_MAX, &fd))
			return env.Undefined();
		return Napi::Number::New(env, vgnt_host_seals(static_cast<int>(fd)));
	}

	Napi::FunctionReference region_ctor_;
};

} // namespace

NODE_API_ADDON(GrantAddon)
