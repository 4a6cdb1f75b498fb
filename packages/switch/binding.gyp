{
  "targets": [
    {
      "target_name": "vpio_switch",
      "sources": [
        "binding/switch_addon.cc",
        "csrc/capture.c",
        "csrc/evtchn_ops.c",
        "csrc/fwd.c",
        "csrc/group.c",
        "csrc/learn.c",
        "csrc/lease.c",
        "csrc/policy.c",
        "csrc/port.c",
        "csrc/stats.c",
        "csrc/switch.c",
        "csrc/worker.c",
        "../evtchn/csrc/evtchn_host.c",
        "../evtchn/csrc/evtchn_xen_fd.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include",
        "csrc",
        "../ring/include",
        "../evtchn/include"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17"],
      "libraries": ["-lpthread"]
    }
  ]
}
