// A small strict JSON reader (RFC 8259): enough for the plugin configuration. As plugins/README.md
// says, it also rejects a member name twice in one object, nesting deeper than 64 levels and numbers
// beyond the range of a double.
// AssemblyScript 0.17 has no exceptions, so errors are reported through `Parser.err`.

export enum Kind { Null, Bool, Num, Str, Arr, Obj }

export class JValue {
  kind: Kind;
  text: string = "";   // string value, or the number exactly as written
  items: JValue[] = [];
  fields: Map<string, JValue> = new Map(); // names never repeat: the parser rejects that
  constructor(kind: Kind) { this.kind = kind; }
}

const MAX_DEPTH = 64;

export class Parser {
  s: string;
  i: i32 = 0;
  err: string = ""; // set on the first error

  constructor(s: string) { this.s = s; }

  // Parses a whole document; null (and `err` set) if it is not valid JSON.
  parse(): JValue | null {
    let v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.i < this.s.length) return this.fail("trailing characters");
    return v;
  }

  private fail(what: string): JValue | null {
    if (this.err == "") this.err = "invalid JSON: " + what + " at offset " + this.i.toString();
    return null;
  }

  private peek(): i32 { return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1; }

  private ws(): void {
    let c = this.peek();
    while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) { this.i++; c = this.peek(); }
  }

  private literal(word: string, kind: Kind, text: string): JValue | null {
    if (this.s.substr(this.i, word.length) != word) return this.fail("unexpected character");
    this.i += word.length;
    let v = new JValue(kind);
    v.text = text;
    return v;
  }

  private value(depth: i32): JValue | null {
    this.ws();
    let c = this.peek();
    if (c == 0x7b /* { */ || c == 0x5b /* [ */) {
      if (depth >= MAX_DEPTH) return this.fail("nesting too deep");
      return c == 0x7b ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c == 0x22 /* " */) {
      let text = this.string();
      if (text === null) return null;
      let v = new JValue(Kind.Str);
      v.text = text;
      return v;
    }
    if (c == 0x2d /* - */ || isDigit(c)) return this.number();
    if (c == 0x74 /* t */) return this.literal("true", Kind.Bool, "true");
    if (c == 0x66 /* f */) return this.literal("false", Kind.Bool, "false");
    if (c == 0x6e /* n */) return this.literal("null", Kind.Null, "");
    return this.fail(c < 0 ? "unexpected end" : "unexpected character");
  }

  private object(depth: i32): JValue | null {
    let v = new JValue(Kind.Obj);
    this.i++; // {
    this.ws();
    if (this.peek() == 0x7d) { this.i++; return v; }
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      let key = this.string();
      if (key === null) return null;
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.i++;
      if (v.fields.has(key)) return this.fail("duplicate member name");
      let item = this.value(depth);
      if (item === null) return null;
      v.fields.set(key, item);
      this.ws();
      let c = this.peek();
      this.i++;
      if (c == 0x7d) return v;
      if (c != 0x2c) { this.i--; return this.fail("expected ',' or '}'"); }
    }
    return null; // unreachable, keeps the compiler's flow analysis happy
  }

  private array(depth: i32): JValue | null {
    let v = new JValue(Kind.Arr);
    this.i++; // [
    this.ws();
    if (this.peek() == 0x5d) { this.i++; return v; }
    while (true) {
      let item = this.value(depth);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      let c = this.peek();
      this.i++;
      if (c == 0x5d) return v;
      if (c != 0x2c) { this.i--; return this.fail("expected ',' or ']'"); }
    }
    return null;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as written.
  private number(): JValue | null {
    let start = this.i;
    if (this.peek() == 0x2d) this.i++;
    if (this.peek() == 0x30) this.i++;
    else if (!this.digits()) return this.fail("bad number");
    if (this.peek() == 0x2e) { this.i++; if (!this.digits()) return this.fail("bad number"); }
    let c = this.peek();
    if (c == 0x65 || c == 0x45) {
      this.i++;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) this.i++;
      if (!this.digits()) return this.fail("bad number");
    }
    let v = new JValue(Kind.Num);
    v.text = this.s.substring(start, this.i);
    let d = parseFloat(v.text);
    if (d == Infinity || d == -Infinity) return this.fail("number beyond the range of a double");
    return v;
  }

  private digits(): bool {
    let start = this.i;
    while (isDigit(this.peek())) this.i++;
    return this.i > start;
  }

  // A string literal with its escapes decoded (a \uXXXX surrogate pair becomes one code point).
  private string(): string | null {
    this.i++; // opening quote
    let out = "";
    let start = this.i;
    while (true) {
      let c = this.peek();
      if (c < 0) { this.fail("unterminated string"); return null; }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c == 0x22) { out += this.s.substring(start, this.i); this.i++; return out; }
      if (c != 0x5c) { this.i++; continue; }
      out += this.s.substring(start, this.i);
      this.i++; // backslash
      let e = this.peek();
      this.i++;
      if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        let u = this.hex4();
        if (u >= 0xdc00 && u <= 0xdfff) { this.fail("lone low surrogate"); return null; }
        if (u >= 0xd800 && u <= 0xdbff) {
          let lo = -1;
          if (this.peek() == 0x5c && this.s.charCodeAt(this.i + 1) == 0x75) { this.i += 2; lo = this.hex4(); }
          if (lo < 0xdc00 || lo > 0xdfff) { this.fail("lone high surrogate"); return null; }
          out += String.fromCharCode(u) + String.fromCharCode(lo);
        } else if (u >= 0) {
          out += String.fromCharCode(u);
        } else {
          this.fail("bad \\u escape"); return null;
        }
      } else { this.i--; this.fail("bad escape"); return null; }
      start = this.i;
    }
    return null;
  }

  // Four hex digits after "\u"; -1 if malformed.
  private hex4(): i32 {
    if (this.i + 4 > this.s.length) return -1;
    let u = 0;
    for (let k = 0; k < 4; k++) {
      let c = this.s.charCodeAt(this.i + k);
      let d = isDigit(c) ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (d < 0) return -1;
      u = (u << 4) | d;
    }
    this.i += 4;
    return u;
  }
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
