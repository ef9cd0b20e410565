// mock-response in the style of the Higress article, on Higress's Go wrapper github.com/higress-group/wasm-go
// (SetCtx / ParseConfigBy / ProcessRequestHeadersBy; its rule matcher handles `_rules_`), built with upstream
// Go (GOOS=wasip1, c-shared) instead of TinyGo. stock_envoy.go adapts it to stock Envoy and to the suite's
// contract (../../../shared/SPEC.md section 1, ../README.md); the shared module ../go-config (also used by ../go)
// validates the configuration.
package main

import (
	"errors"

	"mockconfig"

	"github.com/higress-group/proxy-wasm-go-sdk/proxywasm"
	"github.com/higress-group/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/higress-group/wasm-go/pkg/log"
	"github.com/higress-group/wasm-go/pkg/wrapper"
	"github.com/tidwall/gjson"
)

func main() {}

func init() {
	setCtx( // wrapper.SetCtx plus the stock-Envoy adapter
		"mock-response",
		wrapper.ParseConfigBy(parseConfig),
		wrapper.ProcessRequestHeadersBy(onHttpRequestHeaders),
		wrapper.ProcessRequestBodyBy(onHttpRequestBody),
	)
}

// MockConfig is one rule's (or the global) configuration: the content, and the reply body built from it
// once here rather than per request.
type MockConfig struct {
	content string
	reply   []byte
}

// Returning an error for the top-level object tells the wrapper there is no global config; the wrapper
// then rejects the configuration only if `_rules_` is empty too.
var errNoGlobal = errors.New("no global config: only `_rules_` and benchmark keys")

// parseConfig is called by the wrapper for the top-level object and for each rule (already validated).
func parseConfig(json gjson.Result, config *MockConfig, log log.Log) error {
	pluginKeys := false
	json.ForEach(func(k, _ gjson.Result) bool {
		pluginKeys = pluginKeys || (k.Str != "_rules_" && !mockconfig.IsBenchKey(k.Str))
		return true
	})
	if !pluginKeys && json.Get("_rules_").Exists() {
		return errNoGlobal
	}
	config.content = json.Get("content").Str
	config.reply = []byte(config.content)
	return nil
}

// onHttpRequestHeaders runs when the wrapper's matcher found a rule or the global config.
func onHttpRequestHeaders(ctx wrapper.HttpContext, config MockConfig, log log.Log) types.Action {
	if current.cfg.Body && ctx.HasRequestBody() {
		return types.ActionPause // the wrapper buffers the body and calls onHttpRequestBody at its end
	}
	ctx.DontReadRequestBody()
	if current.cfg.Body {
		_ = proxywasm.SendHttpResponse(200, nil, mockconfig.BodyReply(config.content, nil), -1)
		return types.ActionPause
	}
	if !current.cfg.Headers {
		_ = proxywasm.SendHttpResponse(200, nil, config.reply, -1)
		return types.ActionPause // the article returns ActionContinue; the suite's contract says Pause
	}
	for i, name := range current.headerNames {
		_ = proxywasm.AddHttpRequestHeader(name, current.headerValues[i])
	}
	for i, name := range current.headerNames {
		if v, err := proxywasm.GetHttpRequestHeader(name); err != nil || v != current.headerValues[i] {
			panic("mock-response: header " + name + " read back wrong")
		}
	}
	for _, name := range current.headerNames {
		_ = proxywasm.RemoveHttpRequestHeader(name)
	}
	return types.ActionContinue
}

// onHttpRequestBody gets the whole body from the wrapper (body mode only: other modes do not read it).
func onHttpRequestBody(ctx wrapper.HttpContext, config MockConfig, body []byte, log log.Log) types.Action {
	_ = proxywasm.SendHttpResponse(200, nil, mockconfig.BodyReply(config.content, body), -1)
	return types.ActionPause
}
