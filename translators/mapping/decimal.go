package mapping

import (
	"fmt"
	"math/big"
	"strings"
)

// normDecimal checks a decimal number and writes it in canonical form:
// no plus sign, no superfluous leading zeros, a zero before a leading point,
// trailing zeros kept (they carry the sender's precision).
func normDecimal(s string) (string, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac, hasPoint := strings.Cut(t, ".")
	if intPart == "" && frac == "" || !digitsOnly(intPart) || !digitsOnly(frac) || strings.Contains(frac, ".") {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if hasPoint && frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// impliedToDecimal reads an Nn value: "1234" with 2 implied decimals is "12.34".
func impliedToDecimal(s string, n int) (string, error) {
	neg := strings.HasPrefix(s, "-")
	d := strings.TrimPrefix(s, "-")
	if d == "" || !digitsOnly(d) {
		return "", fmt.Errorf("%q is not a number with %d implied decimals", s, n)
	}
	for len(d) <= n {
		d = "0" + d
	}
	out := d[:len(d)-n]
	if n > 0 {
		out += "." + d[len(d)-n:]
	}
	out, _ = normDecimal(out)
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, nil
}

// decimalToImplied writes a decimal as an Nn value: "12.34" with 2 is "1234".
// It refuses to drop precision.
func decimalToImplied(s string, n int) (string, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)))
	if !scaled.IsInt() {
		return "", fmt.Errorf("%s has more than %d decimals", s, n)
	}
	return scaled.Num().String(), nil
}

// scaleDecimal multiplies (or, with divide, divides) a decimal by factor and
// formats the result with as few decimals as are exact, at most 6.
func scaleDecimal(s, factor string, divide bool) (string, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	f, ok := new(big.Rat).SetString(factor)
	if !ok || f.Sign() == 0 {
		return "", fmt.Errorf("conversion factor %q is not a non-zero number", factor)
	}
	if divide {
		r.Quo(r, f)
	} else {
		r.Mul(r, f)
	}
	// Keep at least the precision the value was given with (41.40, 7.20).
	start := 0
	if _, frac, ok := strings.Cut(s, "."); ok {
		start = len(frac)
	}
	for prec := start; prec <= 6; prec++ {
		out := r.FloatString(prec)
		if back, _ := new(big.Rat).SetString(out); back.Cmp(r) == 0 {
			return out, nil
		}
	}
	return r.FloatString(6), nil
}
