package main

// The pure part of the plugin (no proxy-wasm calls), so `go test` runs it on the host:
// configuration parsing and validation, host matching, port stripping and the spin hash.
// The rules are in ../README.md ("Behaviour details every implementation shares").

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// rule is one element of `_rules_`: exactly one of routes / hosts is non-empty.
type rule struct {
	routes  []string // `_match_route_`: exact route names
	hosts   []string // `_match_domain_`: host patterns
	content string
}

type config struct {
	rules      []rule
	hasGlobal  bool
	content    string // global content (when hasGlobal)
	headers    bool   // mode "headers" instead of "mock"
	headerCnt  uint32
	crashEvery uint32
	spin       uint32
}

var benchKeys = map[string]bool{"mode": true, "header_count": true, "crash_every": true, "spin": true}

func parseConfig(data []byte) (*config, error) {
	if !gjson.ValidBytes(data) {
		return nil, fmt.Errorf("not valid JSON (%d bytes)", len(data))
	}
	top := gjson.ParseBytes(data)
	if !top.IsObject() {
		return nil, fmt.Errorf("the configuration must be a JSON object")
	}
	c := &config{headerCnt: 20}
	var err error
	if c.content, err = contentOf(top, "content"); err != nil {
		return nil, err
	}
	if m := top.Get("mode"); m.Exists() {
		if m.Type != gjson.String || (m.Str != "mock" && m.Str != "headers") {
			return nil, fmt.Errorf("`mode` must be \"mock\" or \"headers\", got %s", m.Raw)
		}
		c.headers = m.Str == "headers"
	}
	for _, k := range []struct {
		name string
		dst  *uint32
	}{{"header_count", &c.headerCnt}, {"crash_every", &c.crashEvery}, {"spin", &c.spin}} {
		if v := top.Get(k.name); v.Exists() {
			if *k.dst, err = plainUint31(v); err != nil {
				return nil, fmt.Errorf("`%s` %v", k.name, err)
			}
		}
	}
	rules := top.Get("_rules_")
	top.ForEach(func(k, _ gjson.Result) bool {
		if k.Str != "_rules_" && !benchKeys[k.Str] {
			c.hasGlobal = true
		}
		return true
	})
	if !rules.Exists() {
		c.hasGlobal = true
		return c, nil
	}
	if !rules.IsArray() {
		return nil, fmt.Errorf("`_rules_` must be an array")
	}
	for i, r := range rules.Array() {
		if !r.IsObject() {
			return nil, fmt.Errorf("`_rules_[%d]` must be an object", i)
		}
		var ru rule
		if ru.routes, err = stringList(r, "_match_route_"); err == nil {
			ru.hosts, err = stringList(r, "_match_domain_")
		}
		if err == nil {
			ru.content, err = contentOf(r, "content")
		}
		if err != nil {
			return nil, fmt.Errorf("`_rules_[%d]`: %v", i, err)
		}
		if (len(ru.routes) == 0) == (len(ru.hosts) == 0) {
			return nil, fmt.Errorf("`_rules_[%d]` must have exactly one non-empty `_match_route_` or `_match_domain_`", i)
		}
		c.rules = append(c.rules, ru)
	}
	if len(c.rules) == 0 && !c.hasGlobal {
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

// stringList reads an optional array of strings (nil when absent).
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
		out = append(out, s.Str)
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

// stripPort removes a port from an authority: "a.com:8080" -> "a.com", "[::1]:80" -> "[::1]", "[::1]" stays.
func stripPort(host string) string {
	colon := strings.LastIndexByte(host, ':')
	if colon >= 0 && strings.LastIndexByte(host, ']') < colon {
		return host[:colon]
	}
	return host
}

// hostMatches: leading `*` = suffix match, trailing `*` = prefix match, else exact; case-sensitive.
func hostMatches(pattern, host string) bool {
	switch {
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(host, pattern[1:])
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(host, pattern[:len(pattern)-1])
	default:
		return host == pattern
	}
}

// spinHash is the calibrated CPU work: k rounds of an FNV-style hash with wrapping u64 arithmetic.
func spinHash(k uint32) uint64 {
	x := uint64(0xcbf29ce484222325)
	for i := uint64(0); i < uint64(k); i++ {
		x = (x ^ i) * 0x100000001b3
		x ^= x >> 32
	}
	return x
}
