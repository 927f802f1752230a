/* Not Linux: the TUN driver does not exist here. The module loads and says so. */
#include <node_api.h>

static napi_value Init(napi_env env, napi_value exports) {
  napi_value v;
  napi_get_boolean(env, 0, &v);
  napi_set_named_property(env, exports, "supported", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
