// Mock-response plugin (../../shared/SPEC.md section 1, ../README.md) on @solo-io/proxy-runtime 0.1.8.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, FilterDataStatusValues, GrpcStatusValues,
  LogLevelValues, log, send_local_response, stream_context,
} from "@solo-io/proxy-runtime";
import {
  get_buffer_bytes, BufferTypeValues, HeaderMapTypeValues, add_header_map_value, get_header_map_value,
  remove_header_map_value,
} from "@solo-io/proxy-runtime/runtime";
import { proxy_get_property } from "@solo-io/proxy-runtime/imports";
import { free } from "@solo-io/proxy-runtime/malloc";
import { Kind, JValue, Parser } from "./json";

const PREFIX: u8 = 1, SUFFIX: u8 = 2, EXACT: u8 = 3;

class HostPattern {
  constructor(public kind: u8, public text: string) {}
  matches(host: string): bool {
    if (this.kind == SUFFIX) return host.endsWith(this.text);
    if (this.kind == PREFIX) return host.startsWith(this.text);
    return host == this.text;
  }
}

class Rule {
  content: ArrayBuffer = new ArrayBuffer(0);
  routes: string[] = [];
  domains: HostPattern[] = [];
}

class Config {
  headers: bool = false;
  body: bool = false;
  headerCount: i32 = 20;
  crashEvery: i32 = 0;
  spin: i32 = 0;
  global: ArrayBuffer | null = null;
  rules: Rule[] = [];
  // The headers workload's names and values (x-bench-<i>, v<i>), encoded to UTF-8 once at configure,
  // as a real plugin holds its constant header names: the SDK's ArrayBuffer forms of the header calls
  // take them as they are (its string forms would encode both on every call).
  names: ArrayBuffer[] = [];
  values: ArrayBuffer[] = [];
}

let requests: u64 = 0; // VM-wide, for crash_every

const BENCH_KEYS = ["mode", "header_count", "crash_every", "spin"];

// Configuration errors: the parsers return null and leave the reason in `why`.
let why = "";
function bad<T>(reason: string): T | null { why = reason; return null; }

function contentOf(obj: JValue, cfg: ArrayBuffer): ArrayBuffer | null {
  if (!obj.fields.has("content")) return cfg;
  let v = obj.fields.get("content");
  return v.kind == Kind.Str ? String.UTF8.encode(v.text) : null;
}

// A match list: absent/empty -> [], not an array of strings -> null. Empty route names are dropped,
// as Higress does (`"_match_route_": [""]` counts as empty); empty host patterns stay.
function stringList(obj: JValue, key: string): string[] | null {
  let out: string[] = [];
  if (!obj.fields.has(key)) return out;
  let v = obj.fields.get(key);
  if (v.kind != Kind.Arr) return null;
  let dropEmpty = key == "_match_route_";
  for (let i = 0; i < v.items.length; i++) {
    if (v.items[i].kind != Kind.Str) return null;
    if (!(dropEmpty && v.items[i].text.length == 0)) out.push(v.items[i].text);
  }
  return out;
}

