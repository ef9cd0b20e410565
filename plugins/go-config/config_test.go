package mockconfig

// Host-side tests of the shared configuration logic: `go test .` (no Envoy, no wasm).

import (
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		json      string
		hasGlobal bool
		content   string
		rules     int
	}{
		{`{}`, true, "", 0},
		{`{"content":"hello"}`, true, "hello", 0},
		{`{"mode":"headers","header_count":0}`, true, "", 0},
		{`{"content":"g","_rules_":[]}`, true, "g", 0},
		{`{"spin":1,"_rules_":[{"_match_route_":["a"]}]}`, false, "", 1},
		{`{"other":null,"_rules_":[{"_match_route_":["a"]}]}`, true, "", 1},
		{`{"_rules_":[{"_match_route_":[],"_match_domain_":["*"],"mode":-1.5}]}`, false, "", 1},
		{`{"crash_every":2147483647}`, true, "", 0},
	} {
		c, err := Parse([]byte(tc.json))
		if err != nil {
			t.Errorf("%s: unexpected error %v", tc.json, err)
			continue
		}
		if c.HasGlobal != tc.hasGlobal || c.Content != tc.content || len(c.Rules) != tc.rules {
			t.Errorf("%s: got global=%v content=%q rules=%d", tc.json, c.HasGlobal, c.Content, len(c.Rules))
		}
	}
}

func TestParseValues(t *testing.T) {
	c, err := Parse([]byte(`{"mode":"headers","header_count":3,"crash_every":7,"spin":100,
		"_rules_":[{"content":"r","_match_domain_":["a","b"]},{"_match_route_":["x"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Headers || c.HeaderCnt != 3 || c.CrashEvery != 7 || c.Spin != 100 {
		t.Errorf("benchmark keys: %+v", c)
	}
	if r := c.Rules[0]; r.Content != "r" || strings.Join(r.Hosts, ",") != "a,b" || r.Routes != nil {
		t.Errorf("rule 0: %+v", r)
	}
	if r := c.Rules[1]; r.Content != "" || strings.Join(r.Routes, ",") != "x" {
		t.Errorf("rule 1: %+v", r)
	}
	if d, _ := Parse([]byte(`{}`)); d.HeaderCnt != 20 || d.Headers {
		t.Errorf("defaults: %+v", d)
	}
}

func TestParseRejects(t *testing.T) {
	for _, js := range []string{
		``, `{`, `{"a":1,}`, `["content","x"]`, `"x"`, `null`, `5`,
		`{"content":5}`, `{"content":null}`, `{"content":["x"]}`,
		`{"_rules_":[]}`, `{"mode":"headers","_rules_":[]}`,
		`{"content":"x","_rules_":{}}`, `{"content":"x","_rules_":"a"}`, `{"content":"x","_rules_":[1]}`,
		`{"_rules_":[{"content":"y"}]}`,
		`{"_rules_":[{"_match_route_":[]}]}`,
		`{"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]}`,
		`{"_rules_":[{"_match_route_":"a"}]}`,
		`{"_rules_":[{"_match_domain_":["a",1]}]}`,
		`{"_rules_":[{"_match_route_":["a"],"content":1}]}`,
		`{"mode":"fast"}`, `{"mode":1}`, `{"mode":null}`,
		`{"header_count":-1}`, `{"header_count":1.5}`, `{"header_count":"1"}`, `{"spin":1e3}`, `{"spin":1.0}`,
		`{"crash_every":-0}`, `{"crash_every":2147483648}`, `{"crash_every":99999999999999999999999}`,
		`{"crash_every":true}`, `{"spin":null}`, `{"spin":01}`,
		`{"content":5,"_rules_":[{"_match_route_":["a"]}]}`,
	} {
		if _, err := Parse([]byte(js)); err == nil {
			t.Errorf("%s: accepted, want rejection", js)
		}
	}
}

func TestSpinHash(t *testing.T) {
	// Reference values from an independent implementation (Python, masked to 64 bits).
	for k, want := range map[uint32]uint64{0: 0xcbf29ce484222325, 1: 0xaf63bd4c29620a93, 3: 0xad2ec07e57dfba64, 100000: 0x6f6433e1b04c1287} {
		if got := SpinHash(k); got != want {
			t.Errorf("SpinHash(%d) = %#x, want %#x", k, got, want)
		}
	}
}
