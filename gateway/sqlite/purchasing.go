package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
)

// Compile-time check that *DB keeps the purchasing data.
var _ gateway.Purchasing = (*DB)(nil)

// ImportOrders records orders from an ERP export in one transaction (an
// order's Source, when set, names the file it came from): new
// orders are created at version 1, orders whose date or lines changed get
// the next version (every version is kept in order_versions), and orders
// imported again unchanged are left alone.
func (d *DB) ImportOrders(ctx context.Context, source string, orders []gateway.Order) (gateway.ImportResult, error) {
	return d.ImportOrdersClaiming(ctx, source, orders, nil)
}

// ImportOrdersClaiming imports like ImportOrders and, in the same
// transaction, claims the 850 of each new order whose partner claim
// accepts (status sending, nothing written yet): a crash right after the
// import cannot lose the 850, RetrySends finds the claim.
func (d *DB) ImportOrdersClaiming(ctx context.Context, source string, orders []gateway.Order, claim func(partner string) bool) (gateway.ImportResult, error) {
	var res gateway.ImportResult
	for i := range orders {
		o := &orders[i]
		if !partners.ValidID(o.Partner) || o.PONumber == "" {
			return res, gateway.Errorf(gateway.EINVALID, "importing %s: order %d: partner %q is not a partner id, or the PO number is empty", source, i+1, o.Partner)
		}
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		res = gateway.ImportResult{}
		now := formatTime(d.now())
		for i := range orders {
			o := &orders[i]
			lines, err := json.Marshal(orderLines(o.Lines))
			if err != nil {
				return err
			}
			sum := sha256.Sum256(append([]byte(o.PODate+"\n"), lines...))
			hash := hex.EncodeToString(sum[:])
			id := gateway.OrderID(o.Partner, o.PONumber)
			src := source
			if o.Source != "" {
				src = o.Source // the export file the connector read it from
			}
			var oldHash string
			var version int
			err = tx.QueryRowContext(ctx, `SELECT hash, version FROM orders WHERE id = ?`, id).Scan(&oldHash, &version)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				version = 1
				if _, err := tx.ExecContext(ctx, `INSERT INTO orders
					(id, partner, po_number, po_date, lines, hash, version, source, imported_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
					id, o.Partner, o.PONumber, o.PODate, string(lines), hash, src, now, now); err != nil {
					return fmt.Errorf("order %s: %w", id, err)
				}
				res.Created++
				res.New = append(res.New, id)
				if claim != nil && claim(o.Partner) {
					if _, err := tx.ExecContext(ctx, `INSERT INTO sent_orders
						(partner, po_number, filename, interchange, group_control, txn_control, sent_at, ack_status)
						VALUES (?, ?, '', '', '', '', ?, 'sending') ON CONFLICT (partner, po_number) DO NOTHING`,
						o.Partner, o.PONumber, now); err != nil {
						return fmt.Errorf("claiming the 850 of order %s: %w", id, err)
					}
				}
			case err != nil:
				return err
			case oldHash == hash:
				res.Unchanged++
				continue
			default:
				version++
				if _, err := tx.ExecContext(ctx, `UPDATE orders SET po_date = ?, lines = ?, hash = ?, version = ?,
					source = ?, updated_at = ? WHERE id = ?`,
					o.PODate, string(lines), hash, version, src, now, id); err != nil {
					return fmt.Errorf("order %s: %w", id, err)
				}
				res.Changed++
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_versions (order_id, version, po_date, lines, source, imported_at)
				VALUES (?, ?, ?, ?, ?, ?)`, id, version, o.PODate, string(lines), src, now); err != nil {
				return fmt.Errorf("order %s version %d: %w", id, version, err)
			}
			res.Orders = append(res.Orders, id)
		}
		return nil
	})
	if err != nil {
		return gateway.ImportResult{}, fmt.Errorf("importing %s: %w", source, err)
	}
	return res, nil
}

// orderLines is never nil, so that it encodes as [].
func orderLines(l []gateway.OrderLine) []gateway.OrderLine {
	if l == nil {
		return []gateway.OrderLine{}
	}
	return l
}

const orderColumns = `id, partner, po_number, po_date, lines, version, source, imported_at, updated_at`

func scanOrder(s scanner) (*gateway.Order, error) {
	o, err := scanOrderRaw(s)
	if err != nil {
		return nil, err
	}
	return o, o.DecodeLines()
}