// A benchmark key: plain digits, at most 2147483647; -1 if malformed.
function count(v: JValue): i32 {
  if (v.kind != Kind.Num || v.text.length > 10) return -1;
  let n: u64 = 0;
  for (let i = 0; i < v.text.length; i++) {
    let c = v.text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n > 2147483647 ? -1 : <i32>n;
}

function parseRule(r: JValue, at: string): Rule | null {
  if (r.kind != Kind.Obj) return bad<Rule>(at + " must be an object");
  // Higress's other match keys: not implemented, so a rule holding one is refused.
  if (r.fields.has("_match_service_")) return bad<Rule>(at + " has _match_service_, which this plugin does not implement");
  if (r.fields.has("_match_route_prefix_")) return bad<Rule>(at + " has _match_route_prefix_, which this plugin does not implement");
  let rule = new Rule();
  let content = contentOf(r, rule.content);
  if (content === null) return bad<Rule>(at + ".content must be a string");
  rule.content = content;
  let routes = stringList(r, "_match_route_"), domains = stringList(r, "_match_domain_");
  if (routes === null) return bad<Rule>(at + "._match_route_ must be an array of strings");
  if (domains === null) return bad<Rule>(at + "._match_domain_ must be an array of strings");
  if ((routes.length > 0) == (domains.length > 0)) {
    return bad<Rule>(at + " must have exactly one non-empty _match_route_ or _match_domain_");
  }
  rule.routes = routes;
  for (let j = 0; j < domains.length; j++) {
    let d = domains[j];
    if (d.startsWith("*")) rule.domains.push(new HostPattern(SUFFIX, d.substring(1)));
    else if (d.endsWith("*")) rule.domains.push(new HostPattern(PREFIX, d.substring(0, d.length - 1)));
    else rule.domains.push(new HostPattern(EXACT, d));
  }
  return rule;
}

function parseConfig(text: string): Config | null {
  let p = new Parser(text);
  let root = p.parse();
  if (root === null) return bad<Config>(p.err);
  if (root.kind != Kind.Obj) return bad<Config>("not a JSON object");
  let cfg = new Config();
  let keys = root.fields.keys();
  let hasGlobal = !root.fields.has("_rules_");
  for (let i = 0; i < keys.length; i++) {
    let key = keys[i], v = root.fields.get(key);
    if (key == "mode") {
      if (v.kind != Kind.Str || (v.text != "mock" && v.text != "headers" && v.text != "body")) {
        return bad<Config>("mode must be \"mock\", \"headers\" or \"body\"");
      }
      cfg.headers = v.text == "headers";
      cfg.body = v.text == "body";
    } else if (BENCH_KEYS.includes(key)) {
      let n = count(v);
      if (n < 0) return bad<Config>(key + " must be a non-negative integer written as digits, at most 2147483647");
      if (key == "header_count") cfg.headerCount = n;
      else if (key == "crash_every") cfg.crashEvery = n;
      else cfg.spin = n;
    } else if (key != "_rules_") {
      hasGlobal = true;
    }
  }
  if (hasGlobal) {
    cfg.global = contentOf(root, new ArrayBuffer(0));
    if (cfg.global === null) return bad<Config>("content must be a string");
  }
  if (root.fields.has("_rules_")) {
    let list = root.fields.get("_rules_");
    if (list.kind != Kind.Arr) return bad<Config>("_rules_ must be an array");
    for (let i = 0; i < list.items.length; i++) {
      let rule = parseRule(list.items[i], "_rules_[" + i.toString() + "]");
      if (rule === null) return null;
      cfg.rules.push(rule);
    }
  }
  if (cfg.global === null && cfg.rules.length == 0) return bad<Config>("no global config and no rules");
  if (cfg.headers) {
    for (let i = 0; i < cfg.headerCount; i++) {
      cfg.names.push(String.UTF8.encode("x-bench-" + i.toString()));
      cfg.values.push(String.UTF8.encode("v" + i.toString()));
    }
  }
  return cfg;
}

class MockRoot extends RootContext {
  config: Config = new Config();

  createContext(context_id: u32): Context { return new MockHttp(context_id, this); }

  // 0.1.8's own onConfigure passes the size where a pointer belongs: read the buffer ourselves.
  onConfigure(configuration_size: u32): bool {
    if (configuration_size == 0) { // the SDK's get_buffer_bytes aborts on an empty buffer
      log(LogLevelValues.warn, "mock-response: invalid configuration: the configuration is empty");
      return false;
    }
    let bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    let cfg = parseConfig(String.UTF8.decode(bytes));
    if (cfg === null) {
      log(LogLevelValues.warn, "mock-response: invalid configuration: " + why);
      return false;
    }
    this.config = cfg;
    return true;
  }
}

// Host without its port: cut at the last ':' unless a ']' follows it ("[::1]:80" -> "[::1]").
function stripPort(host: string): string {
  let colon = host.lastIndexOf(":");
  return colon >= 0 && host.lastIndexOf("]") < colon ? host.substring(0, colon) : host;
}

// The route's name, "" if unknown. Stock Envoy 1.40 answers NotFound for ["route_name"] but serves
// ["xds", "route_name"]. (The SDK's get_property would abort on NotFound.)
const ROUTE_NAME_PATH = String.UTF8.encode("xds\0route_name");
const slots = new ArrayBuffer(8); // the host writes a buffer pointer and its size here
function routeName(): string {
  let path = changetype<usize>(ROUTE_NAME_PATH), at = changetype<usize>(slots);
  if (proxy_get_property(path, ROUTE_NAME_PATH.byteLength, at, at + 4) != 0) return "";
  let ptr = load<usize>(at), size = load<usize>(at + 4);
  let name = String.UTF8.decodeUnsafe(ptr, size);
  if (size > 0) free(ptr); // the host allocated it with the SDK's malloc
  return name;
}

class MockHttp extends Context {
  cfg: Config;
  waiting: ArrayBuffer | null = null; // body mode: the matched content while the body is buffered
  constructor(context_id: u32, root: MockRoot) {
    super(context_id, root);
    this.cfg = root.config;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let cfg = this.cfg;
    requests++;
    if (cfg.crashEvery > 0 && requests % <u64>cfg.crashEvery == 0) throw new Error("mock-response: crash_every");
    if (cfg.spin > 0) spin(<u64>cfg.spin);
    let body = this.pick(cfg);
    if (body === null) return FilterHeadersStatusValues.Continue;
    if (cfg.headers) {
      headerWork(cfg);
      return FilterHeadersStatusValues.Continue;
    }
    if (cfg.body && !end_of_stream) {
      this.waiting = body;
      return FilterHeadersStatusValues.StopIteration;
    }
    if (cfg.body) body = bodyReply(body, new ArrayBuffer(0));
    send_local_response(200, "", body, [], GrpcStatusValues.InvalidCode);
    return FilterHeadersStatusValues.StopIteration;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    let content = this.waiting;
    if (content === null) return FilterDataStatusValues.Continue;
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    // The SDK's get_buffer_bytes aborts on an empty buffer.
    let data = body_buffer_length == 0 ? new ArrayBuffer(0)
      : get_buffer_bytes(BufferTypeValues.HttpRequestBody, 0, <u32>body_buffer_length);
    send_local_response(200, "", bodyReply(content, data), [], GrpcStatusValues.InvalidCode);
    return FilterDataStatusValues.StopIterationAndBuffer;
  }

  // The first matching rule's content, else the global content, else null (do nothing).
  private pick(cfg: Config): ArrayBuffer | null {
    let route: string | null = null, host: string | null = null;
    for (let i = 0; i < cfg.rules.length; i++) {
      let rule = cfg.rules[i];
      if (rule.routes.length > 0) {
        if (route === null) route = routeName();
        if (rule.routes.includes(route)) return rule.content;
      } else {
        if (host === null) host = stripPort(stream_context.headers.request.get(":authority"));
        for (let j = 0; j < rule.domains.length; j++) if (rule.domains[j].matches(host)) return rule.content;
      }
    }
    return cfg.global;
  }
}

// The body mode's reply: content, a newline, "fnv1a32=<8 lowercase hex> len=<bytes>" (FNV-1a, 32 bits).
function bodyReply(content: ArrayBuffer, data: ArrayBuffer): ArrayBuffer {
  let h: u32 = 0x811c9dc5;
  let bytes = Uint8Array.wrap(data);
  for (let i = 0; i < bytes.length; i++) h = (h ^ <u32>bytes[i]) * 0x01000193;
  let hex = "";
  for (let shift: i32 = 28; shift >= 0; shift -= 4) hex += "0123456789abcdef".charAt(<i32>((h >> <u32>shift) & 0xf));
  let tail = String.UTF8.encode("\nfnv1a32=" + hex + " len=" + bytes.length.toString());
  let out = new Uint8Array(content.byteLength + tail.byteLength);
  out.set(Uint8Array.wrap(content), 0);
  out.set(Uint8Array.wrap(tail), content.byteLength);
  return out.buffer;
}

function spin(k: u64): void {
  let x: u64 = 0xcbf29ce484222325;
  for (let i: u64 = 0; i < k; i++) {
    x = (x ^ i) * 0x100000001b3;
    x ^= x >> 32;
  }
  if (x == 0) log(LogLevelValues.info, "mock-response: spin result was zero");
}

function headerWork(cfg: Config): void {
  let names = cfg.names, values = cfg.values;
  const REQ = HeaderMapTypeValues.RequestHeaders;
  for (let i = 0; i < names.length; i++) add_header_map_value(REQ, names[i], values[i]);
  for (let i = 0; i < names.length; i++) {
    if (!sameBytes(get_header_map_value(REQ, names[i]), values[i])) throw new Error("mock-response: header read back mismatch");
  }
  for (let i = 0; i < names.length; i++) remove_header_map_value(REQ, names[i]);
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), a.byteLength) == 0;
}

registerRootContext((context_id: u32): RootContext => new MockRoot(context_id), "mock-response");
