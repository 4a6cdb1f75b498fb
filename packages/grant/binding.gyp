{
  "targets": [
    {
      "target_name": "vpio_grant",
      "sources": ["binding/grant_addon.cc", "binding/region.cc", "csrc/grant_host_map.c", "csrc/grant_host_share.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include", "../ring/include"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    },
    {
      "target_name": "vpio_grant_xen",
      "sources": ["binding/grant_xen_addon.cc", "binding/region.cc", "csrc/grant_xen_share.c", "csrc/grant_xen_map.c", "csrc/grant_xen_log.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include", "../ring/include"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"],
      "libraries": ["-lxengnttab"]
    }
  ]
}
