// The plugin's configuration and the pure parts of its behaviour (no host calls), so that a
// host-side unit test (tests/unit.cc) can check them. Semantics: plugins/README.md.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.h"

struct Rule {
  bool by_route = false;               // _match_route_ (route names) or _match_domain_ (host patterns)
  std::vector<std::string> patterns;
  std::string content;
};

struct Config {
  bool headers_mode = false;
  bool body_mode = false;  // mode "body": buffer the request body, answer with body_reply
  uint32_t header_count = 20;
  uint32_t crash_every = 0;
  uint32_t spin = 0;
  bool has_global = false;
  std::string global_content;
  std::vector<Rule> rules;
  // The headers workload's names and values (x-bench-<i>, v<i>), built once here, as a real plugin
  // holds its constant header names: nothing is formatted per request.
  std::vector<std::pair<std::string, std::string>> bench_headers;
};

// Higress stripPortFromHost: cut at the last ':' unless a ']' follows it (IPv6 literal).
inline std::string_view strip_port(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  size_t bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return host;
  return host.substr(0, colon);
}

// "*.example.com": suffix; "api.*": prefix; otherwise exact. Case-sensitive.
inline bool host_matches(std::string_view pattern, std::string_view host) {
  if (!pattern.empty() && pattern.front() == '*') {
    std::string_view rest = pattern.substr(1);
    return host.size() >= rest.size() && host.substr(host.size() - rest.size()) == rest;
  }
  if (!pattern.empty() && pattern.back() == '*') {
    std::string_view rest = pattern.substr(0, pattern.size() - 1);
    return host.substr(0, rest.size()) == rest;
  }
  return pattern == host;
}

// The body mode's reply: content, a newline, "fnv1a32=<8 lowercase hex> len=<bytes>" (FNV-1a, 32 bits).
inline std::string body_reply(std::string_view content, std::string_view body) {
  uint32_t h = 0x811c9dc5u;
  for (unsigned char c : body) h = (h ^ c) * 0x01000193u;
  std::string out(content);
  out += "\nfnv1a32=";
  for (int shift = 28; shift >= 0; shift -= 4) out += "0123456789abcdef"[(h >> shift) & 0xf];
  out += " len=";
  out += std::to_string(body.size());
  return out;
}

// The calibrated CPU work of `spin` (wrapping u64 arithmetic).
inline uint64_t spin_hash(uint32_t rounds) {
  uint64_t x = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < rounds; i++) {
    x = (x ^ i) * 0x100000001b3ull;
    x ^= x >> 32;
  }
  return x;
}

namespace config_detail {

inline bool fail(std::string& error, std::string why) { return error = std::move(why), false; }

// A benchmark integer: plain digits only, at most 2147483647.
inline bool read_count(const json::Value& root, const char* key, uint32_t& out, std::string& error) {
  const json::Value* v = root.get(key);
  if (!v) return true;
  std::string_view t = v->text;
  bool ok = v->type == json::Type::Number && !t.empty() && t.size() <= 10;  // so n cannot overflow
  uint64_t n = 0;
  for (char c : t) {
    if (c < '0' || c > '9') ok = false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || n > 2147483647u)
    return fail(error, std::string("'") + key + "' must be an integer from 0 to 2147483647 written as plain digits");
  out = static_cast<uint32_t>(n);
  return true;
}

inline bool read_content(const json::Value& obj, std::string& out, const std::string& where, std::string& error) {
  const json::Value* v = obj.get("content");
  if (!v) return true;
  if (v->type != json::Type::String) return fail(error, where + "'content' is not a string");
  out = v->text;
  return true;
}

// A match list: absent or empty -> no patterns; anything but an array of strings -> error. Empty
// route names are dropped, as Higress does (`"_match_route_": [""]` counts as empty); empty host
// patterns stay.
inline bool read_match(const json::Value& rule, const char* key, std::vector<std::string>& out,
                       const std::string& where, std::string& error) {
  const json::Value* v = rule.get(key);
  if (!v) return true;
  if (v->type != json::Type::Array) return fail(error, where + "'" + key + "' is not an array of strings");
  bool drop_empty = std::string_view(key) == "_match_route_";
  for (const json::Value& item : v->items) {
    if (item.type != json::Type::String) return fail(error, where + "'" + key + "' is not an array of strings");
    if (!(drop_empty && item.text.empty())) out.push_back(item.text);
  }
  return true;
}

inline bool is_benchmark_key(std::string_view k) {
  return k == "mode" || k == "header_count" || k == "crash_every" || k == "spin";
}

}  // namespace config_detail

// Parses and validates the plugin configuration; on failure returns false with a one-line reason.
inline bool parse_config(std::string_view text, Config& cfg, std::string& error) {
  using namespace config_detail;
  json::Value root;
  if (!json::Parser(text).parse(root, error)) return false;
  if (root.type != json::Type::Object) return fail(error, "the configuration is not a JSON object");

  if (const json::Value* mode = root.get("mode")) {
    if (mode->type != json::Type::String ||
        (mode->text != "mock" && mode->text != "headers" && mode->text != "body"))
      return fail(error, "'mode' must be \"mock\", \"headers\" or \"body\"");
    cfg.headers_mode = mode->text == "headers";
    cfg.body_mode = mode->text == "body";
  }
  if (!read_count(root, "header_count", cfg.header_count, error) ||
      !read_count(root, "crash_every", cfg.crash_every, error) || !read_count(root, "spin", cfg.spin, error) ||
      !read_content(root, cfg.global_content, "", error))
    return false;

  if (cfg.headers_mode)
    for (uint32_t i = 0; i < cfg.header_count; i++)
      cfg.bench_headers.emplace_back("x-bench-" + std::to_string(i), "v" + std::to_string(i));

  const json::Value* rules = root.get("_rules_");
  cfg.has_global = !rules;
  for (const std::string& k : root.keys) cfg.has_global = cfg.has_global || (k != "_rules_" && !is_benchmark_key(k));
  if (!rules) return true;
  if (rules->type != json::Type::Array) return fail(error, "'_rules_' is not an array");

  for (size_t i = 0; i < rules->items.size(); i++) {
    const json::Value& r = rules->items[i];
    std::string where = "_rules_[" + std::to_string(i) + "]: ";
    if (r.type != json::Type::Object) return fail(error, where + "not an object");
    for (const char* k : {"_match_service_", "_match_route_prefix_"})  // Higress match keys not implemented
      if (r.get(k)) return fail(error, where + "has " + k + ", which this plugin does not implement");
    Rule rule;
    std::vector<std::string> routes, domains;
    if (!read_content(r, rule.content, where, error) || !read_match(r, "_match_route_", routes, where, error) ||
        !read_match(r, "_match_domain_", domains, where, error))
      return false;
    if (!routes.empty() && !domains.empty()) return fail(error, where + "has both _match_route_ and _match_domain_");
    if (routes.empty() && domains.empty())
      return fail(error, where + "needs a non-empty _match_route_ or _match_domain_");
    rule.by_route = !routes.empty();
    rule.patterns = rule.by_route ? std::move(routes) : std::move(domains);
    cfg.rules.push_back(std::move(rule));
  }
  if (!cfg.has_global && cfg.rules.empty()) return fail(error, "no global configuration and no rules");
  return true;
}
