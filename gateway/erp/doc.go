// Package erp is the ERP file connector: a distributor's ERP exports its
// open purchase orders as CSV or JSON lines into an inbox directory,
// edigate imports them, and buyer decisions are written back to an outbox
// directory as files the ERP can import.
//
// # Default column layout
//
// Without a Mapping, an export is CSV with a header row naming these
// columns, in any order:
//
//	partner,po_number,po_date,line_number,buyer_item,vendor_item,quantity,uom,unit_price,requested_date
//
// partner, po_number, line_number, quantity and uom are required; the
// others may be left out. Dates are YYYY-MM-DD and decimals use a point.
// One row is one order line; rows with the same partner and po_number
// form one order. A JSON lines export has one object per line with the
// same keys; values may be strings or numbers.
//
// A bad row is reported with its file, line and column, and its whole
// order is held back from that file (ErrHeldBack), so that a stored
// purchase order never loses a line to a malformed row; the other orders
// of the file are imported.
//
// A Mapping (usually loaded from YAML with LoadMapping) renames columns,
// changes the date format, delimiter and decimal separator, translates the
// ERP's vendor codes to partner IDs and supplies constant values, for
// example the partner of a per-supplier export:
//
//	columns:
//	  partner: Vendor
//	  po_number: PO
//	  quantity: Qty
//	date_format: "02.01.2006"
//	decimal_comma: true   # "12,50"; the delimiter then defaults to ";"
//	partners:
//	  V1001: acme
//	constants:
//	  uom: EA
//
// # Files
//
// FileConnector reads every file in its inbox, moves what it read to
// done/ (or failed/, for files that are not an export at all) once the
// orders are stored, and writes decisions-*.csv and decisions-*.jsonl to
// its outbox.
package erp
