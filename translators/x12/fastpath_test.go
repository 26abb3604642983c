package x12_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// TestFastPathsAgree damages generated interchanges of every set and
// version, one byte at a time, and checks that the validator's fast paths
// (plain elements, remembered placements and syntax notes, HL parent bits)
// report exactly what its careful paths report.
func TestFastPathsAgree(t *testing.T) {
	reg := x12.MustLoadRegistry()
	bytesToTry := []byte("09AZaz*~:^|- .\n\x00\xe9")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			clean := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 3}, 4<<10)
			for range 150 {
				b := slices.Clone(clean)
				for range 1 + rng.IntN(3) {
					b[rng.IntN(len(b))] = bytesToTry[rng.IntN(len(bytesToTry))]
				}
				fast, careful := x12.IssuesOf(reg, b, false), x12.IssuesOf(reg, b, true)
				if !slices.Equal(fast, careful) {
					t.Fatalf("%s %s: fast and careful validation differ on\n%s\nfast:\n%s\ncareful:\n%s", set, version, b, strings.Join(fast, "\n"), strings.Join(careful, "\n"))
				}
			}
		}
	}
}
