package main

// Host-side test of the wrapper's config callback: `go test .` (no Envoy, no wasm). The configuration
// validation tests are in ../go-config.

import (
	"testing"

	"github.com/tidwall/gjson"
)

func TestParseConfigGlobalOrNot(t *testing.T) {
	for js, want := range map[string]error{
		`{}`: nil, `{"mode":"headers"}`: nil, `{"x":1,"_rules_":[]}`: nil, `{"_match_route_":["a"],"content":"c"}`: nil,
		`{"spin":1,"_rules_":[{"_match_route_":["a"]}]}`: errNoGlobal,
	} {
		var c MockConfig
		if err := parseConfig(gjson.Parse(js), &c, nil); err != want {
			t.Errorf("%s: got %v, want %v", js, err, want)
		}
	}
}
