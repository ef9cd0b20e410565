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
		`{"content":"a","content":"b"}`, `{"content":"a","\u0063ontent":"b"}`,
		`{"_rules_":[{"_match_route_":["a"],"_match_route_":["b"]}]}`,
		`{"content":"\ud800"}`, `{"content":"\udc00"}`, `{"content":"\ud800\u0041"}`,
		`{"x":1e309}`, `{"x":-2e308}`, `{"_rules_":[{"_match_route_":[""]}]}`,
		"{\"content\":\"a\x01\"}", `{"x":1} x`,
		`{"_rules_":[{"_match_route_":["a"],"_match_service_":["s"]}]}`,
		`{"_rules_":[{"_match_domain_":["a"],"_match_route_prefix_":1}]}`,
	} {
		if _, err := Parse([]byte(js)); err == nil {
			t.Errorf("%s: accepted, want rejection", js)
		}
	}
}

func TestStrictText(t *testing.T) {
	nested := func(n int) string {
		return `{"x":` + strings.Repeat("[", n) + "0" + strings.Repeat("]", n) + "}"
	}
	if _, err := Parse([]byte(nested(MaxDepth - 1))); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if _, err := Parse([]byte(nested(MaxDepth))); err == nil {
		t.Errorf("%d levels accepted", MaxDepth+1)
	}
	c, err := Parse([]byte(`{"x":1e-400,"y":[{"k":1},{"k":2}],"content":"\ud83d\ude00\/",` +
		`"_rules_":[{"_match_route_":["","r"]},{"_match_domain_":[""]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Content != "\U0001F600/" || len(c.Rules[0].Routes) != 1 || len(c.Rules[1].Hosts) != 1 {
		t.Errorf("got %+v", c)
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

func TestBodyReply(t *testing.T) {
	c, err := Parse([]byte(`{"mode":"body"}`))
	if err != nil || !c.Body || c.Headers {
		t.Fatalf("mode body: %+v %v", c, err)
	}
	for _, k := range []struct{ content, body, want string }{
		{"c", "", "c\nfnv1a32=811c9dc5 len=0"},
		{"", "a", "\nfnv1a32=e40c292c len=1"},
	} {
		if got := string(BodyReply(k.content, []byte(k.body))); got != k.want {
			t.Errorf("BodyReply(%q, %q) = %q, want %q", k.content, k.body, got, k.want)
		}
	}
}
