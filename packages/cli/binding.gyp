{
  "targets": [
    {
      "target_name": "vpio_cli",
      "sources": ["binding/cli_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
