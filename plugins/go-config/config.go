// Package mockconfig is the pure part shared by the two Go plugins (../go and ../go-higress): parsing and
// strict validation of the whole configuration, and the spin hash. No proxy-wasm calls, so `go test` runs
// it on the host. It is not an implementation (no plugin.toml); each plugin lists it in its `sources`.
// The rules are in ../README.md ("Behaviour details every implementation shares").
package mockconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Rule is one element of `_rules_`: exactly one of Routes / Hosts is non-empty.
type Rule struct {
	Routes  []string // `_match_route_`: exact route names
	Hosts   []string // `_match_domain_`: host patterns
	Content string
	Reply   []byte // Content as the mock reply's body, converted once here, not per request
}

// Config is a validated configuration.
type Config struct {
	Rules      []Rule
	HasGlobal  bool
	Content    string // global content (when HasGlobal)
	Reply      []byte // Content as the mock reply's body, converted once here, not per request
	Headers    bool   // mode "headers" instead of "mock"
	Body       bool   // mode "body": buffer the request body, answer with its checksum (BodyReply)
	HeaderCnt  uint32
	CrashEvery uint32
	Spin       uint32
}

var benchKeys = map[string]bool{"mode": true, "header_count": true, "crash_every": true, "spin": true}

// IsBenchKey: the key is one of the benchmark keys (mode, header_count, crash_every, spin), which are not
// plugin configuration: an object with `_rules_` and only these keys has no global configuration.
func IsBenchKey(key string) bool { return benchKeys[key] }

// Parse parses and validates a configuration; the error is the reason for rejecting it.
func Parse(data []byte) (*Config, error) {
	if err := checkStrict(data); err != nil {
		return nil, err
	}
	if !gjson.ValidBytes(data) {
		return nil, fmt.Errorf("not valid JSON (%d bytes)", len(data))
	}
	top := gjson.ParseBytes(data)
	if !top.IsObject() {
		return nil, fmt.Errorf("the configuration must be a JSON object")
	}
	c := &Config{HeaderCnt: 20}
	var err error
	if c.Content, err = contentOf(top, "content"); err != nil {
		return nil, err
	}
	c.Reply = []byte(c.Content)
	if m := top.Get("mode"); m.Exists() {
		if m.Type != gjson.String || (m.Str != "mock" && m.Str != "headers" && m.Str != "body") {
			return nil, fmt.Errorf("`mode` must be \"mock\", \"headers\" or \"body\", got %s", m.Raw)
		}
		c.Headers = m.Str == "headers"
		c.Body = m.Str == "body"
	}
	for _, k := range []struct {
		name string
		dst  *uint32
	}{{"header_count", &c.HeaderCnt}, {"crash_every", &c.CrashEvery}, {"spin", &c.Spin}} {
		if v := top.Get(k.name); v.Exists() {
			if *k.dst, err = plainUint31(v); err != nil {
				return nil, fmt.Errorf("`%s` %v", k.name, err)
			}
		}
	}
	rules := top.Get("_rules_")
	top.ForEach(func(k, _ gjson.Result) bool {
		if k.Str != "_rules_" && !IsBenchKey(k.Str) {
			c.HasGlobal = true
		}
		return true
	})
	if !rules.Exists() {
		c.HasGlobal = true
		return c, nil
	}
	if !rules.IsArray() {
		return nil, fmt.Errorf("`_rules_` must be an array")
	}
	for i, r := range rules.Array() {
		if !r.IsObject() {
			return nil, fmt.Errorf("`_rules_[%d]` must be an object", i)
		}
		for _, k := range []string{"_match_service_", "_match_route_prefix_"} { // Higress keys not implemented
			if r.Get(k).Exists() {
				return nil, fmt.Errorf("`_rules_[%d]` has `%s`, which this plugin does not implement", i, k)
			}
		}
		var ru Rule
		if ru.Routes, err = stringList(r, "_match_route_"); err == nil {
			ru.Hosts, err = stringList(r, "_match_domain_")
		}
		if err == nil {
			ru.Content, err = contentOf(r, "content")
			ru.Reply = []byte(ru.Content)
		}
		if err != nil {
			return nil, fmt.Errorf("`_rules_[%d]`: %v", i, err)
		}
		if (len(ru.Routes) == 0) == (len(ru.Hosts) == 0) {
			return nil, fmt.Errorf("`_rules_[%d]` must have exactly one non-empty `_match_route_` or `_match_domain_`", i)
		}
		c.Rules = append(c.Rules, ru)
	}
	if len(c.Rules) == 0 && !c.HasGlobal {
		return nil, fmt.Errorf("`_rules_` is empty and there is no global configuration")
	}
	return c, nil
}

// contentOf reads an optional string key ("" when absent).
func contentOf(obj gjson.Result, key string) (string, error) {
	v := obj.Get(key)
	if v.Exists() && v.Type != gjson.String {
		return "", fmt.Errorf("`%s` must be a string, got %s", key, v.Raw)
	}
	return v.Str, nil
}

// stringList reads an optional array of strings (nil when absent). Empty route names are dropped, as
// Higress's rule matcher does (`"_match_route_": [""]` counts as empty); empty host patterns stay.
func stringList(obj gjson.Result, key string) ([]string, error) {
	v := obj.Get(key)
	if !v.Exists() {
		return nil, nil
	}
	if !v.IsArray() {
		return nil, fmt.Errorf("`%s` must be an array of strings", key)
	}
	var out []string
	for _, s := range v.Array() {
		if s.Type != gjson.String {
			return nil, fmt.Errorf("`%s` must be an array of strings", key)
		}
		if s.Str != "" || key != "_match_route_" {
			out = append(out, s.Str)
		}
	}
	return out, nil
}

// plainUint31 accepts only a JSON number written as plain digits, at most 2147483647.
func plainUint31(v gjson.Result) (uint32, error) {
	if v.Type != gjson.Number || strings.TrimLeft(v.Raw, "0123456789") != "" {
		return 0, fmt.Errorf("must be a non-negative integer written as plain digits, got %s", v.Raw)
	}
	n, err := strconv.ParseUint(v.Raw, 10, 64)
	if err != nil || n > math.MaxInt32 {
		return 0, fmt.Errorf("must be at most 2147483647, got %s", v.Raw)
	}
	return uint32(n), nil
}

// SpinHash is the calibrated CPU work: k rounds of an FNV-style hash with wrapping u64 arithmetic.
func SpinHash(k uint32) uint64 {
	x := uint64(0xcbf29ce484222325)
	for i := uint64(0); i < uint64(k); i++ {
		x = (x ^ i) * 0x100000001b3
		x ^= x >> 32
	}
	return x
}

// Fnv1a32 is the body mode's checksum: FNV-1a, 32 bits, over the bytes.
func Fnv1a32(data []byte) uint32 {
	h := uint32(0x811c9dc5)
	for _, b := range data {
		h = (h ^ uint32(b)) * 0x01000193
	}
	return h
}

// BodyReply is the body mode's local reply: content, a newline, "fnv1a32=<8 lowercase hex> len=<bytes>".
func BodyReply(content string, body []byte) []byte {
	hex := strconv.FormatUint(uint64(Fnv1a32(body)), 16)
	for len(hex) < 8 {
		hex = "0" + hex
	}
	return []byte(content + "\nfnv1a32=" + hex + " len=" + strconv.Itoa(len(body)))
}
