package erp

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edigate/edigate/partners"
)

// value checks and normalizes the value of field f: surrounding spaces
// are dropped, required fields must be there, decimals and dates must
// parse, and the partner is translated through the Mapping's partners.
func (s *spec) value(f int, c cell) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	v := strings.TrimSpace(c.value)
	switch {
	case !utf8.ValidString(v):
		return "", ErrNotText
	case v == "" && required[f]:
		return "", ErrMissingValue
	case v == "":
		return "", nil
	}
	switch f {
	case fieldPartner:
		if p, ok := s.partners[v]; ok {
			v = strings.TrimSpace(p)
		}
		if !partners.ValidID(v) {
			return "", fmt.Errorf("%w: %q (map the ERP's vendor codes to partner ids with partners: in the mapping)", ErrNotPartner, v)
		}
	case fieldQuantity:
		n, err := parseDecimal(v, s.comma && !c.number)
		if err != nil {
			return "", err
		}
		if !positive(n) {
			return "", fmt.Errorf("%w: %q", ErrNotPositive, v)
		}
		return n, nil
	case fieldUnitPrice:
		return parseDecimal(v, s.comma && !c.number)
	case fieldPODate, fieldRequestedDate:
		t, err := time.Parse(s.dateFormat, v)
		if err != nil {
			return "", fmt.Errorf("%w in format %q: %q", ErrNotDate, s.dateFormat, v)
		}
		return t.Format(DefaultDateFormat), nil
	}
	return v, nil
}

// parseDecimal checks that v is an optional sign, digits and an optional
// fraction, and normalizes it: "+" and leading zeros go, the fraction's
// digits stay as given, and a decimal comma becomes a point. With comma,
// the separator must be ","; otherwise it must be ".".
func parseDecimal(v string, comma bool) (string, error) {
	bad := fmt.Errorf("%w: %q", ErrNotDecimal, v)
	sep := "."
	if comma {
		sep = ","
	}
	sign, digits := "", v
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		sign, digits = digits[:1], digits[1:]
	}
	whole, frac, hasFrac := strings.Cut(digits, sep)
	if !allDigits(whole) || (hasFrac && !allDigits(frac)) {
		return "", bad
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if sign == "+" || strings.Trim(whole+frac, "0") == "" {
		sign = ""
	}
	n := sign + whole
	if hasFrac {
		n += "." + frac
	}
	return n, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// positive reports whether a normalized decimal is greater than zero.
func positive(n string) bool {
	return !strings.HasPrefix(n, "-") && strings.Trim(n, "0.") != ""
}
