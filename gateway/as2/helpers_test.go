package as2

import (
	"crypto"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func micHashSHA256() crypto.Hash { return crypto.SHA256 }

func itoa(n int) string { return strconv.Itoa(n) }

// newLoopbackServer serves h on 127.0.0.1 for the test's duration.
func newLoopbackServer(t testing.TB, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
