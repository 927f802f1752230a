/*
 * svr's native helper: TUN devices, read in batches when libuv says they are readable and
 * written with an optional virtio-net header (offloads), and HMAC with prepared OpenSSL digest
 * states (node's own OpenSSL). Only system calls and hashing live here; all protocol work stays
 * in TypeScript (src/drivers/linux/, src/crypto/hmac.ts). See docs/linux.md for why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

/* Not in every libc's linux/if_tun.h yet (Linux 6.2). */
#define SVR_TUN_F_USO4 0x20
#define SVR_TUN_F_USO6 0x40

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "svr_tun: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

static int32_t arg_int(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type t;
  void *p;
  size_t n, off;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &t, &n, &p, &ab, &off) != napi_ok || t != napi_uint8_array) return -1;
  *data = (uint8_t *)p;
  *len = n;
  return 0;
}

/* open(name, vnetHdr, offloads) -> fd: a TUN device (IFF_TUN | IFF_NO_PI), non-blocking. */
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  size_t nlen = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &nlen) != napi_ok || nlen == 0) {
    napi_throw_type_error(env, NULL, "tun name must be a non-empty string");
    return NULL;
  }
  bool vnet = false, offload = false;
  napi_get_value_bool(env, argv[1], &vnet);
  napi_get_value_bool(env, argv[2], &offload);
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return int_value(env, -errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, nlen < IFNAMSIZ - 1 ? nlen : IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return int_value(env, -e);
  }
  if (vnet && offload) {
    /* Checksum and TCP segmentation offload: the kernel hands us (and takes) 64 KB TCP super-packets. */
    unsigned int flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    /* UDP segmentation offload (Linux 6.2): UDP super-packets too; older kernels refuse it. */
    if (ioctl(fd, TUNSETOFFLOAD, flags | SVR_TUN_F_USO4 | SVR_TUN_F_USO6) == 0) return int_value(env, fd);
    if (ioctl(fd, TUNSETOFFLOAD, flags) < 0) {
      int e = errno;
      close(fd);
      return int_value(env, -e);
    }
  }
  return int_value(env, fd);
}

/*
 * read(fd, buffers, offset, max, lengths) -> count | -errno: reads up to `max` packets, packet i
 * into buffers[i] at `offset`, its length into lengths[i]; stops early when the device is empty.
 */
static napi_value tun_read(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd = arg_int(env, argv[0]);
  int32_t offset = arg_int(env, argv[2]);
  int32_t max = arg_int(env, argv[3]);
  napi_typedarray_type t;
  size_t nlen, off;
  void *lp;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[4], &t, &nlen, &lp, &ab, &off));
  if (t != napi_int32_array || (int32_t)nlen < max) {
    napi_throw_type_error(env, NULL, "lengths must be an Int32Array of at least max entries");
    return NULL;
  }
  int32_t *lengths = (int32_t *)lp;
  int32_t count = 0;
  for (; count < max; count++) {
    napi_value b;
    uint8_t *data;
    size_t len;
    CHECK(napi_get_element(env, argv[1], (uint32_t)count, &b));
    if (bytes_of(env, b, &data, &len) != 0 || (size_t)offset >= len) {
      napi_throw_type_error(env, NULL, "buffers must be Uint8Arrays longer than offset");
      return NULL;
    }
    ssize_t n = read(fd, data + offset, len - (size_t)offset);
    if (n < 0) {
      if (errno == EINTR) {
        count--;
        continue;
      }
      if (errno == EAGAIN || count > 0) break;
      return int_value(env, -errno);
    }
    lengths[count] = (int32_t)n;
  }
  return int_value(env, count);
}

/* write(fd, buffer, start, end, header?) -> bytes | -errno; header (virtio-net) goes first. */
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd = arg_int(env, argv[0]);
  uint8_t *data;
  size_t len;
  if (bytes_of(env, argv[1], &data, &len) != 0) {
    napi_throw_type_error(env, NULL, "buffer must be a Uint8Array");
    return NULL;
  }
  int32_t start = arg_int(env, argv[2]);
  int32_t end = arg_int(env, argv[3]);
  if (start < 0 || end < start || (size_t)end > len) {
    napi_throw_range_error(env, NULL, "start/end outside the buffer");
    return NULL;
  }
  struct iovec iov[2];
  int n = 0;
  napi_valuetype ht = napi_undefined;
  if (argc > 4) napi_typeof(env, argv[4], &ht);
  if (ht == napi_object) {
    uint8_t *h;
    size_t hl;
    if (bytes_of(env, argv[4], &h, &hl) != 0) {
      napi_throw_type_error(env, NULL, "header must be a Uint8Array");
      return NULL;
    }
    iov[n].iov_base = h;
    iov[n++].iov_len = hl;
  }
  iov[n].iov_base = data + start;
  iov[n++].iov_len = (size_t)(end - start);
  ssize_t w;
  do w = writev(fd, iov, n);
  while (w < 0 && errno == EINTR);
  return int_value(env, w < 0 ? -errno : w);
}

