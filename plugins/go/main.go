// mock-response on github.com/proxy-wasm/proxy-wasm-go-sdk (upstream Go >= 1.24, GOOS=wasip1, c-shared).
// Contract: ../../../shared/SPEC.md section 1 and ../README.md. Pure logic lives in the shared module
// ../go-config (configuration, spin hash) and in match.go (host matching).
package main

import (
	"strconv"

	"mockconfig"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

var requests uint64 // VM-wide count of requests seen by OnHttpRequestHeaders (crash_every)

type plugin struct {
	types.DefaultPluginContext
	cfg           *mockconfig.Config
	names, values []string // x-bench-<i>, v<i>
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, _ := proxywasm.GetPluginConfiguration() // an empty configuration is "not found": mockconfig.Parse rejects it
	cfg, err := mockconfig.Parse(data)
	if err != nil {
		proxywasm.LogWarn("mock-response: invalid configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	p.names, p.values = nil, nil
	for i := 0; i < int(p.cfg.HeaderCnt); i++ {
		p.names = append(p.names, "x-bench-"+strconv.Itoa(i))
		p.values = append(p.values, "v"+strconv.Itoa(i))
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &request{p: p} }

type request struct {
	types.DefaultHttpContext
	p       *plugin
	content string // body mode: the matched content while the body is buffered
	waiting bool   // body mode: a body is coming and the config applies
}

func (r *request) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	c := r.p.cfg
	requests++
	if c.CrashEvery > 0 && requests%uint64(c.CrashEvery) == 0 {
		panic("mock-response: crash_every reached")
	}
	if c.Spin > 0 && mockconfig.SpinHash(c.Spin) == 0 {
		proxywasm.LogInfo("mock-response: spin result was zero")
	}
	content, reply, ok := r.match(c)
	if !ok {
		return types.ActionContinue
	}
	if c.Body && !endOfStream {
		r.content, r.waiting = content, true
		return types.ActionPause
	}
	if c.Body {
		_ = proxywasm.SendHttpResponse(200, nil, mockconfig.BodyReply(content, nil), -1)
		return types.ActionPause
	}
	if !c.Headers {
		_ = proxywasm.SendHttpResponse(200, nil, reply, -1)
		return types.ActionPause
	}
	for i, name := range r.p.names {
		_ = proxywasm.AddHttpRequestHeader(name, r.p.values[i])
	}
	for i, name := range r.p.names {
		if v, err := proxywasm.GetHttpRequestHeader(name); err != nil || v != r.p.values[i] {
			panic("mock-response: header " + name + " read back wrong")
		}
	}
	for _, name := range r.p.names {
		_ = proxywasm.RemoveHttpRequestHeader(name)
	}
	return types.ActionContinue
}

// OnHttpRequestBody buffers the body (Pause = StopIterationAndBuffer) and answers at its end.
func (r *request) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !r.waiting {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	body, _ := proxywasm.GetHttpRequestBody(0, bodySize)
	_ = proxywasm.SendHttpResponse(200, nil, mockconfig.BodyReply(r.content, body), -1)
	return types.ActionPause
}

// match returns the content (and the reply body built from it at configure) of the first matching rule,
// else the global one; ok=false: do nothing. The route name and host are fetched only when a rule needs
// them, once per request.
func (r *request) match(c *mockconfig.Config) (content string, reply []byte, ok bool) {
	var route, host string
	var haveRoute, haveHost bool
	for _, ru := range c.Rules {
		if len(ru.Routes) > 0 {
			if !haveRoute {
				b, _ := proxywasm.GetProperty([]string{"xds", "route_name"}) // stock Envoy: ["route_name"] is not found
				route, haveRoute = string(b), true
			}
			for _, name := range ru.Routes {
				if name == route {
					return ru.Content, ru.Reply, true
				}
			}
			continue
		}
		if !haveHost {
			h, _ := proxywasm.GetHttpRequestHeader(":authority")
			host, haveHost = stripPort(h), true
		}
		for _, pattern := range ru.Hosts {
			if hostMatches(pattern, host) {
				return ru.Content, ru.Reply, true
			}
		}
	}
	return c.Content, c.Reply, c.HasGlobal
}
