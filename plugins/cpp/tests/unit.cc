// Host-side tests of the pure parts (JSON reader, config validation, host matching, port
// stripping, spin). Run: sh test.sh
#include <cstdio>
#include <string>

#include "../src/config.h"

static int failures = 0;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond), failures++; \
  } while (0)

static bool parses(const std::string& text, json::Value* out = nullptr) {
  json::Value v;
  std::string error;
  bool ok = json::Parser(text).parse(v, error);
  if (out) *out = v;
  return ok;
}

static std::string str(const std::string& json_text) {
  json::Value v;
  return parses(json_text, &v) && v.type == json::Type::String ? v.text : "<error>";
}

static bool accepted(const std::string& text, Config* out = nullptr) {
  Config cfg;
  std::string error;
  bool ok = parse_config(text, cfg, error);
  if (out) *out = cfg;
  return ok;
}

static void test_json() {
  json::Value v;
  CHECK(parses(R"( {"a": [1, -2.5e+3, 0, true, false, null, "x"], "b": {}} )", &v));
  CHECK(v.type == json::Type::Object && v.get("a")->items.size() == 7 && v.get("b")->type == json::Type::Object);
  CHECK(v.get("a")->items[1].text == "-2.5e+3" && v.get("a")->items[5].type == json::Type::Null);
  CHECK(!parses(R"({"k": 1, "k": 2})") && !parses(R"({"k": 1, "\u006b": 2})"));  // duplicate names
  CHECK(parses(R"([{"k": 1}, {"k": 2}])") && parses("[1e308, -1e308, 1e-400]") && !parses("1e309") && !parses("-2e308"));
  CHECK(str(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  CHECK(str(R"("\u0041\u00e9\u20AC")") == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(str(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");  // surrogate pair -> U+1F600
  CHECK(str("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"") == "h\xC3\xA9llo \xF0\x9F\x98\x80");
  CHECK(parses("[]") && parses("0") && parses("-0") && parses("1E5") && parses("\"\""));
  for (const char* bad : {"", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "-", "1.", ".5", "1e", "+1", "tru",
                          "nul", "[1 2]", "{\"a\" 1}", "{1:2}", "\"abc", "\"\\x\"", "\"\\u12G4\"", "\"\\ud800\"",
                          "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"", "\"\xC3\"", "\"\xC0\x80\"",
                          "\"\xED\xA0\x80\"", "\"\xF5\x80\x80\x80\"", "\xEF\xBB\xBF{}", "{} x", "{}}", "NaN"})
    CHECK(!parses(bad));
  CHECK(parses(std::string(64, '[') + std::string(64, ']')));
  CHECK(!parses(std::string(65, '[') + std::string(65, ']')));
}

static void test_config() {
  Config c;
  CHECK(accepted("{}", &c) && c.has_global && c.global_content.empty() && !c.headers_mode && c.header_count == 20);
  CHECK(accepted(R"({"mode":"headers"})", &c) && c.has_global && c.headers_mode);
  CHECK(accepted(R"({"mode":"mock","header_count":5,"crash_every":3,"spin":2147483647})", &c) &&
        c.header_count == 5 && c.crash_every == 3 && c.spin == 2147483647u && c.has_global);
  CHECK(accepted(R"({"_rules_":[{"_match_route_":["a"]}]})", &c) && !c.has_global && c.rules.size() == 1);
  CHECK(accepted(R"({"spin":1,"_rules_":[{"_match_route_":["a"]}]})", &c) && !c.has_global);
  CHECK(accepted(R"({"other":1,"_rules_":[]})", &c) && c.has_global);  // unknown keys make a global config
  CHECK(accepted(R"({"content":"g","_rules_":[{"content":"r","_match_domain_":["*.a.com"],"_match_route_":[]}]})",
                 &c) &&
        c.global_content == "g" && !c.rules[0].by_route && c.rules[0].patterns[0] == "*.a.com" &&
        c.rules[0].content == "r");
  CHECK(accepted(R"({"_rules_":[{"_match_route_":["a"],"spin":"x","mode":1}]})"));  // ignored in rules
  for (const char* bad :
       {"[]", "\"x\"", "1", "null", "{", R"({"_rules_":[]})", R"({"mode":"headers","_rules_":[]})",
        R"({"content":1})", R"({"content":null})", R"({"_rules_":{}})", R"({"_rules_":[1]})",
        R"({"_rules_":[{"content":"y"}]})", R"({"_rules_":[{"_match_route_":[]}]})",
        R"({"_rules_":[{"_match_route_":[],"_match_domain_":[]}]})",
        R"({"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]})", R"({"_rules_":[{"_match_route_":"a"}]})",
        R"({"_rules_":[{"_match_domain_":[1]}]})", R"({"_rules_":[{"_match_route_":["a"],"content":2}]})",
        R"({"mode":"fast"})", R"({"mode":1})", R"({"spin":-1})", R"({"spin":1.5})", R"({"spin":1e3})",
        R"({"spin":"5"})", R"({"spin":2147483648})", R"({"crash_every":99999999999})", R"({"header_count":true})",
        R"({"header_count":-0})", R"({"_rules_":[{"_match_route_":[""]}]})",
        R"({"_rules_":[{"_match_route_":["a"],"_match_service_":["s"]}]})",
        R"({"_rules_":[{"_match_domain_":["a"],"_match_route_prefix_":1}]})"})
    CHECK(!accepted(bad));
  std::string error;
  CHECK(!parse_config(R"({"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]})", c, error) &&
        error == "_rules_[0]: has both _match_route_ and _match_domain_");
}

static void test_hosts() {
  CHECK(strip_port("www.test.com:8080") == "www.test.com");
  CHECK(strip_port("www.test.com") == "www.test.com");
  CHECK(strip_port("[::1]:80") == "[::1]");
  CHECK(strip_port("[::1]") == "[::1]");
  CHECK(strip_port("") == "");
  CHECK(host_matches("*", "anything") && host_matches("*", ""));
  CHECK(host_matches("*.example.com", "www.example.com") && !host_matches("*.example.com", "example.com"));
  CHECK(host_matches("api.*", "api.foo") && !host_matches("api.*", "apix.foo") && !host_matches("api.*", "api"));
  CHECK(host_matches("www.test.com", "www.test.com") && !host_matches("www.test.com", "WWW.test.com"));
}

static void test_spin() {
  CHECK(spin_hash(0) == 0xcbf29ce484222325ull);
  uint64_t x = 0xcbf29ce484222325ull;  // one round by hand
  x = (x ^ 0) * 0x100000001b3ull;
  x ^= x >> 32;
  CHECK(spin_hash(1) == x);
  CHECK(spin_hash(100000) != 0);
}

static void test_body_reply() {
  CHECK(body_reply("c", "") == "c\nfnv1a32=811c9dc5 len=0");
  CHECK(body_reply("", "a") == "\nfnv1a32=e40c292c len=1");
  Config cfg;
  std::string error;
  CHECK(parse_config(R"({"mode":"body"})", cfg, error) && cfg.body_mode && !cfg.headers_mode);
}

int main() {
  test_body_reply();
  test_json();
  test_config();
  test_hosts();
  test_spin();
  std::printf(failures ? "%d unit check(s) failed\n" : "all unit checks passed\n", failures);
  return failures ? 1 : 0;
}
