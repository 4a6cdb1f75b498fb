// SPDX-License-Identifier: MIT
//
// region.h - what both addons of @vpio/grant share (vpio_grant, the host
// driver; vpio_grant_xen, the xen driver): argument checks and Region, a
// mapping exposed to JS as an external ArrayBuffer, with the descriptor
// behind it (host; -1 for xen) and the driver's unmap function.
//
//   Region  .fd (-1 once closed), .buffer (undefined once unmapped),
//           .closeFd(), .unmap() -> 0 or -errno
//
// Memory safety of the external ArrayBuffer: unmap() marks the mapping gone,
// unmaps it and detaches the ArrayBuffer in one JS turn, so no view can
// reach unmapped memory (detached views have length 0). A Region garbage
// collected without unmap() leaves the mapping to the ArrayBuffer's
// finalizer, which unmaps when no view can reach it any more; its
// descriptor is closed by the Region's destructor.

#ifndef VPIO_GRANT_BINDING_REGION_H
#define VPIO_GRANT_BINDING_REGION_H

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "vpio/grant.h"

namespace vpio_grant {

// Unmaps m (driver-specific): 0 and m->addr = NULL, or -errno.
using UnmapFn = int (*)(struct vgnt_map *m);

// Throws a TypeError with code ERR_ARGUMENT.
void ThrowArg(Napi::Env env, const std::string &msg);
// An integer in [min, max], else throws ERR_ARGUMENT and returns false.
bool GetInt(Napi::Env env, Napi::Value v, const char *name, double min, double max, int64_t *out);
bool GetBool(Napi::Env env, Napi::Value v, const char *name, bool *out);

// The mapping behind an external ArrayBuffer. Owned by the ArrayBuffer's
// finalizer, which deletes it (and unmaps if Region::unmap() did not).
struct MapState {
	struct vgnt_map m; // m.addr == NULL once unmapped
	UnmapFn unmap;
};

class Region : public Napi::ObjectWrap<Region> {
public:
	static Napi::Function Define(Napi::Env env);

	explicit Region(const Napi::CallbackInfo &info);
	~Region() override;

	// Takes ownership of fd (may be -1) and of the mapping [addr, addr+bytes),
	// released with `unmap`.
	void Adopt(Napi::Env env, int fd, void *addr, size_t bytes, UnmapFn unmap);

private:
	Napi::Value Fd(const Napi::CallbackInfo &info);
	Napi::Value Buffer(const Napi::CallbackInfo &info);
	Napi::Value CloseFd(const Napi::CallbackInfo &info);
	Napi::Value Unmap(const Napi::CallbackInfo &info);

	int fd_ = -1;
	MapState *state_ = nullptr;
	Napi::Reference<Napi::ArrayBuffer> ab_;
};

} // namespace vpio_grant

#endif // VPIO_GRANT_BINDING_REGION_H
