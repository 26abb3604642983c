package recon

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Decimal is an exact fixed-point number with six fractional digits, as
// quantities and prices in canonical documents are. The zero value is 0.
// Its range is ±9,223,372,036,854.775807.
type Decimal struct {
	v int64 // the number times 10^6
}

const (
	fracDigits = 6
	scale      = 1_000_000
	maxUnits   = math.MaxInt64 // the range is symmetric: -maxUnits .. maxUnits
)

// Errors of ParseDecimal, wrapped with the text that failed.
var (
	ErrSyntax    = errors.New("not a decimal number")
	ErrPrecision = errors.New("more than 6 decimals")
	ErrRange     = errors.New("out of range")
)

// parse outcomes; Check uses them without building errors.
const (
	parseOK = iota
	parseSyntax
	parsePrecision
	parseRange
)

// ParseDecimal reads an optional sign, digits and an optional fraction
// ("12", "-0.5", "12.50", ".5"). Fraction digits past the sixth must be
// zeros.
func ParseDecimal(s string) (Decimal, error) {
	d, r := parseDecimal(s, false)
	switch r {
	case parseSyntax:
		return Decimal{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	case parsePrecision:
		return Decimal{}, fmt.Errorf("%q: %w", s, ErrPrecision)
	case parseRange:
		return Decimal{}, fmt.Errorf("%q: %w", s, ErrRange)
	}
	return d, nil
}

// MustParseDecimal is ParseDecimal for constants; it panics on an error.
func MustParseDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// parseDecimal is ParseDecimal without allocation. With round, digits past
// the sixth are rounded half away from zero instead of refused: documents
// are compared at six decimals.
func parseDecimal(s string, round bool) (Decimal, int) {
	i, n := 0, len(s)
	neg := false
	if i < n && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	const maxInt = maxUnits / scale // largest integer part
	var ip uint64
	digits := 0
	for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
		ip = ip*10 + uint64(s[i]-'0')
		if ip > maxInt {
			// Keep validating so garbage reports as garbage, not range.
			for i++; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			}
			if i < n && s[i] == '.' {
				for i++; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
				}
			}
			if i != n {
				return Decimal{}, parseSyntax
			}
			return Decimal{}, parseRange
		}
		digits++
	}
	var fp uint64
	fd := 0
	up := false
	if i < n && s[i] == '.' {
		for i++; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
			c := s[i] - '0'
			switch {
			case fd < fracDigits:
				fp = fp*10 + uint64(c)
				fd++
			case fd == fracDigits && round:
				up = c >= 5
				fd++
			case c != 0 && !round:
				return Decimal{}, checkRest(s, i, parsePrecision)
			}
		}
	}
	if i != n || digits == 0 {
		return Decimal{}, parseSyntax
	}
	if fd > fracDigits {
		fd = fracDigits
	}
	for ; fd < fracDigits; fd++ {
		fp *= 10
	}
	u := ip*scale + fp
	if up {
		u++
	}
	if u > maxUnits {
		return Decimal{}, parseRange
	}
	if neg {
		return Decimal{-int64(u)}, parseOK
	}
	return Decimal{int64(u)}, parseOK
}

// checkRest returns r when s[i:] is all digits, else a syntax error.
func checkRest(s string, i, r int) int {
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return parseSyntax
		}
	}
	return r
}

// String writes d with as few decimals as are exact: "12.5", "10", "-0.25".
func (d Decimal) String() string { return d.Format(0) }

// Format writes d with at least minFrac decimals (at most 6 are written):
// Format(2) of 12.5 is "12.50", of 1.041667 is "1.041667".
func (d Decimal) Format(minFrac int) string {
	var buf [32]byte
	return string(d.append(buf[:0], minFrac))
}

func (d Decimal) append(b []byte, minFrac int) []byte {
	u := uint64(d.v)
	if d.v < 0 {
		b = append(b, '-')
		u = uint64(-d.v) // d.v > MinInt64: the range is symmetric
	}
	ip, fp := u/scale, u%scale
	var tmp [20]byte
	k := len(tmp)
	for {
		k--
		tmp[k] = byte('0' + ip%10)
		ip /= 10
		if ip == 0 {
			break
		}
	}
	b = append(b, tmp[k:]...)
	minFrac = min(max(minFrac, 0), fracDigits)
	nf := fracDigits
	for nf > minFrac && fp%10 == 0 {
		fp /= 10
		nf--
	}
	if nf > 0 {
		b = append(b, '.')
		var f [fracDigits]byte
		for j := nf - 1; j >= 0; j-- {
			f[j] = byte('0' + fp%10)
			fp /= 10
		}
		b = append(b, f[:nf]...)
	}
	return b
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	switch {
	case d.v < e.v:
		return -1
	case d.v > e.v:
		return 1
	}
	return 0
}

// Equal says whether d and e are the same number.
func (d Decimal) Equal(e Decimal) bool { return d.v == e.v }

// Less says whether d < e.
func (d Decimal) Less(e Decimal) bool { return d.v < e.v }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.Cmp(Decimal{}) }

// IsZero says whether d is 0.
func (d Decimal) IsZero() bool { return d.v == 0 }

// Neg returns -d.
func (d Decimal) Neg() Decimal { return Decimal{-d.v} }

// Abs returns |d|.
func (d Decimal) Abs() Decimal {
	if d.v < 0 {
		return Decimal{-d.v}
	}
	return d
}

// Add returns d+e, saturating at the ends of the range.
func (d Decimal) Add(e Decimal) Decimal {
	r := d.v + e.v // wraps on overflow, which the signs reveal
	switch {
	case d.v > 0 && e.v > 0 && r < 0:
		return Decimal{maxUnits}
	case d.v < 0 && e.v < 0 && r >= 0, r == math.MinInt64:
		return Decimal{-maxUnits}
	}
	return Decimal{r}
}

// Sub returns d-e, saturating at the ends of the range.
func (d Decimal) Sub(e Decimal) Decimal { return d.Add(e.Neg()) }

// absDiff is |a-b| exactly (it fits in 64 unsigned bits).
func absDiff(a, b Decimal) uint64 {
	if a.v >= b.v {
		return uint64(a.v) - uint64(b.v)
	}
	return uint64(b.v) - uint64(a.v)
}

func absUnits(d Decimal) uint64 {
	if d.v < 0 {
		return uint64(-d.v)
	}
	return uint64(d.v)
}

// withinQty says whether |actual-expected| <= tol.
func withinQty(actual, expected, tol Decimal) bool {
	return absDiff(actual, expected) <= absUnits(tol)
}

// withinPrice says whether |actual-expected| <= max(abs, |expected|*pct/100),
// exactly: in units of 10^-6, d <= e*p/10^8 is d*10^8 <= e*p, compared in
// 128 bits.
func withinPrice(actual, expected, abs, pct Decimal) bool {
	d := absDiff(actual, expected)
	if d <= absUnits(abs) {
		return true
	}
	if pct.v <= 0 {
		return false
	}
	hi1, lo1 := bits.Mul64(d, 100*scale)
	hi2, lo2 := bits.Mul64(absUnits(expected), uint64(pct.v))
	return hi1 < hi2 || hi1 == hi2 && lo1 <= lo2
}
