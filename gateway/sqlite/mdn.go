package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/edigate/edigate/gateway"
)

// SaveMDN keeps (or replaces) the MDN sent for an AS2 message.
func (d *DB) SaveMDN(ctx context.Context, messageID string, mdn []byte) error {
	if mdn == nil {
		mdn = []byte{}
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ?`, messageID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %q: %w", messageID, gateway.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mdns (message_id, mdn, created_at) VALUES (?, ?, ?)
			ON CONFLICT (message_id) DO UPDATE SET mdn = excluded.mdn, created_at = excluded.created_at`,
			messageID, mdn, formatTime(d.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("saving MDN of %s: %w", messageID, err)
	}
	return nil
}

// MDN returns the MDN saved for a message.
func (d *DB) MDN(ctx context.Context, messageID string) ([]byte, error) {
	var mdn []byte
	err := d.read.QueryRowContext(ctx, `SELECT mdn FROM mdns WHERE message_id = ?`, messageID).Scan(&mdn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("MDN of message %q: %w", messageID, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading MDN of %s: %w", messageID, err)
	}
	return mdn, nil
}
