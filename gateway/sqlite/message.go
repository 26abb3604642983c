package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
)

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writeTx runs fn in a transaction on the write connection and commits.
// SQLite's synchronous=FULL makes the commit durable before it returns.
func (d *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

var states = map[string]bool{
	gateway.StateReceived:     true,
	gateway.StateAcknowledged: true,
	gateway.StateTranslated:   true,
	gateway.StateDead:         true,
	gateway.StateDuplicate:    true,
	gateway.StateRejected:     true,
}

// Receive archives the payload (fsync'd), then records the message in a
// transaction, marking it a duplicate when the partner sent the same bytes
// or the same AS2 Message-ID before (rejected messages do not count).
// It returns only after both are on disk.
func (d *DB) Receive(ctx context.Context, rc gateway.Receipt, payload io.Reader) (*gateway.Message, error) {
	if rc.Partner == "" {
		return nil, gateway.Errorf(gateway.EINVALID, "receipt has no partner")
	}
	if payload == nil {
		return nil, gateway.Errorf(gateway.EINVALID, "no payload")
	}
	a, err := d.store(ctx, payload)
	if err != nil {
		return nil, fmt.Errorf("archiving payload: %w", err)
	}
	now := d.now().UTC()
	m := &gateway.Message{
		ID:            newID("msg_"),
		CorrelationID: rc.CorrelationID,
		Partner:       rc.Partner,
		Transport:     rc.Transport,
		Filename:      rc.Filename,
		SHA256:        a.sha256,
		Size:          a.size,
		AS2MessageID:  rc.AS2MessageID,
		State:         gateway.StateReceived,
		ReceivedAt:    now,
		UpdatedAt:     now,
	}
	if m.CorrelationID == "" {
		m.CorrelationID = newID("cor_")
	}
	err = d.writeTx(ctx, func(tx *sql.Tx) error {
		dup, err := firstDuplicate(ctx, tx, m)
		if err != nil {
			return err
		}
		if dup != "" {
			m.State = gateway.StateDuplicate
			m.DuplicateOf = dup
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO messages (
			id, correlation_id, partner, transport, filename, sha256, size,
			as2_message_id, state, duplicate_of, received_at, updated_at
		) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.CorrelationID, m.Partner, m.Transport, m.Filename, m.SHA256, m.Size,
			m.AS2MessageID, m.State, nullString(m.DuplicateOf), formatTime(now), formatTime(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recording message: %w", err)
	}
	log := d.log.With("message_id", m.ID, "partner_id", m.Partner, "sha256", m.SHA256, "size", m.Size)
	if m.DuplicateOf != "" {
		log.Warn("duplicate message received", "duplicate_of", m.DuplicateOf)
	} else {
		log.Debug("message received")
	}
	return m, nil
}

// firstDuplicate returns the first earlier, non-rejected message of the
// same partner with the same bytes or AS2 Message-ID, or "".
func firstDuplicate(ctx context.Context, q queryer, m *gateway.Message) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM messages
		WHERE partner = ? AND sha256 = ? AND state <> ? ORDER BY seq LIMIT 1`,
		m.Partner, m.SHA256, gateway.StateRejected).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	if m.AS2MessageID == "" {
		return "", nil
	}
	err = q.QueryRowContext(ctx, `SELECT id FROM messages
		WHERE partner = ? AND as2_message_id = ? AND state <> ? ORDER BY seq LIMIT 1`,
		m.Partner, m.AS2MessageID, gateway.StateRejected).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

const messageColumns = `m.id, m.correlation_id, m.partner, m.transport, m.filename,
	m.sha256, m.size, m.as2_message_id, m.state, m.duplicate_of, m.interchanges,
	m.attempts, m.next_attempt, m.errors,
	(SELECT json_group_array(d.id ORDER BY d.seq) FROM documents d WHERE d.message_id = m.id),
	m.received_at, m.updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(s scanner) (*gateway.Message, error) {
	var (
		m                                    gateway.Message
		dupOf, next                          sql.NullString
		interchanges, errs, docs, recv, updt string
	)
	if err := s.Scan(&m.ID, &m.CorrelationID, &m.Partner, &m.Transport, &m.Filename,
		&m.SHA256, &m.Size, &m.AS2MessageID, &m.State, &dupOf, &interchanges,
		&m.Attempts, &next, &errs, &docs, &recv, &updt); err != nil {
		return nil, err
	}
	m.DuplicateOf = dupOf.String
	var err error
	if m.Interchanges, err = decodeList(interchanges); err != nil {
		return nil, err
	}
	if m.Errors, err = decodeList(errs); err != nil {
		return nil, err
	}
	if m.Documents, err = decodeList(docs); err != nil {
		return nil, err
	}
	if m.NextAttempt, err = parseTime(next.String); err != nil {
		return nil, err
	}
	if m.ReceivedAt, err = parseTime(recv); err != nil {
		return nil, err
	}
	if m.UpdatedAt, err = parseTime(updt); err != nil {
		return nil, err
	}
	return &m, nil
}

// decodeList decodes a JSON array of strings; empty is nil.
func decodeList(s string) ([]string, error) {
	var l []string
	if s != "" {
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			return nil, fmt.Errorf("decoding list %q: %w", s, err)
		}
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

func (d *DB) message(ctx context.Context, q queryer, id string) (*gateway.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %q: %w", id, gateway.ErrNotFound)
	}
	return m, err
}

// Message returns a message by ID.
func (d *DB) Message(ctx context.Context, id string) (*gateway.Message, error) {
	return d.message(ctx, d.read, id)
}

// MessageByAS2ID returns the first message the partner sent with this AS2
// Message-ID: the original, when later ones are duplicates.
func (d *DB) MessageByAS2ID(ctx context.Context, partner, as2ID string) (*gateway.Message, error) {
	if as2ID == "" {
		return nil, fmt.Errorf("empty AS2 Message-ID: %w", gateway.ErrNotFound)
	}
	m, err := scanMessage(d.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.partner = ? AND m.as2_message_id = ? ORDER BY m.seq LIMIT 1`, partner, as2ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("AS2 message %q of %q: %w", as2ID, partner, gateway.ErrNotFound)
	}
	return m, err
}

// Messages lists messages, newest first.
func (d *DB) Messages(ctx context.Context, f gateway.MessageFilter) ([]*gateway.Message, error) {
	var (
		where []string
		args  []any
	)
	if f.Partner != "" {
		where, args = append(where, "m.partner = ?"), append(args, f.Partner)
	}
	if f.State != "" {
		where, args = append(where, "m.state = ?"), append(args, f.State)
	}
	q := `SELECT ` + messageColumns + ` FROM messages m`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	q += ` ORDER BY m.seq DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing messages: %w", err)
	}
	defer rows.Close()
	ms := []*gateway.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("listing messages: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing messages: %w", err)
	}
	return ms, nil
}

// Payload opens a message's archived bytes. Only m.SHA256 is used, or
// m.ID when SHA256 is empty.
func (d *DB) Payload(ctx context.Context, m *gateway.Message) (io.ReadCloser, error) {
	if m == nil {
		return nil, gateway.Errorf(gateway.EINVALID, "no message")
	}
	sum := m.SHA256
	if sum == "" {
		stored, err := d.Message(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		sum = stored.SHA256
	}
	path, err := d.archivePath(sum)
	if err != nil {
		return nil, gateway.Errorf(gateway.EINVALID, "message %s: %v", m.ID, err)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("payload of message %s: %w", m.ID, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening payload of message %s: %w", m.ID, err)
	}
	return f, nil
}

// ClaimNext leases the oldest message in state received whose next
// attempt is due and whose lease is absent or expired at now, in one
// write transaction. The lease ends at now+lease, or earlier when
// UpdateMessage changes the state or schedules the next attempt.
func (d *DB) ClaimNext(ctx context.Context, now time.Time, lease time.Duration) (*gateway.Message, error) {
	if lease <= 0 {
		return nil, gateway.Errorf(gateway.EINVALID, "lease must be positive, not %v", lease)
	}
	var m *gateway.Message
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		at := formatTime(now)
		var id string
		// Acknowledged messages are still in progress: a worker stopped
		// between acknowledging and translating; they are claimed again.
		err := tx.QueryRowContext(ctx, `SELECT id FROM messages
			WHERE state IN (?, ?)
			  AND (next_attempt IS NULL OR next_attempt <= ?)
			  AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY seq LIMIT 1`, gateway.StateReceived, gateway.StateAcknowledged, at, at).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return gateway.ErrNotFound
		}
		if err != nil {
			return err
		}
		// A claim is an attempt: a message that kills its worker before
		// any update still runs out of attempts and reaches the dead letters.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET lease_until = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?`,
			formatTime(now.Add(lease)), formatTime(d.now()), id); err != nil {
			return err
		}
		m, err = d.message(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming message: %w", err)
	}
	return m, nil
}

// UpdateMessage applies u to a message. Errors are appended, interchanges
// replaced when not nil, a zero NextAttempt or empty DuplicateOf clears
// the field. The lease is released when u sets State (the message leaves
// received, or is put back with a retry) or NextAttempt (a retry is
// scheduled): the worker is done with it.
func (d *DB) UpdateMessage(ctx context.Context, id string, u gateway.MessageUpdate) error {
	if u.State != nil && !states[*u.State] {
		return gateway.Errorf(gateway.EINVALID, "unknown message state %q", *u.State)
	}
	if u.Attempts != nil && *u.Attempts < 0 {
		return gateway.Errorf(gateway.EINVALID, "negative attempts %d", *u.Attempts)
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var errs string
		err := tx.QueryRowContext(ctx, `SELECT errors FROM messages WHERE id = ?`, id).Scan(&errs)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %q: %w", id, gateway.ErrNotFound)
		}
		if err != nil {
			return err
		}
		sets := []string{"updated_at = ?"}
		args := []any{formatTime(d.now())}
		if u.State != nil {
			sets, args = append(sets, "state = ?"), append(args, *u.State)
		}
		if u.Attempts != nil {
			sets, args = append(sets, "attempts = ?"), append(args, *u.Attempts)
		}
		if u.NextAttempt != nil {
			sets, args = append(sets, "next_attempt = ?"), append(args, nullTime(*u.NextAttempt))
		}
		if len(u.Errors) > 0 {
			old, err := decodeList(errs)
			if err != nil {
				return err
			}
			sets, args = append(sets, "errors = ?"), append(args, encodeList(append(old, u.Errors...)))
		}
		if u.Interchanges != nil {
			sets, args = append(sets, "interchanges = ?"), append(args, encodeList(u.Interchanges))
		}
		if u.DuplicateOf != nil {
			if *u.DuplicateOf == id {
				return gateway.Errorf(gateway.EINVALID, "message %s cannot duplicate itself", id)
			}
			sets, args = append(sets, "duplicate_of = ?"), append(args, nullString(*u.DuplicateOf))
		}
		if u.State != nil || u.NextAttempt != nil {
			sets = append(sets, "lease_until = NULL")
		}
		args = append(args, id)
		_, err = tx.ExecContext(ctx, `UPDATE messages SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...)
		if isConstraint(err) {
			return gateway.Errorf(gateway.EINVALID, "duplicate_of %q is not a message", *u.DuplicateOf)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("updating message %s: %w", id, err)
	}
	return nil
}

// Requeue puts a message back in state received, due now, unleased and
// with attempts reset to zero, so that a replay gets the full retry
// budget. Its errors are kept as history.
func (d *DB) Requeue(ctx context.Context, id string) error {
	res, err := d.write.ExecContext(ctx, `UPDATE messages
		SET state = ?, lease_until = NULL, next_attempt = NULL, attempts = 0, updated_at = ?
		WHERE id = ?`, gateway.StateReceived, formatTime(d.now()), id)
	if err != nil {
		return fmt.Errorf("requeueing message %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("requeueing message %q: %w", id, gateway.ErrNotFound)
	}
	d.log.Info("message requeued", "message_id", id)
	return nil
}

// RecordInterchange notes that the partner sent ISA13 control in message
// msgID. It returns the earlier message that recorded the same control,
// or "" when the pair is new or was recorded by msgID itself (a replay).
func (d *DB) RecordInterchange(ctx context.Context, partner, control, msgID string) (string, error) {
	if partner == "" || control == "" || msgID == "" {
		return "", gateway.Errorf(gateway.EINVALID, "recording interchange: partner, control and message ID are required")
	}
	var earlier string
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ?`, msgID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %q: %w", msgID, gateway.ErrNotFound)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO interchanges (partner, control, message_id, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (partner, control) DO NOTHING`,
			partner, control, msgID, formatTime(d.now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT message_id FROM interchanges WHERE partner = ? AND control = ?`,
			partner, control).Scan(&earlier); err != nil {
			return err
		}
		if earlier == msgID {
			earlier = ""
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("recording interchange %s of %s: %w", control, partner, err)
	}
	return earlier, nil
}

// ReleaseLeases ends every lease. A gateway that owns its data directory
// alone calls it at start: whatever was leased belonged to a process that
// is gone, and waiting for the leases to expire would only delay it.
func (d *DB) ReleaseLeases(ctx context.Context) (int64, error) {
	var n int64
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET lease_until = NULL WHERE lease_until IS NOT NULL`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