static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  close(arg_int(env, argv[0]));
  return NULL;
}

/* A libuv poll on one fd that calls a JS function whenever the fd is readable. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int closed;
} watcher_t;

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  watcher_t *w = (watcher_t *)p->data;
  if (w->closed) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, result;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &recv);
  napi_value arg = int_value(env, status);
  /* make_callback runs microtasks afterwards and reports a throw as uncaught, as node does. */
  napi_make_callback(env, w->async, recv, cb, 1, &arg, &result);
  napi_close_handle_scope(env, scope);
}

static void finalize_watcher(napi_env env, void *data, void *hint) {
  /* The JS object is gone; the poll handle is closed by stop() or stays until exit. */
}

/* watch(fd, callback) -> handle; callback(status) runs on every readable event. */
static napi_value tun_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd = arg_int(env, argv[0]);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  w->env = env;
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "svr.tun", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &w->async));
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r == 0) r = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (r != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->async);
    free(w);
    napi_throw_error(env, NULL, uv_strerror(r));
    return NULL;
  }
  w->poll.data = w;
  napi_value handle;
  CHECK(napi_create_external(env, w, finalize_watcher, NULL, &handle));
  return handle;
}

/* unwatch(handle): stop calling back and free the poll. */
static napi_value tun_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  watcher_t *w;
  CHECK(napi_get_value_external(env, argv[0], (void **)&w));
  if (!w || w->closed) return NULL;
  w->closed = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->async);
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return NULL;
}

/*
 * HMAC (RFC 2104) with the key's inner and outer pads hashed once: each signature copies two
 * prepared digest states instead of keying a new context (4.5, D-1, D-2).
 */
typedef struct {
  EVP_MD_CTX *inner, *outer, *work;
  int digest_len;
} hmac_key_t;

static void free_hmac_key(napi_env env, void *data, void *hint) {
  hmac_key_t *k = (hmac_key_t *)data;
  EVP_MD_CTX_free(k->inner);
  EVP_MD_CTX_free(k->outer);
  EVP_MD_CTX_free(k->work);
  free(k);
}

/* hmacKey(sha256: boolean, key: Uint8Array) -> handle */
static napi_value hmac_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool sha256 = true;
  napi_get_value_bool(env, argv[0], &sha256);
  uint8_t *key;
  size_t klen;
  if (bytes_of(env, argv[1], &key, &klen) != 0 || klen > 64) {
    napi_throw_type_error(env, NULL, "key must be a Uint8Array of at most 64 bytes (hash longer keys first)");
    return NULL;
  }
  const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
  uint8_t ipad[64], opad[64];
  for (int i = 0; i < 64; i++) {
    uint8_t kb = (size_t)i < klen ? key[i] : 0;
    ipad[i] = kb ^ 0x36;
    opad[i] = kb ^ 0x5c;
  }
  hmac_key_t *k = calloc(1, sizeof *k);
  if (!k) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  k->inner = EVP_MD_CTX_new();
  k->outer = EVP_MD_CTX_new();
  k->work = EVP_MD_CTX_new();
  k->digest_len = EVP_MD_get_size(md);
  if (!k->inner || !k->outer || !k->work || !EVP_DigestInit_ex(k->inner, md, NULL) ||
      !EVP_DigestUpdate(k->inner, ipad, 64) || !EVP_DigestInit_ex(k->outer, md, NULL) ||
      !EVP_DigestUpdate(k->outer, opad, 64)) {
    free_hmac_key(env, k, NULL);
    napi_throw_error(env, NULL, "OpenSSL digest setup failed");
    return NULL;
  }
  napi_value handle;
  CHECK(napi_create_external(env, k, free_hmac_key, NULL, &handle));
  return handle;
}

