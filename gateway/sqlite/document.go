package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

// SaveDocuments stores the canonical documents a message produced, in one
// transaction. A document whose ID was saved before is replaced (a replay
// is idempotent) and keeps its created_at. Partner and correlation ID
// default to the message's when the document has none. The document IDs
// then appear in the message's Documents.
func (d *DB) SaveDocuments(ctx context.Context, messageID string, docs []canonical.Document) error {
	type row struct {
		id, kind, partner, po, corr string
		pos                         []string // every PO the document concerns
		json                        []byte
	}
	rows := make([]row, 0, len(docs))
	for i, doc := range docs {
		if doc == nil || doc.Head() == nil {
			return gateway.Errorf(gateway.EINVALID, "saving documents of %s: document %d is nil", messageID, i)
		}
		h := doc.Head()
		if h.ID == "" {
			return gateway.Errorf(gateway.EINVALID, "saving documents of %s: document %d has no id", messageID, i)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("saving documents of %s: encoding %s: %w", messageID, h.ID, err)
		}
		kind := h.Kind
		if kind == "" {
			kind = kindOf(doc)
		}
		if kind == "" {
			return gateway.Errorf(gateway.EINVALID, "saving documents of %s: document %s has no kind", messageID, h.ID)
		}
		po := poNumber(doc, b)
		rows = append(rows, row{id: h.ID, kind: kind, partner: h.Partner, po: po, pos: poNumbers(doc, po), corr: h.CorrelationID, json: b})
	}
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var partner, corr string
		err := tx.QueryRowContext(ctx, `SELECT partner, correlation_id FROM messages WHERE id = ?`, messageID).Scan(&partner, &corr)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %q: %w", messageID, gateway.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := formatTime(d.now())
		for _, r := range rows {
			if r.partner == "" {
				r.partner = partner
			}
			if r.corr == "" {
				r.corr = corr
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO documents
				(id, kind, partner, po_number, message_id, correlation_id, document, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET
					kind = excluded.kind, partner = excluded.partner, po_number = excluded.po_number,
					message_id = excluded.message_id, correlation_id = excluded.correlation_id,
					document = excluded.document, updated_at = excluded.updated_at`,
				r.id, r.kind, r.partner, r.po, messageID, r.corr, string(r.json), now, now); err != nil {
				return fmt.Errorf("document %s: %w", r.id, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM document_orders WHERE document_id = ?`, r.id); err != nil {
				return fmt.Errorf("document %s: %w", r.id, err)
			}
			for _, po := range r.pos {
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO document_orders (document_id, partner, po_number) VALUES (?, ?, ?)`,
					r.id, r.partner, po); err != nil {
					return fmt.Errorf("document %s: %w", r.id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving documents of %s: %w", messageID, err)
	}
	return nil
}

func kindOf(doc canonical.Document) string {
	switch doc.(type) {
	case *canonical.PurchaseOrder:
		return canonical.KindPurchaseOrder
	case *canonical.POAcknowledgement:
		return canonical.KindPOAcknowledgement
	case *canonical.ShipNotice:
		return canonical.KindShipNotice
	case *canonical.Invoice:
		return canonical.KindInvoice
	}
	return ""
}

// poNumber is the purchase order a document is about: for a ship notice,
// its first order's. Other document types are read from their JSON.
func poNumber(doc canonical.Document, b []byte) string {
	switch doc := doc.(type) {
	case *canonical.PurchaseOrder:
		return doc.PONumber
	case *canonical.POAcknowledgement:
		return doc.PONumber
	case *canonical.Invoice:
		return doc.PONumber
	case *canonical.ShipNotice:
		if len(doc.Orders) > 0 {
			return doc.Orders[0].PONumber
		}
		return ""
	}
	var v struct {
		PONumber string `json:"po_number"`
		Orders   []struct {
			PONumber string `json:"po_number"`
		} `json:"orders"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	if v.PONumber == "" && len(v.Orders) > 0 {
		return v.Orders[0].PONumber
	}
	return v.PONumber
}

// poNumbers lists every purchase order a document concerns: all of a ship
// notice's orders, or the one PO number of other documents.
func poNumbers(doc canonical.Document, po string) []string {
	if sn, ok := doc.(*canonical.ShipNotice); ok {
		var pos []string
		for _, o := range sn.Orders {
			if o.PONumber != "" {
				pos = append(pos, o.PONumber)
			}
		}
		return pos
	}
	if po == "" {
		return nil
	}
	return []string{po}
}

const documentColumns = `id, kind, partner, po_number, message_id, correlation_id, created_at, document`

func scanDocument(s scanner) (*gateway.StoredDocument, error) {
	var (
		doc          gateway.StoredDocument
		created, raw string
	)
	if err := s.Scan(&doc.ID, &doc.Kind, &doc.Partner, &doc.PONumber, &doc.MessageID,
		&doc.CorrelationID, &created, &raw); err != nil {
		return nil, err
	}
	var err error
	if doc.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	doc.Document = json.RawMessage(raw)
	return &doc, nil
}

// Documents lists stored documents, newest first.
func (d *DB) Documents(ctx context.Context, f gateway.DocumentFilter) ([]*gateway.StoredDocument, error) {
	var (
		where []string
		args  []any
	)
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Partner != "" {
		where, args = append(where, "partner = ?"), append(args, f.Partner)
	}
	if f.PONumber != "" {
		where, args = append(where, "po_number = ?"), append(args, f.PONumber)
	}
	q := `SELECT ` + documentColumns + ` FROM documents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	q += ` ORDER BY seq DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing documents: %w", err)
	}
	defer rows.Close()
	docs := []*gateway.StoredDocument{}
	for rows.Next() {
		doc, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("listing documents: %w", err)
		}
		docs = append(docs, doc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing documents: %w", err)
	}
	return docs, nil
}

// Document returns a stored document by ID.
func (d *DB) Document(ctx context.Context, id string) (*gateway.StoredDocument, error) {
	doc, err := scanDocument(d.read.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("document %q: %w", id, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading document %s: %w", id, err)
	}
	return doc, nil
}
