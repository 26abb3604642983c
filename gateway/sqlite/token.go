package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/edigate/edigate/gateway"
)

// CreateToken makes a new API token named name and returns it; this is
// the only time it is seen in clear: only its SHA-256 is stored.
func (d *DB) CreateToken(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", gateway.Errorf(gateway.EINVALID, "token name is required")
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	if _, err := d.write.ExecContext(ctx, `INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)`,
		tokenHash(token), name, formatTime(d.now())); err != nil {
		return "", fmt.Errorf("creating token %s: %w", name, err)
	}
	d.log.Info("API token created", "token_name", name)
	return token, nil
}

// CheckToken returns the name of a token, or an *gateway.Error with code
// EUNAUTH when there is no such token.
func (d *DB) CheckToken(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", gateway.Errorf(gateway.EUNAUTH, "no token")
	}
	var name string
	err := d.read.QueryRowContext(ctx, `SELECT name FROM tokens WHERE hash = ?`, tokenHash(token)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", gateway.Errorf(gateway.EUNAUTH, "invalid token")
	}
	if err != nil {
		return "", fmt.Errorf("checking token: %w", err)
	}
	return name, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
