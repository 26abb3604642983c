package recon

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	good := []struct{ in, want string }{
		{"0", "0"},
		{"10", "10"},
		{"-0.5", "-0.5"},
		{"+1.25", "1.25"},
		{"12.50", "12.5"},
		{".5", "0.5"},
		{"5.", "5"},
		{"007", "7"},
		{"-0", "0"},
		{"-0.000", "0"},
		{"0.000001", "0.000001"},
		{"1.1234560000", "1.123456"},
		{"9223372036854.775807", "9223372036854.775807"},
		{"-9223372036854.775807", "-9223372036854.775807"},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseDecimal(tc.in)
			if err != nil {
				t.Fatalf("ParseDecimal(%q): %v", tc.in, err)
			}
			if got := d.String(); got != tc.want {
				t.Errorf("ParseDecimal(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"-", ErrSyntax},
		{"+", ErrSyntax},
		{".", ErrSyntax},
		{"abc", ErrSyntax},
		{"1.2.3", ErrSyntax},
		{"1e3", ErrSyntax},
		{" 1", ErrSyntax},
		{"1 ", ErrSyntax},
		{"1,5", ErrSyntax},
		{"--1", ErrSyntax},
		{"12a", ErrSyntax},
		{"1.1234567x", ErrSyntax},
		{"99999999999999999999x", ErrSyntax},
		{"1.1234567", ErrPrecision},
		{"1.0000001", ErrPrecision},
		{"0.00000000001", ErrPrecision},
		{"9223372036854.775808", ErrRange},
		{"-9223372036854.775808", ErrRange},
		{"9223372036855", ErrRange},
		{"99999999999999999999999", ErrRange},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.in, func(t *testing.T) {
			d, err := ParseDecimal(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseDecimal(%q) = %v, %v; want %v", tc.in, d, err, tc.want)
			}
		})
	}
}

func TestDecimalRounding(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.0416666", "1.041667"},
		{"1.0416664", "1.041666"},
		{"-1.0416665", "-1.041667"},
		{"0.9999995", "1"},
		{"2.00000049999", "2"},
	} {
		d, r := parseDecimal(tc.in, true)
		if r != parseOK || d.String() != tc.want {
			t.Errorf("parseDecimal(%q, round) = %s, %d; want %s", tc.in, d, r, tc.want)
		}
	}
}

func TestDecimalFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		min  int
		want string
	}{
		{"12.5", 2, "12.50"},
		{"12", 2, "12.00"},
		{"1.041667", 2, "1.041667"},
		{"-0.5", 2, "-0.50"},
		{"3", 0, "3"},
		{"3.1", 9, "3.100000"},
	} {
		if got := MustParseDecimal(tc.in).Format(tc.min); got != tc.want {
			t.Errorf("Format(%s, %d) = %s, want %s", tc.in, tc.min, got, tc.want)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	d := MustParseDecimal
	if got := d("1.5").Add(d("2.25")); got.String() != "3.75" {
		t.Errorf("1.5+2.25 = %s", got)
	}
	if got := d("1.5").Sub(d("2.25")); got.String() != "-0.75" {
		t.Errorf("1.5-2.25 = %s", got)
	}
	max, min := d("9223372036854.775807"), d("-9223372036854.775807")
	if got := max.Add(d("1")); !got.Equal(max) {
		t.Errorf("max+1 = %s, want saturation", got)
	}
	if got := min.Sub(d("1")); !got.Equal(min) {
		t.Errorf("min-1 = %s, want saturation", got)
	}
	if got := min.Add(d("-0.000001")); !got.Equal(min) {
		t.Errorf("min-0.000001 = %s, want saturation", got)
	}
	if d("2").Cmp(d("10")) != -1 || d("10").Cmp(d("2")) != 1 || d("2.0").Cmp(d("2")) != 0 {
		t.Error("Cmp is wrong")
	}
	if !d("-3").Less(d("1")) || d("-3").Abs().String() != "3" || d("-3").Sign() != -1 || !d("0.000").IsZero() {
		t.Error("Less, Abs, Sign or IsZero is wrong")
	}
}

func TestWithinPrice(t *testing.T) {
	d := MustParseDecimal
	for _, tc := range []struct {
		actual, expected, abs, pct string
		want                       bool
	}{
		{"100.50", "100.00", "0", "0.5", true}, // exactly 0.5 %
		{"100.500001", "100.00", "0", "0.5", false},
		{"99.50", "100.00", "0", "0.5", true},
		{"1.00", "0.99", "0.01", "0.5", true}, // absolute wins
		{"1.01", "0.99", "0.01", "0.5", false},
		{"12.50", "12.50", "0", "0", true},
		{"12.51", "12.50", "0", "0", false},
		{"9000000000000", "8000000000000", "0", "12.5", true}, // 128-bit products
		{"9000000000000", "8000000000000", "0", "12.499999", false},
		{"-1", "1", "0", "200", true},
	} {
		got := withinPrice(d(tc.actual), d(tc.expected), d(tc.abs), d(tc.pct))
		if got != tc.want {
			t.Errorf("withinPrice(%s, %s, abs %s, %s%%) = %v, want %v", tc.actual, tc.expected, tc.abs, tc.pct, got, tc.want)
		}
	}
}

// TestWithinPriceExact compares the 128-bit test with exact rationals.
func TestWithinPriceExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rat := func(d Decimal) *big.Rat { return big.NewRat(d.v, scale) }
	for range 20000 {
		e := Decimal{r.Int64N(maxUnits / 2)}
		a := Decimal{e.v + r.Int64N(1<<40) - 1<<39}
		if r.IntN(2) == 0 {
			a = Decimal{r.Int64N(maxUnits)}
		}
		abs := Decimal{r.Int64N(1 << 30)}
		pct := Decimal{r.Int64N(200 * scale)}
		diff := new(big.Rat).Sub(rat(a), rat(e))
		diff.Abs(diff)
		tol := new(big.Rat).Mul(rat(e), rat(pct))
		tol.Quo(tol, big.NewRat(100, 1))
		if rat(abs).Cmp(tol) > 0 {
			tol = rat(abs)
		}
		want := diff.Cmp(tol) <= 0
		if got := withinPrice(a, e, abs, pct); got != want {
			t.Fatalf("withinPrice(%s, %s, %s, %s) = %v, want %v", a, e, abs, pct, got, want)
		}
	}
}

func TestParseDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01", 0, true},
		{"1970-01-02", 1, true},
		{"2000-03-01", 11017, true},
		{"2024-02-29", 19782, true},
		{"2023-02-29", 0, false},
		{"2026-13-01", 0, false},
		{"2026-1-01", 0, false},
		{"20261201", 0, false},
	} {
		got, ok := parseDay(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseDay(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && formatDay(got) != tc.in {
			t.Errorf("formatDay(parseDay(%q)) = %s", tc.in, formatDay(got))
		}
	}
}
