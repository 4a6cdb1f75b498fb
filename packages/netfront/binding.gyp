{
  "targets": [
    {
      "target_name": "vpio_netfront",
      "sources": [
        "binding/netfront_addon.cc",
        "csrc/nf_parse.c",
        "csrc/nf_handshake.c",
        "csrc/nf_data.c",
        "csrc/host_broker.c",
        "../xenstore/csrc/xs_client.c",
        "../xenstore/csrc/xs_transport_fd.c",
        "../guest/csrc/guest.c",
        "../guest/csrc/guest_call.c",
        "../guest/csrc/guest_grant.c",
        "../guest/csrc/guest_evtchn.c",
        "../grant/csrc/grant_host_map.c",
        "../grant/csrc/grant_host_share.c",
        "../evtchn/csrc/evtchn_host.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include",
        "../ring/include",
        "../xenstore/include",
        "../grant/include",
        "../evtchn/include",
        "../vif/include",
        "../guest/include"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=c++17"]
    }
  ]
}
