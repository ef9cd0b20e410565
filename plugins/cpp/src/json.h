// A small strict JSON (RFC 8259) reader: objects, arrays, strings (every escape, \uXXXX with
// surrogate pairs, to UTF-8), numbers, true/false/null. Rejects trailing commas, leading zeros,
// control characters and invalid UTF-8 in strings, lone surrogates, anything after the value, and
// (plugins/README.md) a member name twice in one object, nesting deeper than 64 levels and numbers
// beyond the range of a double.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace json {

enum class Type { Null, Bool, Number, String, Array, Object };

struct Value {
  Type type = Type::Null;
  bool boolean = false;
  std::string text;               // String: decoded UTF-8; Number: the literal as written
  std::vector<std::string> keys;  // Object: member names, parallel to items
  std::vector<Value> items;       // Array elements or Object member values

  // Object member by name (names never repeat: the parser rejects that), or nullptr.
  const Value* get(std::string_view key) const {
    for (size_t i = keys.size(); i-- > 0;)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  // Parses the whole input; on failure returns false and sets `error`.
  bool parse(Value& out, std::string& error) {
    bool ok = value(out, 0) && (ws(), pos_ == in_.size() || fail("unexpected data after the value"));
    if (!ok) error = "invalid JSON at byte " + std::to_string(pos_) + ": " + error_;
    return ok;
  }

 private:
  static constexpr int kMaxDepth = 64;  // the top-level value is level 1
  std::string_view in_;
  size_t pos_ = 0;
  const char* error_ = "";

  bool fail(const char* why) { return error_ = why, false; }
  int peek() const { return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1; }
  void ws() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') pos_++;
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(Value& v, int depth) {
    ws();
    switch (peek()) {
      case '{': return object(v, depth + 1);
      case '[': return array(v, depth + 1);
      case '"': return v.type = Type::String, string(v.text);
      case 't': return v.type = Type::Bool, v.boolean = true, literal("true");
      case 'f': return v.type = Type::Bool, literal("false");
      case 'n': return literal("null");
      case -1: return fail("unexpected end of input");
      default: return v.type = Type::Number, number(v.text);
    }
  }

  bool object(Value& v, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    v.type = Type::Object;
    pos_++;  // '{'
    ws();
    if (peek() == '}') return pos_++, true;
    for (;;) {
      ws();
      if (peek() != '"') return fail("expected a member name");
      v.keys.emplace_back();
      if (!string(v.keys.back())) return false;
      for (size_t k = 0; k + 1 < v.keys.size(); k++)
        if (v.keys[k] == v.keys.back()) return fail("duplicate member name");
      ws();
      if (peek() != ':') return fail("expected ':'");
      pos_++;
      v.items.emplace_back();
      if (!value(v.items.back(), depth)) return false;
      ws();
      if (peek() == '}') return pos_++, true;
      if (peek() != ',') return fail("expected ',' or '}'");
      pos_++;
    }
  }

  bool array(Value& v, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    v.type = Type::Array;
    pos_++;  // '['
    ws();
    if (peek() == ']') return pos_++, true;
    for (;;) {
      v.items.emplace_back();
      if (!value(v.items.back(), depth)) return false;
      ws();
      if (peek() == ']') return pos_++, true;
      if (peek() != ',') return fail("expected ',' or ']'");
      pos_++;
    }
  }

  bool digits() {
    size_t start = pos_;
    while (peek() >= '0' && peek() <= '9') pos_++;
    return pos_ > start || fail("expected a digit");
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(std::string& out) {
    size_t start = pos_;
    if (peek() == '-') pos_++;
    if (peek() == '0') {
      pos_++;
      if (peek() >= '0' && peek() <= '9') return fail("leading zero in a number");
    } else if (!digits()) {
      return fail("unexpected character");
    }
    if (peek() == '.' && (pos_++, !digits())) return false;
    if (peek() == 'e' || peek() == 'E') {
      pos_++;
      if (peek() == '+' || peek() == '-') pos_++;
      if (!digits()) return false;
    }
    out.assign(in_.substr(start, pos_ - start));
    double d = std::strtod(out.c_str(), nullptr);
    if (d == HUGE_VAL || d == -HUGE_VAL) return fail("number beyond the range of a double");
    return true;
  }

  bool hex4(uint32_t& u) {
    u = 0;
    for (int i = 0; i < 4; i++, pos_++) {
      int c = peek(), d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return fail("invalid \\u escape");
      u = u * 16 + static_cast<uint32_t>(d);
    }
    return true;
  }

  static void put_utf8(std::string& out, uint32_t u) {
    if (u < 0x80) {
      out += static_cast<char>(u);
    } else if (u < 0x800) {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      out += static_cast<char>(0xE0 | (u >> 12));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (u & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (u >> 18));
      out += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }

  // After '\u' XXXX: one code point, joining a surrogate pair.
  bool unicode_escape(std::string& out) {
    uint32_t u;
    if (!hex4(u)) return false;
    if (u >= 0xDC00 && u <= 0xDFFF) return fail("lone low surrogate");
    if (u >= 0xD800 && u <= 0xDBFF) {
      uint32_t low;
      if (in_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
      pos_ += 2;
      if (!hex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return fail("lone high surrogate");
      u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
    }
    put_utf8(out, u);
    return true;
  }

  // One raw UTF-8 sequence (lead byte >= 0x80), checked: no overlongs, no surrogates, <= U+10FFFF.
  bool utf8(std::string& out) {
    int c = peek(), n;
    uint32_t u, min;
    if (c >= 0xC2 && c <= 0xDF) n = 1, u = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, u = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, u = c & 0x07, min = 0x10000;
    else return fail("invalid UTF-8");
    size_t start = pos_++;
    for (int i = 0; i < n; i++, pos_++) {
      if ((peek() & 0xC0) != 0x80) return fail("invalid UTF-8");
      u = (u << 6) | (peek() & 0x3F);
    }
    if (u < min || u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF)) return pos_ = start, fail("invalid UTF-8");
    out.append(in_.substr(start, pos_ - start));
    return true;
  }

  bool string(std::string& out) {
    pos_++;  // opening quote
    for (;;) {
      int c = peek();
      if (c == '"') return pos_++, true;
      if (c == -1) return fail("unterminated string");
      if (c < 0x20) return fail("control character in a string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      pos_++;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      c = peek();
      pos_++;
      switch (c) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': if (!unicode_escape(out)) return false; break;
        default: return pos_--, fail("invalid escape");
      }
    }
  }
};

}  // namespace json
