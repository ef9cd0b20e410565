// Mock-response plugin in C++ written directly against the proxy-wasm ABI 0.2.1 (no SDK).
// Contract: shared/SPEC.md section 1 and plugins/README.md. Several plugin configurations may share a
// VM (filters with the same vm_id): each root context has its own, and each request uses its root's.
#include <cstdlib>
#include <unordered_map>

#include "abi.h"
#include "config.h"

namespace {

std::unordered_map<uint32_t, Config> g_configs;     // root context id -> its configuration
std::unordered_map<uint32_t, const Config*> g_http;  // HTTP context id -> its root's configuration
std::unordered_map<uint32_t, const std::string*> g_waiting;  // body mode: context -> content, body coming
uint64_t g_requests = 0;                             // requests seen by this VM, for crash_every

void log(LogLevel level, std::string_view msg) { proxy_log(level, msg.data(), msg.size()); }

// A value the host allocated in our memory (through proxy_on_memory_allocate); freed with the object.
struct HostString {
  char* data = nullptr;
  size_t size = 0;
  HostString() = default;
  HostString(const HostString&) = delete;
  ~HostString() { free(data); }
  std::string_view view() const { return {data, size}; }
};

// The content of the first matching rule, else the global content, else nullptr (do nothing).
// route_name and :authority are fetched from the host only when a rule needs them.
const std::string* matched_content(const Config& config) {
  HostString route, authority;
  bool have_route = false, have_authority = false;
  for (const Rule& rule : config.rules) {
    if (rule.by_route) {
      if (!have_route) {
        have_route = true;
        // Stock Envoy (1.40) knows the path ["xds", "route_name"] (segments joined by NUL); the
        // top-level "route_name" of the Higress docs is NOT_FOUND there, so it is only the fallback.
        if (proxy_get_property("xds\0route_name", 14, &route.data, &route.size) != kOk)
          proxy_get_property("route_name", 10, &route.data, &route.size);
      }
      for (const std::string& name : rule.patterns)
        if (name == route.view()) return &rule.content;
    } else {
      if (!have_authority) {
        have_authority = true;
        proxy_get_header_map_value(kRequestHeaders, ":authority", 10, &authority.data, &authority.size);
      }
      std::string_view host = strip_port(authority.view());
      for (const std::string& pattern : rule.patterns)
        if (host_matches(pattern, host)) return &rule.content;
    }
  }
  return config.has_global ? &config.global_content : nullptr;
}

// The reference workload: add x-bench-<i> = v<i>, read each back (a mismatch traps), remove each. The
// names and values were built once at configure (Config::bench_headers).
void header_workload(const Config& config) {
  for (const auto& [key, value] : config.bench_headers)
    proxy_add_header_map_value(kRequestHeaders, key.data(), key.size(), value.data(), value.size());
  for (const auto& [key, value] : config.bench_headers) {
    HostString got;
    proxy_get_header_map_value(kRequestHeaders, key.data(), key.size(), &got.data, &got.size);
    if (got.view() != value) __builtin_trap();
  }
  for (const auto& [key, value] : config.bench_headers)
    proxy_remove_header_map_value(kRequestHeaders, key.data(), key.size());
}

}  // namespace

PROXY_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1() {}

PROXY_EXPORT(proxy_on_memory_allocate) void* proxy_on_memory_allocate(size_t size) { return malloc(size); }

PROXY_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t context, uint32_t root) {
  if (root == 0) {
    g_configs[context];  // a root context: configured by proxy_on_configure
  } else {
    g_http[context] = &g_configs[root];
  }
}

PROXY_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t, size_t) { return 1; }

PROXY_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, size_t size) {
  HostString text;
  if (size > 0) proxy_get_buffer_bytes(kPluginConfiguration, 0, size, &text.data, &text.size);
  Config config;
  std::string error;
  if (!parse_config(text.view(), config, error)) {
    log(kError, "mock-response: invalid configuration: " + error);
    return 0;
  }
  g_configs[root] = std::move(config);
  return 1;
}

PROXY_EXPORT(proxy_on_request_headers)
Action proxy_on_request_headers(uint32_t context, size_t, uint32_t end_of_stream) {
  auto it = g_http.find(context);
  if (it == g_http.end()) return kContinue;  // not created through proxy_on_context_create
  const Config& config = *it->second;
  ++g_requests;
  if (config.crash_every > 0 && g_requests % config.crash_every == 0) __builtin_trap();
  if (config.spin > 0 && spin_hash(config.spin) == 0) log(kInfo, "mock-response: spin result was zero");

  const std::string* content = matched_content(config);
  if (!content) return kContinue;
  if (config.headers_mode) {
    header_workload(config);
    return kContinue;
  }
  if (config.body_mode && !end_of_stream) {
    g_waiting[context] = content;
    return kPause;
  }
  if (config.body_mode) {
    std::string reply = body_reply(*content, "");
    proxy_send_local_response(200, "", 0, reply.data(), reply.size(), "", 0, -1);
    return kPause;
  }
  proxy_send_local_response(200, "", 0, content->data(), content->size(), "", 0, -1);
  return kPause;
}

// Body mode: buffer (Pause = StopIterationAndBuffer) until the end of the body, then answer.
PROXY_EXPORT(proxy_on_request_body)
Action proxy_on_request_body(uint32_t context, size_t body_size, uint32_t end_of_stream) {
  auto it = g_waiting.find(context);
  if (it == g_waiting.end()) return kContinue;
  if (!end_of_stream) return kPause;
  HostString body;
  if (body_size > 0) proxy_get_buffer_bytes(kRequestBody, 0, body_size, &body.data, &body.size);
  std::string reply = body_reply(*it->second, body.view());
  g_waiting.erase(it);
  proxy_send_local_response(200, "", 0, reply.data(), reply.size(), "", 0, -1);
  return kPause;
}

PROXY_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t) { return 1; }

PROXY_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t context) {
  g_waiting.erase(context);
  if (g_http.erase(context) == 0) g_configs.erase(context);
}
