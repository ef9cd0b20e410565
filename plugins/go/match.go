package main

// The pure part of host matching (no proxy-wasm calls), so `go test` runs it on the host: port stripping and
// the host patterns of `_match_domain_`. Parsing and validating the configuration and the spin hash are in
// the shared module ../go-config (also used by ../go-higress, whose wrapper matches hosts itself).
// The rules are in ../README.md ("Behaviour details every implementation shares").

import "strings"

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
