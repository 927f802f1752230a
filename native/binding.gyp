{
  "targets": [
    {
      "target_name": "svr_tun",
      "sources": ["tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"sources!": ["tun.c"], "sources": ["none.c"]}]]
    }
  ]
}
