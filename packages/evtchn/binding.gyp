{
  "targets": [
    {
      "target_name": "vpio_evtchn",
      "sources": ["binding/evtchn_addon.cc", "csrc/evtchn_host.c", "csrc/evtchn_host_pair.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include", "../ring/include"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    },
    {
      "target_name": "vpio_evtchn_xen",
      "sources": ["binding/evtchn_xen_addon.cc", "csrc/evtchn_xen.c", "csrc/evtchn_xen_fd.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include", "../ring/include"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"],
      "libraries": ["-lxenevtchn"]
    }
  ]
}
