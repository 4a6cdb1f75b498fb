// SPDX-License-Identifier: MIT
//
// grant_xen_addon.cc - the N-API glue of @vpio/grant's xen driver
// (vpio_grant_xen.node, linked with libxengnttab). A separate addon so host
// mode never loads a Xen library: src/xen-driver.ts requires it only when
// the xen driver is asked for, after checking the device nodes exist.
// Control plane only: one call per region.
//
//   pageSize                    VGNT_XEN_PAGE_BYTES (4096)
//   share(domid, npages, rw)    vgnt_xen_share(): { region, refs } with
//                               region a Region (fd -1; its unmap() ends the
//                               grants: vgnt_xen_unshare) and refs the grant
//                               refs in page order, or a negative errno
//   mapRefs(domid, refs, rw)    vgnt_xen_map_refs(): a Region (fd -1; unmap()
//                               = vgnt_xen_unmap), or -errno
//   Region                      as in region.h
//
// Arguments are checked here as the last line (code ERR_ARGUMENT); the TS
// layer validates first. No globals: the Region constructor lives in
// per-instance addon data.

#include <napi.h>

#include <cstdint>
#include <vector>

#include "region.h"
#include "vpio/grant_xen.h"

namespace {

using vpio_grant::GetBool;
using vpio_grant::GetInt;
using vpio_grant::Region;

int Unshare(struct vgnt_map *m)
{
	int rc = vgnt_xen_unshare(m->addr, static_cast<uint32_t>(m->bytes / VGNT_XEN_PAGE_BYTES));
	if (rc == 0)
		m->addr = nullptr;
	return rc;
}

class GrantXenAddon : public Napi::Addon<GrantXenAddon> {
public:
	GrantXenAddon(Napi::Env env, Napi::Object exports)
	{
		Napi::Function region = Region::Define(env);
		region_ctor_ = Napi::Persistent(region);
		DefineAddon(exports, {
					     InstanceMethod("share", &GrantXenAddon::Share),
					     InstanceMethod("mapRefs", &GrantXenAddon::MapRefs),
					     InstanceValue("pageSize", Napi::Number::New(env, VGNT_XEN_PAGE_BYTES),
							   napi_enumerable),
					     InstanceValue("Region", region, napi_enumerable),
				     });
	}

private:
	Napi::Value NewRegion(Napi::Env env, void *addr, size_t bytes, vpio_grant::UnmapFn unmap)
	{
		Napi::Object obj = region_ctor_.New({});
		if (env.IsExceptionPending())
			return env.Undefined();
		Region::Unwrap(obj)->Adopt(env, -1, addr, bytes, unmap);
		return obj;
	}

	// share(domid, npages, rw) -> { region, refs } | -errno
	Napi::Value Share(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t domid, npages;
		bool rw;
		void *addr = nullptr;

		if (!GetInt(env, info[0], "domid", 0, 0x7fef, &domid) ||
		    !GetInt(env, info[1], "npages", 1, VGNT_XEN_MAX_PAGES, &npages) || !GetBool(env, info[2], "rw", &rw))
			return env.Undefined();
		std::vector<uint32_t> refs(static_cast<size_t>(npages));
		int rc = vgnt_xen_share(static_cast<uint32_t>(domid), static_cast<uint32_t>(npages),
					rw ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, refs.data(), &addr);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		size_t bytes = static_cast<size_t>(npages) * VGNT_XEN_PAGE_BYTES;
		Napi::Value region = NewRegion(env, addr, bytes, Unshare);
		if (env.IsExceptionPending()) {
			vgnt_xen_unshare(addr, static_cast<uint32_t>(npages));
			return env.Undefined();
		}
		Napi::Array arr = Napi::Array::New(env, refs.size());
		for (size_t i = 0; i < refs.size(); i++)
			arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, refs[i]));
		Napi::Object out = Napi::Object::New(env);
		out.Set("region", region);
		out.Set("refs", arr);
		return out;
	}

	// mapRefs(domid, refs, rw) -> Region | -errno
	Napi::Value MapRefs(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int64_t domid;
		bool rw;
		struct vgnt_map m;

		if (!GetInt(env, info[0], "domid", 0, 0x7fef, &domid))
			return env.Undefined();
		if (!info[1].IsArray()) {
			vpio_grant::ThrowArg(env, "refs: expected an array of grant refs");
			return env.Undefined();
		}
		Napi::Array arr = info[1].As<Napi::Array>();
		if (arr.Length() == 0 || arr.Length() > VGNT_XEN_MAX_PAGES) {
			vpio_grant::ThrowArg(env, "refs: expected 1 to 2^20 grant refs");
			return env.Undefined();
		}
		if (!GetBool(env, info[2], "rw", &rw))
			return env.Undefined();
		std::vector<uint32_t> refs(arr.Length());
		for (uint32_t i = 0; i < arr.Length(); i++) {
			int64_t r;
			if (!GetInt(env, arr.Get(i), "refs[i]", 0, 4294967295.0, &r))
				return env.Undefined();
			refs[i] = static_cast<uint32_t>(r);
		}
		int rc = vgnt_xen_map_refs(static_cast<uint32_t>(domid), refs.data(), static_cast<uint32_t>(refs.size()),
					   rw ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &m);
		if (rc < 0)
			return Napi::Number::New(env, rc);
		Napi::Value region = NewRegion(env, m.addr, m.bytes, vgnt_xen_unmap);
		if (env.IsExceptionPending())
			vgnt_xen_unmap(&m);
		return region;
	}

	Napi::FunctionReference region_ctor_;
};

} // namespace

NODE_API_ADDON(GrantXenAddon)
