{
  "targets": [
    {
      "target_name": "svr_native",
      "sources": ["tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"sources!": ["tun.c"], "sources": ["none.c"]}]]
    }
  ]
}
