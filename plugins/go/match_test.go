package main

// Host-side tests of the host matching: `go test .` (no Envoy, no wasm). The configuration tests are in
// ../go-config.

import "testing"

func TestStripPort(t *testing.T) {
	for in, want := range map[string]string{
		"a.com": "a.com", "a.com:8080": "a.com", "[::1]:80": "[::1]", "[::1]": "[::1]", "": "", "a:": "a", "::1": ":",
	} {
		if got := stripPort(in); got != want {
			t.Errorf("stripPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"*", "anything", true}, {"*", "", true},
		{"*.example.com", "www.example.com", true}, {"*.example.com", "example.com", false},
		{"api.*", "api.x.org", true}, {"api.*", "xapi.org", false},
		{"www.test.com", "www.test.com", true}, {"www.test.com", "WWW.test.com", false},
	} {
		if got := hostMatches(tc.pattern, tc.host); got != tc.want {
			t.Errorf("hostMatches(%q, %q) = %v", tc.pattern, tc.host, got)
		}
	}
}
