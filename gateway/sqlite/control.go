package sqlite

import (
	"context"
	"fmt"

	"github.com/edigate/edigate/gateway"
)

// NextControl allocates the next outbound control number of a kind (ISA,
// GS, ST) for a partner: 1 first, then each call one more, in one write
// transaction, so that no number is handed out twice, also across
// restarts. Numbers keep increasing and never wrap: an ISA13 past
// 999999999 (nine digits) is the caller's to refuse or wrap.
func (d *DB) NextControl(partner, kind string) (int64, error) {
	if partner == "" || kind == "" {
		return 0, gateway.Errorf(gateway.EINVALID, "control number: partner and kind are required")
	}
	var n int64
	err := d.write.QueryRowContext(context.Background(), `INSERT INTO controls (partner, kind, last) VALUES (?, ?, 1)
		ON CONFLICT (partner, kind) DO UPDATE SET last = last + 1
		RETURNING last`, partner, kind).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("allocating %s control number for %s: %w", kind, partner, err)
	}
	return n, nil
}
