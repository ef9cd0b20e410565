package main

// What the article's plugin needs beyond wrapper.SetCtx to load in stock Envoy 1.40 and to do the suite's
// work exactly like the other languages. Each item was observed in Envoy 1.40 (see the folder's report):
//  1. The Higress SDK exports only proxy_abi_version_0_2_100 (an ABI of Higress's own Envoy); stock Envoy
//     refuses the module: "Wasm VM failed Missing or unknown Proxy-Wasm ABI version". We also export 0_2_0,
//     the version the upstream Go SDK declares for the same callbacks.
//  2. The wrapper's matcher reads the property ["route_name"], which only Higress's Envoy provides; stock
//     Envoy has ["xds","route_name"]. When route rules exist we copy it (stock Envoy serves a property set by
//     the plugin back from the stream's filter state).
//  3. The wrapper calls the handler only when a config matched, but crash_every counts every request and
//     spin runs on every request: both happen here, before the wrapper.
//  4. The wrapper ignores an invalid global config when rules parse, and accepts a rule with both match
//     keys or a match key that is not an array: we validate strictly first (../go-config) and log one line.
//  5. The wrapper recovers panics in its callbacks (logs and continues) unless WASM_DISABLE_PANIC_RECOVERY
//     is "true": set it, so a failed header check traps as in the other languages.

import (
	"os"
	"strconv"

	"mockconfig"

	"github.com/higress-group/proxy-wasm-go-sdk/proxywasm"
	"github.com/higress-group/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/higress-group/wasm-go/pkg/wrapper"
)

//go:wasmexport proxy_abi_version_0_2_0
func proxyABIVersion020() {}

// pluginState is one plugin configuration's suite settings. Several plugin configurations can share a
// VM (filters with the same vm_id), so they live with the plugin context, never in package globals.
type pluginState struct {
	cfg                       *mockconfig.Config
	headerNames, headerValues []string
	routeRules                bool
}

var (
	requests uint64 // VM-wide count of requests seen (crash_every)
	// current is the state of the plugin whose request is being handled; a VM runs one call at a time.
	current = &pluginState{cfg: &mockconfig.Config{}}
)

func setCtx[C any](name string, options ...wrapper.CtxOption[C]) {
	_ = os.Setenv("WASM_DISABLE_PANIC_RECOVERY", "true")
	proxywasm.SetVMContext(vm{wrapper.NewCommonVmCtx(name, options...)})
}

type vm struct{ types.VMContext }

func (v vm) NewPluginContext(id uint32) types.PluginContext {
	return &plugin{PluginContext: v.VMContext.NewPluginContext(id), st: &pluginState{cfg: &mockconfig.Config{}}}
}

type plugin struct {
	types.PluginContext
	st *pluginState
}

func (p *plugin) OnPluginStart(size int) types.OnPluginStartStatus {
	data, _ := proxywasm.GetPluginConfiguration() // an empty configuration is "not found": rejected below
	cfg, err := mockconfig.Parse(data)
	if err != nil {
		proxywasm.LogWarn("mock-response: invalid configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	st := &pluginState{cfg: cfg}
	for i := 0; i < int(cfg.HeaderCnt); i++ {
		st.headerNames = append(st.headerNames, "x-bench-"+strconv.Itoa(i))
		st.headerValues = append(st.headerValues, "v"+strconv.Itoa(i))
	}
	for _, r := range cfg.Rules {
		st.routeRules = st.routeRules || len(r.Routes) > 0
	}
	*p.st = *st
	return p.PluginContext.OnPluginStart(size)
}

func (p *plugin) NewHttpContext(id uint32) types.HttpContext {
	return request{p.PluginContext.NewHttpContext(id), p.st}
}

type request struct {
	types.HttpContext
	st *pluginState
}

func (r request) OnHttpRequestHeaders(numHeaders int, endOfStream bool) types.Action {
	current = r.st
	requests++
	if r.st.cfg.CrashEvery > 0 && requests%uint64(r.st.cfg.CrashEvery) == 0 {
		panic("mock-response: crash_every reached")
	}
	if r.st.cfg.Spin > 0 && mockconfig.SpinHash(r.st.cfg.Spin) == 0 {
		proxywasm.LogInfo("mock-response: spin result was zero")
	}
	if r.st.routeRules {
		if route, err := proxywasm.GetProperty([]string{"xds", "route_name"}); err == nil {
			_ = proxywasm.SetProperty([]string{"route_name"}, route)
		}
	}
	return r.HttpContext.OnHttpRequestHeaders(numHeaders, endOfStream)
}
