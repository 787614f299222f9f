# The kernel bridge (see src/bridge.h). Plain C against node_api.h; libbpf, libelf and zlib
# come from pkg-config. Build: `npx node-gyp rebuild` here, or `npm run build:native` at the top.
{
  "targets": [
    {
      "target_name": "vigil_bridge",
      "sources": [
        "src/addon.c",
        "src/errors.c",
        "src/log.c",
        "src/object.c",
        "src/maps.c",
        "src/ring.c",
        "src/drain.c",
        "src/sys.c",
        "src/fanotify.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags!": ["-O3"],
      "cflags": [
        "-O2",
        "-std=gnu11",
        "-fvisibility=hidden",
        "<!@(pkg-config --cflags libbpf libelf zlib)"
      ],
      "libraries": ["-lpthread","<!@(pkg-config --libs libbpf libelf zlib)"]
    }
  ]
}
