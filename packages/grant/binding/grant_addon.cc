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
// Region (fd + external ArrayBuffer, its memory safety) lives in region.h,
// shared with the xen driver's addon (grant_xen_addon.cc). No globals: the
// Region constructor lives in per-instance addon data.
//
// Arguments are checked here as the last line (code ERR_ARGUMENT); the TS
// layer (src/) validates first and throws the errors users see.

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <unistd.h>

#include "region.h"
#include "vpio/grant.h"
#include "vpio/grant_share.h"

namespace {

using vpio_grant::GetBool;
using vpio_grant::GetInt;
using vpio_grant::Region;

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
		Region::Unwrap(obj)->Adopt(env, fd, addr, bytes, vgnt_host_unmap);
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
