package mockconfig

// The strict reading of the configuration text that every implementation shares (../README.md, "Types"):
// RFC 8259 JSON, plus what gjson lets through or leaves to chance: a member name twice in one object (gjson
// answers the first, most JSON readers the last: rejected), a lone surrogate escape (gjson turns it into
// U+FFFD: rejected), nesting deeper than MaxDepth levels, a number beyond the range of a double.

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// MaxDepth is how deep arrays and objects may nest; the top-level value is level 1.
const MaxDepth = 64

type scanner struct {
	data []byte
	pos  int
}

// checkStrict returns why data is not a configuration text every implementation reads the same way.
func checkStrict(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("not valid UTF-8")
	}
	s := &scanner{data: data}
	if err := s.value(1); err != nil {
		return fmt.Errorf("invalid JSON at byte %d: %v", s.pos, err)
	}
	s.ws()
	if s.pos != len(data) {
		return fmt.Errorf("invalid JSON at byte %d: unexpected data after the value", s.pos)
	}
	return nil
}

func (s *scanner) peek() int {
	if s.pos < len(s.data) {
		return int(s.data[s.pos])
	}
	return -1
}

func (s *scanner) ws() {
	for c := s.peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = s.peek() {
		s.pos++
	}
}

func (s *scanner) value(depth int) error {
	s.ws()
	switch c := s.peek(); {
	case c == '{' || c == '[':
		if depth > MaxDepth {
			return fmt.Errorf("arrays and objects nested deeper than %d levels", MaxDepth)
		}
		if c == '{' {
			return s.object(depth)
		}
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c < 0:
		return fmt.Errorf("unexpected end of input")
	default:
		return fmt.Errorf("unexpected character")
	}
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return fmt.Errorf("invalid literal")
	}
	s.pos += len(word)
	return nil
}

func (s *scanner) object(depth int) error {
	s.pos++ // '{'
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	seen := map[string]bool{}
	for {
		s.ws()
		if s.peek() != '"' {
			return fmt.Errorf("expected a member name")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if seen[key] {
			return fmt.Errorf("duplicate member name %q", key)
		}
		seen[key] = true
		s.ws()
		if s.peek() != ':' {
			return fmt.Errorf("expected ':'")
		}
		s.pos++
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case '}':
			s.pos++
			return nil
		case ',':
			s.pos++
		default:
			return fmt.Errorf("expected ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.ws()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ']':
			s.pos++
			return nil
		case ',':
			s.pos++
		default:
			return fmt.Errorf("expected ',' or ']'")
		}
	}
}

func (s *scanner) digits() bool {
	start := s.pos
	for c := s.peek(); c >= '0' && c <= '9'; c = s.peek() {
		s.pos++
	}
	return s.pos > start
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, within the range of a double.
func (s *scanner) number() error {
	start := s.pos
	if s.peek() == '-' {
		s.pos++
	}
	if s.peek() == '0' {
		s.pos++
	} else if !s.digits() {
		return fmt.Errorf("bad number")
	}
	if s.peek() == '.' {
		s.pos++
		if !s.digits() {
			return fmt.Errorf("bad number")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !s.digits() {
			return fmt.Errorf("bad number")
		}
	}
	f, _ := strconv.ParseFloat(string(s.data[start:s.pos]), 64)
	if math.IsInf(f, 0) {
		return fmt.Errorf("number beyond the range of a double")
	}
	return nil
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.pos += 4
	return rune(v), true
}

// str reads a string literal and returns it decoded (surrogate pairs joined; lone ones are errors).
func (s *scanner) str() (string, error) {
	s.pos++ // opening quote
	var out []byte
	for {
		c := s.peek()
		switch {
		case c < 0:
			return "", fmt.Errorf("unterminated string")
		case c < 0x20:
			return "", fmt.Errorf("control character in a string")
		case c == '"':
			s.pos++
			return string(out), nil
		case c != '\\':
			out = append(out, byte(c))
			s.pos++
			continue
		}
		s.pos++
		e := s.peek()
		s.pos++
		switch e {
		case '"', '\\', '/':
			out = append(out, byte(e))
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, err := s.unicode()
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", fmt.Errorf("invalid escape")
		}
	}
}

// unicode reads XXXX after `\u` (and a low surrogate's `\uXXXX` after a high one).
func (s *scanner) unicode() (rune, error) {
	r, ok := s.hex4()
	if !ok {
		return 0, fmt.Errorf("invalid \\u escape")
	}
	if r >= 0xdc00 && r <= 0xdfff {
		return 0, fmt.Errorf("lone low surrogate")
	}
	if r < 0xd800 || r > 0xdbff {
		return r, nil
	}
	if len(s.data)-s.pos < 2 || s.data[s.pos] != '\\' || s.data[s.pos+1] != 'u' {
		return 0, fmt.Errorf("lone high surrogate")
	}
	s.pos += 2
	lo, ok := s.hex4()
	if !ok || lo < 0xdc00 || lo > 0xdfff {
		return 0, fmt.Errorf("lone high surrogate")
	}
	return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), nil
}