// scanOrderRaw leaves the lines in LinesJSON.
func scanOrderRaw(s scanner) (*gateway.Order, error) {
	var (
		o                  gateway.Order
		lines, imp, update string
	)
	if err := s.Scan(&o.ID, &o.Partner, &o.PONumber, &o.PODate, &lines, &o.Version, &o.Source, &imp, &update); err != nil {
		return nil, err
	}
	o.LinesJSON = json.RawMessage(lines)
	var err error
	if o.ImportedAt, err = parseTime(imp); err != nil {
		return nil, err
	}
	if o.UpdatedAt, err = parseTime(update); err != nil {
		return nil, err
	}
	return &o, nil
}

// Order returns an order by ID.
func (d *DB) Order(ctx context.Context, id string) (*gateway.Order, error) {
	o, err := scanOrder(d.read.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("purchase order %q: %w", id, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading purchase order %s: %w", id, err)
	}
	return o, nil
}

// OrderHistory returns every version of an order, oldest first.
func (d *DB) OrderHistory(ctx context.Context, id string) ([]gateway.OrderVersion, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT version, po_date, lines, source, imported_at
		FROM order_versions WHERE order_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", id, err)
	}
	defer rows.Close()
	vs := []gateway.OrderVersion{}
	for rows.Next() {
		var v gateway.OrderVersion
		var lines, imp string
		if err := rows.Scan(&v.Version, &v.PODate, &lines, &v.Source, &imp); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(lines), &v.Lines); err != nil {
			return nil, fmt.Errorf("order %s version %d: %w", id, v.Version, err)
		}
		if v.ImportedAt, err = parseTime(imp); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// Orders lists orders by partner and PO number.
func (d *DB) Orders(ctx context.Context, f gateway.OrderFilter) ([]*gateway.Order, error) {
	var (
		where []string
		args  []any
	)
	if f.Partner != "" {
		where, args = append(where, "partner = ?"), append(args, f.Partner)
	}
	if f.PONumber != "" {
		where, args = append(where, "po_number = ?"), append(args, f.PONumber)
	}
	q := `SELECT ` + orderColumns + ` FROM orders`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	q += ` ORDER BY partner, po_number LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing purchase orders: %w", err)
	}
	defer rows.Close()
	out := []*gateway.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("listing purchase orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// PrepareSend records a claimed 850's bytes and control numbers.
func (d *DB) PrepareSend(ctx context.Context, s gateway.SentOrder) error {
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE sent_orders SET filename = ?, interchange = ?, group_control = ?, txn_control = ?,
			payload = ? WHERE partner = ? AND po_number = ? AND ack_status = 'sending'`,
			s.Filename, s.Interchange, s.Group, s.Transaction, s.Payload, s.Partner, s.PONumber)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return gateway.Errorf(gateway.ECONFLICT, "the 850 of %s PO %s is not claimed for sending", s.Partner, s.PONumber)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("preparing the 850 of %s PO %s: %w", s.Partner, s.PONumber, err)
	}
	return nil
}

// StaleSends lists 850s claimed before the given time and not sent, with
// their bytes when they were written.
func (d *DB) StaleSends(ctx context.Context, before time.Time) ([]*gateway.SentOrder, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+sentColumns+`, payload FROM sent_orders
		WHERE ack_status = 'sending' AND sent_at < ? ORDER BY sent_at`, formatTime(before))
	if err != nil {
		return nil, fmt.Errorf("listing 850s to send again: %w", err)
	}
	defer rows.Close()
	var out []*gateway.SentOrder
	for rows.Next() {
		var payload []byte
		s, err := scanSent(scanWith(rows, &payload))
		if err != nil {
			return nil, err
		}
		s.Payload = payload
		out = append(out, s)
	}
	return out, rows.Err()
}

// scanWith scans the columns of s followed by extra.
type extraScanner struct {
	s     scanner
	extra []any
}

func scanWith(s scanner, extra ...any) scanner { return extraScanner{s, extra} }

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// RenewSend takes over a stale claim: true when its claim time was still
// claimedAt (no other caller renewed it first).
func (d *DB) RenewSend(ctx context.Context, partner, poNumber string, claimedAt time.Time) (bool, error) {
	var renewed bool
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE sent_orders SET sent_at = ?
			WHERE partner = ? AND po_number = ? AND ack_status = 'sending' AND sent_at = ?`,
			formatTime(d.now()), partner, poNumber, formatTime(claimedAt))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		renewed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renewing the claim on the 850 of %s PO %s: %w", partner, poNumber, err)
	}
	return renewed, nil
}

// RecordSent notes an 850 sent for an order (ending its claim). Sending
// the same order again replaces the record and resets its verdict.
func (d *DB) RecordSent(ctx context.Context, s gateway.SentOrder) error {
	if s.AckStatus == "" {
		s.AckStatus = gateway.SentPending
	}
	if s.SentAt.IsZero() {
		s.SentAt = d.now()
	}
	codes, _ := json.Marshal(nonNil(s.AckCodes))
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sent_orders
			(partner, po_number, filename, interchange, group_control, txn_control, sent_at, ack_status, ack_codes, acked_at, ack_message_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (partner, po_number) DO UPDATE SET
				filename = excluded.filename, interchange = excluded.interchange, payload = coalesce(excluded.payload, payload),
				group_control = excluded.group_control, txn_control = excluded.txn_control,
				sent_at = excluded.sent_at, ack_status = excluded.ack_status, ack_codes = excluded.ack_codes,
				acked_at = excluded.acked_at, ack_message_id = excluded.ack_message_id
			WHERE sent_orders.ack_status = 'sending'`,
			s.Partner, s.PONumber, s.Filename, s.Interchange, s.Group, s.Transaction, formatTime(s.SentAt),
			s.AckStatus, string(codes), nullTime(s.AckedAt), s.AckMessageID)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the 850 sent to %s for PO %s: %w", s.Partner, s.PONumber, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const sentColumns = `partner, po_number, filename, interchange, group_control, txn_control, sent_at, ack_status, ack_codes, acked_at, ack_message_id`