/*
 * hmac(handle, data, off, len, windowHi, windowLo, out, outOff, outLen): HMAC of data[off, off+len)
 * followed, when windowHi >= 0, by the 8-byte big-endian time window (D-1); the first outLen
 * bytes go to out[outOff..]. Returns true.
 */
static napi_value hmac_sign(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hmac_key_t *k;
  CHECK(napi_get_value_external(env, argv[0], (void **)&k));
  uint8_t *data, *out;
  size_t dlen, olen;
  if (bytes_of(env, argv[1], &data, &dlen) != 0 || bytes_of(env, argv[6], &out, &olen) != 0) {
    napi_throw_type_error(env, NULL, "data and out must be Uint8Arrays");
    return NULL;
  }
  int32_t off = arg_int(env, argv[2]), len = arg_int(env, argv[3]);
  int32_t hi = arg_int(env, argv[4]), lo = arg_int(env, argv[5]);
  int32_t ooff = arg_int(env, argv[7]), on = arg_int(env, argv[8]);
  if (off < 0 || len < 0 || (size_t)off + (size_t)len > dlen || ooff < 0 || on < 0 || on > k->digest_len ||
      (size_t)ooff + (size_t)on > olen) {
    napi_throw_range_error(env, NULL, "hmac: offsets outside the buffers");
    return NULL;
  }
  uint8_t ih[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX_copy_ex(k->work, k->inner);
  EVP_DigestUpdate(k->work, data + off, (size_t)len);
  if (hi >= 0) {
    uint8_t w[8] = {(uint8_t)(hi >> 24), (uint8_t)(hi >> 16), (uint8_t)(hi >> 8), (uint8_t)hi,
                    (uint8_t)((uint32_t)lo >> 24), (uint8_t)((uint32_t)lo >> 16), (uint8_t)((uint32_t)lo >> 8), (uint8_t)lo};
    EVP_DigestUpdate(k->work, w, 8);
  }
  EVP_DigestFinal_ex(k->work, ih, &n);
  EVP_MD_CTX_copy_ex(k->work, k->outer);
  EVP_DigestUpdate(k->work, ih, n);
  EVP_DigestFinal_ex(k->work, ih, &n);
  memcpy(out + ooff, ih, (size_t)on);
  napi_value t;
  napi_get_boolean(env, 1, &t);
  return t;
}

/* sum16(data, off, len) -> the one's-complement sum of big-endian 16-bit words, folded (RFC 1071). */
static napi_value sum16(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *d;
  size_t dlen;
  if (bytes_of(env, argv[0], &d, &dlen) != 0) {
    napi_throw_type_error(env, NULL, "data must be a Uint8Array");
    return NULL;
  }
  int32_t off = arg_int(env, argv[1]), len = arg_int(env, argv[2]);
  if (off < 0 || len < 0 || (size_t)off + (size_t)len > dlen) {
    napi_throw_range_error(env, NULL, "sum16: outside the buffer");
    return NULL;
  }
  const uint8_t *p = d + off;
  uint64_t acc = 0;
  int32_t i = 0;
  for (; i + 8 <= len; i += 8)
    acc += ((uint32_t)p[i] << 8 | p[i + 1]) + ((uint32_t)p[i + 2] << 8 | p[i + 3]) + ((uint32_t)p[i + 4] << 8 | p[i + 5]) +
           ((uint32_t)p[i + 6] << 8 | p[i + 7]);
  for (; i + 2 <= len; i += 2) acc += (uint32_t)p[i] << 8 | p[i + 1];
  if (i < len) acc += (uint32_t)p[i] << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return int_value(env, (int64_t)acc);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tun_open, NULL, NULL, NULL, napi_default, NULL},
      {"read", NULL, tun_read, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, tun_write, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, tun_watch, NULL, NULL, NULL, napi_default, NULL},
      {"unwatch", NULL, tun_unwatch, NULL, NULL, NULL, napi_default, NULL},
      {"hmacKey", NULL, hmac_key, NULL, NULL, NULL, napi_default, NULL},
      {"hmac", NULL, hmac_sign, NULL, NULL, NULL, napi_default, NULL},
      {"sum16", NULL, sum16, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_get_boolean(env, 1, &v);
  napi_set_named_property(env, exports, "supported", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
