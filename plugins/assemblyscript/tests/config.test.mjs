// Unit tests of the plugin's configuration parsing (assembly/index.ts, assembly/json.ts), in Node: the
// compiled module (build/plugin.wasm) with the few proxy-wasm host functions configuring needs (the
// configuration buffer, the root id property, the log), no Envoy. Run: node tests/config.test.mjs
// (bench-runner's tests build the module first and run this; exit 1 on a failure).
import { readFileSync } from "node:fs";

const wasm = readFileSync(new URL("../build/plugin.wasm", import.meta.url));
const module = new WebAssembly.Module(wasm);
const utf8 = new TextEncoder(), text = new TextDecoder();

// One VM: configures a root context with `config`; returns whether the plugin accepted it and what
// it logged at warn level or above.
function configure(config) {
  let inst, served = utf8.encode(config);
  const logs = [];
  const mem = () => new Uint8Array(inst.exports.memory.buffer);
  const view = () => new DataView(inst.exports.memory.buffer);
  // Envoy's copyToPointerSize: allocate in the plugin, copy, write pointer and size.
  const copyOut = (bytes, ptrPtr, sizePtr) => {
    const at = inst.exports.malloc(bytes.length);
    mem().set(bytes, at);
    view().setUint32(ptrPtr, at, true);
    view().setUint32(sizePtr, bytes.length, true);
    return 0;
  };
  const env = {
    proxy_log: (level, ptr, len) => {
      if (level >= 3) logs.push(text.decode(mem().slice(ptr, ptr + len)));
      return 0;
    },
    proxy_get_buffer_bytes: (kind, start, max, ptrPtr, sizePtr) =>
      copyOut(served.slice(start, start + max), ptrPtr, sizePtr),
    proxy_get_property: (pathPtr, pathLen, ptrPtr, sizePtr) => {
      const path = text.decode(mem().slice(pathPtr, pathPtr + pathLen));
      return path === "plugin_root_id" ? copyOut(utf8.encode("mock-response"), ptrPtr, sizePtr) : 1;
    },
  };
  const imports = { env: {}, wasi_unstable: { proc_exit: (code) => { throw new Error(`proc_exit(${code})`); } } };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "env") imports.env[imp.name] = env[imp.name] ?? (() => 0);
  }
  inst = new WebAssembly.Instance(module, imports);
  inst.exports.proxy_on_context_create(1, 0);
  inst.exports.proxy_on_vm_start(1, 0);
  const accepted = inst.exports.proxy_on_configure(1, served.length) !== 0;
  return { accepted, logs };
}

const cases = [
  // [configuration, accepted?, the reason's words when rejected]
  ['{"content":"hello higress"}', true],
  ['{}', true],
  ['{"mode":"headers","header_count":20}', true],
  ['{"mode":"body","_rules_":[{"content":"foo","_match_route_":["default/foo"]}]}', true],
  ['{"_rules_":[{"_match_domain_":["*.example.com"]}],"unknown":1}', true],
  ['{"spin":2147483647,"crash_every":0}', true],
  ['[]', false, "not a JSON object"],
  ['{"_rules_":[]}', false, "no global config and no rules"],
  ['{"_rules_":{}}', false, "_rules_ must be an array"],
  ['{"mode":"fast"}', false, "mode must be"],
  ['{"header_count":"20"}', false, "header_count must be a non-negative integer"],
  ['{"spin":2147483648}', false, "spin must be a non-negative integer"],
  ['{"content":1}', false, "content must be a string"],
  ['{"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]}', false, "exactly one non-empty"],
  ['{"_rules_":[{"_match_service_":["s"],"_match_route_":["a"]}]}', false, "_match_service_"],
  ['{"content":"a","content":"b"}', false, ""],
  ['{"content":"x"} trailing', false, ""],
  ['', false, "the configuration is empty"],
];

let failed = 0;
for (const [config, accept, reason] of cases) {
  let got;
  try {
    got = configure(config);
  } catch (e) {
    got = { accepted: "trapped: " + e.message, logs: [] };
  }
  const lines = got.logs.filter((l) => l.startsWith("mock-response: invalid configuration: "));
  const ok = accept
    ? got.accepted === true && got.logs.length === 0
    : got.accepted === false && lines.length === 1 && got.logs.length === 1 && lines[0].includes(reason);
  if (!ok) {
    failed++;
    console.log(`FAIL ${JSON.stringify(config)}: accepted=${got.accepted} logs=${JSON.stringify(got.logs)}`);
  }
}
console.log(`${cases.length - failed} of ${cases.length} configuration cases as expected`);
process.exit(failed === 0 ? 0 : 1);