func scanSent(s scanner) (*gateway.SentOrder, error) {
	var (
		o           gateway.SentOrder
		sent, codes string
		acked       sql.NullString
	)
	if err := s.Scan(&o.Partner, &o.PONumber, &o.Filename, &o.Interchange, &o.Group, &o.Transaction,
		&sent, &o.AckStatus, &codes, &acked, &o.AckMessageID); err != nil {
		return nil, err
	}
	var err error
	if o.SentAt, err = parseTime(sent); err != nil {
		return nil, err
	}
	if o.AckedAt, err = parseTime(acked.String); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(codes), &o.AckCodes); err != nil {
		return nil, err
	}
	if len(o.AckCodes) == 0 {
		o.AckCodes = nil
	}
	return &o, nil
}

// SentFor returns the 850 sent for a partner's PO.
func (d *DB) SentFor(ctx context.Context, partner, poNumber string) (*gateway.SentOrder, error) {
	s, err := scanSent(d.read.QueryRowContext(ctx, `SELECT `+sentColumns+` FROM sent_orders WHERE partner = ? AND po_number = ?`, partner, poNumber))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("850 for %s PO %s: %w", partner, poNumber, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the 850 for %s PO %s: %w", partner, poNumber, err)
	}
	return s, nil
}

// SentOrders lists every 850 sent, by partner and PO number.
func (d *DB) SentOrders(ctx context.Context) ([]*gateway.SentOrder, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+sentColumns+` FROM sent_orders ORDER BY partner, po_number`)
	if err != nil {
		return nil, fmt.Errorf("listing sent 850s: %w", err)
	}
	defer rows.Close()
	var out []*gateway.SentOrder
	for rows.Next() {
		s, err := scanSent(rows)
		if err != nil {
			return nil, fmt.Errorf("listing sent 850s: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// MatchFunctionalAck records a 997/999 verdict (AK5/IK5 status A, E, R,
// ...) on the 850 with these group and transaction control numbers.
func (d *DB) MatchFunctionalAck(ctx context.Context, partner, group, transaction, status string, codes []string, messageID string) (*gateway.SentOrder, error) {
	verdict := gateway.SentRejected
	if status == "A" || status == "E" {
		verdict = gateway.SentAccepted
	}
	codesJSON, _ := json.Marshal(nonNil(codes))
	var po string
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE sent_orders SET ack_status = ?, ack_codes = ?, acked_at = ?, ack_message_id = ?
			WHERE partner = ? AND group_control <> '' AND ltrim(group_control, '0') = ltrim(?, '0') AND ltrim(txn_control, '0') = ltrim(?, '0')
			RETURNING po_number`,
			verdict, string(codesJSON), formatTime(d.now()), messageID, partner, group, transaction).Scan(&po)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no 850 sent to %s with group %s and set %s: %w", partner, group, transaction, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("matching the 997/999 of %s: %w", partner, err)
	}
	return d.SentFor(ctx, partner, po)
}

// OrderDocuments lists the documents concerning a partner's PO, oldest first.
func (d *DB) OrderDocuments(ctx context.Context, partner, poNumber string) ([]*gateway.StoredDocument, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT d.id, d.kind, d.partner, d.po_number, d.message_id, d.correlation_id, d.created_at, d.document
		FROM document_orders o JOIN documents d ON d.id = o.document_id
		WHERE o.partner = ? AND o.po_number = ? ORDER BY d.seq`, partner, poNumber)
	if err != nil {
		return nil, fmt.Errorf("documents of %s PO %s: %w", partner, poNumber, err)
	}
	defer rows.Close()
	out := []*gateway.StoredDocument{}
	for rows.Next() {
		doc, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("documents of %s PO %s: %w", partner, poNumber, err)
		}
		out = append(out, doc)
	}
	return out, rows.Err()
}

// InvoiceNumbers maps each of a partner's invoices to the first invoice
// document with the same invoice number.
func (d *DB) InvoiceNumbers(ctx context.Context, partner string) (map[string]string, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, json_extract(document, '$.invoice_number') FROM documents
		WHERE kind = 'invoice' AND partner = ? ORDER BY seq`, partner)
	if err != nil {
		return nil, fmt.Errorf("invoice numbers of %s: %w", partner, err)
	}
	defer rows.Close()
	first := map[string]string{}
	out := map[string]string{}
	for rows.Next() {
		var id string
		var num sql.NullString
		if err := rows.Scan(&id, &num); err != nil {
			return nil, err
		}
		if f, ok := first[num.String]; ok && num.String != "" {
			out[id] = f
			continue
		}
		first[num.String] = id
		out[id] = id
	}
	return out, rows.Err()
}

// ApplyFindings records a reconciliation pass in one transaction.
func (d *DB) ApplyFindings(ctx context.Context, scope gateway.Scope, findings []gateway.Finding, actor string) (gateway.ApplyResult, error) {
	var res gateway.ApplyResult
	if actor == "" {
		actor = "reconciliation"
	}
	seen := make(map[string]bool, len(findings))
	for _, f := range findings {
		if f.Key == "" || f.Rule == "" || f.Partner == "" {
			return res, gateway.Errorf(gateway.EINVALID, "finding without key, rule or partner: %+v", f)
		}
		seen[f.Key] = true
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		res = gateway.ApplyResult{}
		now := formatTime(d.now())
		since := ""
		if !scope.Since.IsZero() {
			since = formatTime(scope.Since)
		}
		for _, f := range findings {
			var cur gateway.Finding
			var id, status, decided, updated string
			err := tx.QueryRowContext(ctx, `SELECT id, status, expected, actual, severity, document_id, message, decided_actual, updated_at
				FROM exceptions WHERE key = ?`, f.Key).
				Scan(&id, &status, &cur.Expected, &cur.Actual, &cur.Severity, &cur.Document, &cur.Message, &decided, &updated)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				id = newID("exc_")
				if _, err := tx.ExecContext(ctx, `INSERT INTO exceptions
					(id, key, rule, partner, po_number, line_number, expected, actual, severity, document_id, message,
					 status, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
					id, f.Key, f.Rule, f.Partner, f.PONumber, f.LineNumber, f.Expected, f.Actual, f.Severity,
					f.Document, f.Message, now, now); err != nil {
					return fmt.Errorf("raising %s: %w", f.Key, err)
				}
				if err := addEvent(ctx, tx, id, now, actor, "raised", f.Message, "", gateway.ExceptionOpen, f.Actual); err != nil {
					return err
				}
				res.Raised++
				continue
			case err != nil:
				return err
			}
			if since != "" && updated > since {
				continue // changed after this pass read the store
			}
			reopen := status != gateway.ExceptionOpen && f.Actual != decided
			changed := f.Actual != cur.Actual || f.Expected != cur.Expected || f.Severity != cur.Severity ||
				f.Document != cur.Document || f.Message != cur.Message
			if !changed && !reopen {
				continue // found again, unchanged
			}
			newStatus, action := status, "updated"
			if reopen {
				newStatus, action = gateway.ExceptionOpen, "reopened"
				res.Reopened++
			} else {
				res.Updated++
			}
			if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET expected = ?, actual = ?, severity = ?, document_id = ?,
				message = ?, status = ?, updated_at = ? WHERE id = ?`,
				f.Expected, f.Actual, f.Severity, f.Document, f.Message, newStatus, now, id); err != nil {
				return err
			}
			var comment string
			switch {
			case reopen && decided == clearedMark:
				comment = fmt.Sprintf("found again after it had cleared: %s", f.Actual)
			case reopen:
				comment = fmt.Sprintf("a later document contradicts the decision: %s when decided, now %s", decided, f.Actual)
			case f.Actual != cur.Actual:
				comment = fmt.Sprintf("actual was %s, now %s", cur.Actual, f.Actual)
			case f.Expected != cur.Expected:
				comment = fmt.Sprintf("expected was %s, now %s (the ERP's order changed)", cur.Expected, f.Expected)
			default:
				comment = "details updated: " + f.Message
			}
			if err := addEvent(ctx, tx, id, now, actor, action, comment, status, newStatus, f.Actual); err != nil {
				return err
			}
		}
		n, err := clearUnseen(ctx, tx, scope, seen, now, since, actor)
		res.Cleared = n
		return err
	})
	if err != nil {
		return gateway.ApplyResult{}, fmt.Errorf("recording reconciliation findings: %w", err)
	}
	return res, nil
}

// clearedMark is the decided actual value of an exception the system
// cleared: no actual value equals it, so the discrepancy coming back
// always reopens the exception.
const clearedMark = "\x00cleared"

// clearUnseen resolves the open exceptions in scope that the pass did not
// find again: the discrepancy is gone (the 855 arrived, a corrected 856
// replaced the first).
func clearUnseen(ctx context.Context, tx *sql.Tx, scope gateway.Scope, seen map[string]bool, now, since, actor string) (int, error) {
	type open struct{ id, key, actual, updated string }
	var candidates []open
	collect := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o open
			if err := rows.Scan(&o.id, &o.key, &o.actual, &o.updated); err != nil {
				return err
			}
			if !seen[o.key] && (since == "" || o.updated <= since) {
				candidates = append(candidates, o)
			}
		}
		return rows.Err()
	}
	if scope.All {
		if err := collect(tx.QueryContext(ctx, `SELECT id, key, actual, updated_at FROM exceptions WHERE status = 'open'`)); err != nil {
			return 0, err
		}
	} else {
		for _, k := range scope.Orders {
			if err := collect(tx.QueryContext(ctx, `SELECT id, key, actual, updated_at FROM exceptions
				WHERE status = 'open' AND partner = ? AND po_number = ?`, k.Partner, k.PONumber)); err != nil {
				return 0, err
			}
		}
	}
	for _, o := range candidates {
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET status = 'resolved', decided_actual = ?, updated_at = ? WHERE id = ?`,
			clearedMark, now, o.id); err != nil {
			return 0, err
		}
		if err := addEvent(ctx, tx, o.id, now, actor, "cleared", "no longer found by reconciliation", gateway.ExceptionOpen, gateway.ExceptionResolved, o.actual); err != nil {
			return 0, err
		}
	}
	return len(candidates), nil
}

func addEvent(ctx context.Context, tx *sql.Tx, id, at, actor, action, comment, from, to, actual string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO exception_events
		(exception_id, at, actor, action, comment, from_status, to_status, actual) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, at, actor, action, comment, from, to, actual); err != nil {
		return fmt.Errorf("history of %s: %w", id, err)
	}
	return nil
}

const exceptionColumns = `id, key, rule, partner, po_number, line_number, expected, actual, severity, document_id, message,
	status, assignee, created_at, updated_at`

func scanException(s scanner) (*gateway.Exception, error) {
	var (
		e                gateway.Exception
		created, updated string
	)
	if err := s.Scan(&e.ID, &e.Key, &e.Rule, &e.Partner, &e.PONumber, &e.LineNumber, &e.Expected, &e.Actual,
		&e.Severity, &e.Document, &e.Message, &e.Status, &e.Assignee, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if e.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if e.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	e.History = []gateway.ExceptionEvent{}
	return &e, nil
}

var exceptionSorts = map[string]string{
	"created_at": "created_at, seq", "-created_at": "created_at DESC, seq DESC",
	"updated_at": "updated_at, seq", "-updated_at": "updated_at DESC, seq DESC",
	"partner": "partner, po_number, seq", "-partner": "partner DESC, po_number DESC, seq DESC",
	"po_number": "po_number, line_number, seq", "-po_number": "po_number DESC, line_number DESC, seq DESC",
	"rule": "rule, seq", "-rule": "rule DESC, seq DESC",
	"status": "status, seq", "-status": "status DESC, seq DESC",
	"severity":  "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, seq",
	"-severity": "CASE severity WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END, seq",
}

// ExceptionSorts lists the sort keys Exceptions accepts.
func ExceptionSorts() []string {
	var s []string
	for k := range exceptionSorts {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Exceptions lists exceptions with their histories, and the total that
// match the filter regardless of paging.
func (d *DB) Exceptions(ctx context.Context, f gateway.ExceptionFilter) ([]*gateway.Exception, int, error) {
	order := "created_at, seq"
	if f.Sort != "" {
		var ok bool
		if order, ok = exceptionSorts[f.Sort]; !ok {
			return nil, 0, gateway.Errorf(gateway.EINVALID, "unknown sort %q (want one of %s)", f.Sort, strings.Join(ExceptionSorts(), ", "))
		}
	}
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{
		{"partner", f.Partner}, {"po_number", f.PONumber}, {"rule", f.Rule}, {"status", f.Status}, {"assignee", f.Assignee},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	now := d.now()
	if f.OlderThan > 0 {
		where, args = append(where, "created_at <= ?"), append(args, formatTime(now.Add(-f.OlderThan)))
	}
	if f.NewerThan > 0 {
		where, args = append(where, "created_at >= ?"), append(args, formatTime(now.Add(-f.NewerThan)))
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, " AND ")
	}
	var total int
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM exceptions`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting exceptions: %w", err)
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	rows, err := d.read.QueryContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions`+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing exceptions: %w", err)
	}
	out := []*gateway.Exception{}
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("listing exceptions: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing exceptions: %w", err)
	}
	for _, e := range out {
		if e.History, err = d.history(ctx, d.read, e.ID); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (d *DB) history(ctx context.Context, q querier, id string) ([]gateway.ExceptionEvent, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, actor, action, comment, from_status, to_status, actual
		FROM exception_events WHERE exception_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	defer rows.Close()
	h := []gateway.ExceptionEvent{}
	for rows.Next() {
		var ev gateway.ExceptionEvent
		var at string
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, &ev.Comment, &ev.From, &ev.To, &ev.Actual); err != nil {
			return nil, err
		}
		if ev.At, err = parseTime(at); err != nil {
			return nil, err
		}
		h = append(h, ev)
	}
	return h, rows.Err()
}

// Exception returns an exception with its history.
func (d *DB) Exception(ctx context.Context, id string) (*gateway.Exception, error) {
	e, err := scanException(d.read.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("exception %q: %w", id, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading exception %s: %w", id, err)
	}
	if e.History, err = d.history(ctx, d.read, id); err != nil {
		return nil, err
	}
	return e, nil
}

// Exception actions and the status each leads to ("" keeps the status).
var actions = map[string]string{
	"accept":  gateway.ExceptionAccepted,
	"reject":  gateway.ExceptionRejected,
	"resolve": gateway.ExceptionResolved,
	"assign":  "",
	"comment": "",
}

// ActOnException applies a buyer's action. Accept, reject and resolve
// decide the exception (and remember the actual value decided on, so a
// later document that changes it reopens the exception); assign sets the
// assignee; comment only adds to the history.
func (d *DB) ActOnException(ctx context.Context, id string, a gateway.ExceptionAction) (*gateway.Exception, error) {
	to, ok := actions[a.Action]
	if !ok {
		return nil, gateway.Errorf(gateway.EINVALID, "unknown action %q (want accept, reject, assign, comment or resolve)", a.Action)
	}
	if a.Actor == "" {
		return nil, gateway.Errorf(gateway.EINVALID, "an action on exception %s needs an actor", id)
	}
	if a.Action == "assign" && a.Assignee == "" {
		return nil, gateway.Errorf(gateway.EINVALID, "assign needs an assignee")
	}
	if a.Action == "comment" && strings.TrimSpace(a.Comment) == "" {
		return nil, gateway.Errorf(gateway.EINVALID, "comment needs a comment")
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var status, actual string
		err := tx.QueryRowContext(ctx, `SELECT status, actual FROM exceptions WHERE id = ?`, id).Scan(&status, &actual)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("exception %q: %w", id, gateway.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := formatTime(d.now())
		newStatus := status
		switch {
		case to != "":
			if status == to {
				return gateway.Errorf(gateway.ECONFLICT, "exception %s is already %s", id, status)
			}
			newStatus = to
			_, err = tx.ExecContext(ctx, `UPDATE exceptions SET status = ?, decided_actual = ?, updated_at = ? WHERE id = ?`, to, actual, now, id)
		case a.Action == "assign":
			_, err = tx.ExecContext(ctx, `UPDATE exceptions SET assignee = ?, updated_at = ? WHERE id = ?`, a.Assignee, now, id)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE exceptions SET updated_at = ? WHERE id = ?`, now, id)
		}
		if err != nil {
			return err
		}
		comment := a.Comment
		if a.Action == "assign" {
			comment = strings.TrimSpace("assigned to " + a.Assignee + ". " + a.Comment)
		}
		from, toStatus := "", ""
		if newStatus != status {
			from, toStatus = status, newStatus
		}
		return addEvent(ctx, tx, id, now, a.Actor, a.Action, comment, from, toStatus, actual)
	})
	if err != nil {
		return nil, fmt.Errorf("%s exception %s: %w", a.Action, id, err)
	}
	return d.Exception(ctx, id)
}

// AllExceptions calls fn for every exception with its history, oldest first.
func (d *DB) AllExceptions(ctx context.Context, fn func(*gateway.Exception) error) error {
	rows, err := d.read.QueryContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("reading exceptions: %w", err)
	}
	var all []*gateway.Exception
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			rows.Close()
			return err
		}
		all = append(all, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	hist, err := d.allHistory(ctx)
	if err != nil {
		return err
	}
	for _, e := range all {
		if h := hist[e.ID]; h != nil {
			e.History = h
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) allHistory(ctx context.Context) (map[string][]gateway.ExceptionEvent, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT exception_id, at, actor, action, comment, from_status, to_status, actual
		FROM exception_events ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("reading exception history: %w", err)
	}
	defer rows.Close()
	out := map[string][]gateway.ExceptionEvent{}
	for rows.Next() {
		var ev gateway.ExceptionEvent
		var id, at string
		if err := rows.Scan(&id, &at, &ev.Actor, &ev.Action, &ev.Comment, &ev.From, &ev.To, &ev.Actual); err != nil {
			return nil, err
		}
		if ev.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out[id] = append(out[id], ev)
	}
	return out, rows.Err()
}

// PendingDecisions lists accept and reject decisions not yet exported,
// oldest first.
func (d *DB) PendingDecisions(ctx context.Context) ([]gateway.Decision, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT v.seq, e.id, e.rule, e.partner, e.po_number, e.line_number, v.action,
			e.expected, v.actual, v.actor, v.comment, v.at
		FROM exception_events v JOIN exceptions e ON e.id = v.exception_id
		WHERE v.exported_at IS NULL AND v.action IN ('accept', 'reject') ORDER BY v.seq`)
	if err != nil {
		return nil, fmt.Errorf("listing decisions: %w", err)
	}
	defer rows.Close()
	var out []gateway.Decision
	for rows.Next() {
		var dc gateway.Decision
		var action, at string
		if err := rows.Scan(&dc.Event, &dc.ExceptionID, &dc.Rule, &dc.Partner, &dc.PONumber, &dc.LineNumber, &action,
			&dc.Expected, &dc.Actual, &dc.Actor, &dc.Comment, &at); err != nil {
			return nil, err
		}
		dc.Decision = gateway.ExceptionAccepted
		if action == "reject" {
			dc.Decision = gateway.ExceptionRejected
		}
		if dc.DecidedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, dc)
	}
	return out, rows.Err()
}

// MarkDecisionsExported records that decisions were handed to the ERP.
func (d *DB) MarkDecisionsExported(ctx context.Context, events []int64) error {
	return d.writeTx(ctx, func(tx *sql.Tx) error {
		now := formatTime(d.now())
		for _, ev := range events {
			if _, err := tx.ExecContext(ctx, `UPDATE exception_events SET exported_at = ? WHERE seq = ?`, now, ev); err != nil {
				return fmt.Errorf("marking decision %d exported: %w", ev, err)
			}
		}
		return nil
	})
}

// Now is the store's clock, for callers that stamp times the same way.
func (d *DB) Now() time.Time { return d.now() }

// EachCase calls fn for every partner's PO the store knows of, in partner
// and PO number order, with its ERP order (nil when the ERP does not know
// it; its lines left in LinesJSON for the caller to decode), the 850 sent for it (nil when none) and its documents, oldest
// first. Three ordered queries in one read transaction (one snapshot)
// are merged as they stream, so a full pass reads each table once.
func (d *DB) EachCase(ctx context.Context, fn func(k gateway.PartnerPO, o *gateway.Order, s *gateway.SentOrder, docs []*gateway.StoredDocument) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closes the three result sets on every return
	// One transaction on one connection: the three reads see one snapshot.
	tx, err := d.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading cases: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	orders, err := tx.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders ORDER BY partner, po_number`)
	if err != nil {
		return fmt.Errorf("reading purchase orders: %w", err)
	}
	defer orders.Close()
	sent, err := tx.QueryContext(ctx, `SELECT `+sentColumns+` FROM sent_orders ORDER BY partner, po_number`)
	if err != nil {
		return fmt.Errorf("reading sent 850s: %w", err)
	}
	defer sent.Close()
	docs, err := tx.QueryContext(ctx, `SELECT o.partner, o.po_number, d.id, d.kind, d.partner, d.po_number, d.message_id,
			d.correlation_id, d.created_at, d.document
		FROM document_orders o JOIN documents d ON d.id = o.document_id
		ORDER BY o.partner, o.po_number, d.seq`)
	if err != nil {
		return fmt.Errorf("reading documents: %w", err)
	}
	defer docs.Close()

	var (
		nextOrder *gateway.Order
		nextSent  *gateway.SentOrder
		nextDoc   *gateway.StoredDocument
		docKey    gateway.PartnerPO
	)
	advanceOrder := func() error {
		nextOrder = nil
		if orders.Next() {
			o, err := scanOrderRaw(orders)
			if err != nil {
				return fmt.Errorf("reading purchase orders: %w", err)
			}
			nextOrder = o
		}
		return orders.Err()
	}
	advanceSent := func() error {
		nextSent = nil
		if sent.Next() {
			s, err := scanSent(sent)
			if err != nil {
				return fmt.Errorf("reading sent 850s: %w", err)
			}
			nextSent = s
		}
		return sent.Err()
	}
	advanceDoc := func() error {
		nextDoc = nil
		if docs.Next() {
			var doc gateway.StoredDocument
			var created, raw string
			if err := docs.Scan(&docKey.Partner, &docKey.PONumber, &doc.ID, &doc.Kind, &doc.Partner, &doc.PONumber,
				&doc.MessageID, &doc.CorrelationID, &created, &raw); err != nil {
				return fmt.Errorf("reading documents: %w", err)
			}
			var err error
			if doc.CreatedAt, err = parseTime(created); err != nil {
				return err
			}
			doc.Document = json.RawMessage(raw)
			nextDoc = &doc
		}
		return docs.Err()
	}
	for _, adv := range []func() error{advanceOrder, advanceSent, advanceDoc} {
		if err := adv(); err != nil {
			return err
		}
	}
	less := func(a, b gateway.PartnerPO) bool {
		return a.Partner < b.Partner || a.Partner == b.Partner && a.PONumber < b.PONumber
	}
	for nextOrder != nil || nextSent != nil || nextDoc != nil {
		// The smallest key among the three heads is the next case.
		var k gateway.PartnerPO
		have := false
		consider := func(c gateway.PartnerPO) {
			if !have || less(c, k) {
				k, have = c, true
			}
		}
		if nextOrder != nil {
			consider(gateway.PartnerPO{Partner: nextOrder.Partner, PONumber: nextOrder.PONumber})
		}
		if nextSent != nil {
			consider(gateway.PartnerPO{Partner: nextSent.Partner, PONumber: nextSent.PONumber})
		}
		if nextDoc != nil {
			consider(docKey)
		}
		var (
			o     *gateway.Order
			s     *gateway.SentOrder
			cased []*gateway.StoredDocument
		)
		if nextOrder != nil && nextOrder.Partner == k.Partner && nextOrder.PONumber == k.PONumber {
			o = nextOrder
			if err := advanceOrder(); err != nil {
				return err
			}
		}
		if nextSent != nil && nextSent.Partner == k.Partner && nextSent.PONumber == k.PONumber {
			s = nextSent
			if err := advanceSent(); err != nil {
				return err
			}
		}
		for nextDoc != nil && docKey == k {
			cased = append(cased, nextDoc)
			if err := advanceDoc(); err != nil {
				return err
			}
		}
		if err := fn(k, o, s, cased); err != nil {
			return err
		}
	}
	return nil
}

// RecordImport keeps an ERP import run (its time is the store's).
func (d *DB) RecordImport(ctx context.Context, r gateway.ImportRun) error {
	problems, err := json.Marshal(nonNil(r.Problems))
	if err != nil {
		return err
	}
	err = d.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO erp_imports (source, at, created, changed, unchanged, sent, problems)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Source, formatTime(d.now()), r.Created, r.Changed, r.Unchanged, r.Sent, string(problems))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the import of %s: %w", r.Source, err)
	}
	return nil
}

// Imports lists ERP import runs, newest first.
func (d *DB) Imports(ctx context.Context, limit, offset int) ([]gateway.ImportRun, error) {
	limit, offset = limitOffset(limit, offset)
	rows, err := d.read.QueryContext(ctx, `SELECT seq, source, at, created, changed, unchanged, sent, problems
		FROM erp_imports ORDER BY seq DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("listing imports: %w", err)
	}
	defer rows.Close()
	out := []gateway.ImportRun{}
	for rows.Next() {
		var r gateway.ImportRun
		var at, problems string
		if err := rows.Scan(&r.ID, &r.Source, &at, &r.Created, &r.Changed, &r.Unchanged, &r.Sent, &problems); err != nil {
			return nil, err
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(problems), &r.Problems); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EachDocumentHead calls fn for every document of a kind, oldest first,
// leaving out the document's JSON.
func (d *DB) EachDocumentHead(ctx context.Context, kind string, fn func(*gateway.StoredDocument) error) error {
	rows, err := d.read.QueryContext(ctx, `SELECT id, kind, partner, po_number, message_id, correlation_id, created_at
		FROM documents WHERE kind = ? ORDER BY seq`, kind)
	if err != nil {
		return fmt.Errorf("reading %s documents: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc gateway.StoredDocument
		var created string
		if err := rows.Scan(&doc.ID, &doc.Kind, &doc.Partner, &doc.PONumber, &doc.MessageID, &doc.CorrelationID, &created); err != nil {
			return fmt.Errorf("reading %s documents: %w", kind, err)
		}
		if doc.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		if err := fn(&doc); err != nil {
			return err
		}
	}
	return rows.Err()
}
