-- 0002_purchasing: the ERP's purchase orders (with history), the 850s we
-- sent for them and their 997/999 verdicts, which documents concern which
-- orders, and the reconciliation exceptions with their history.

CREATE TABLE orders (
	id          TEXT PRIMARY KEY,          -- po_<partner>_<po_number>
	partner     TEXT NOT NULL,
	po_number   TEXT NOT NULL,
	po_date     TEXT NOT NULL DEFAULT '',
	lines       TEXT NOT NULL,             -- JSON array of gateway.OrderLine
	hash        TEXT NOT NULL,             -- SHA-256 of po_date and lines: unchanged imports are no-ops
	version     INTEGER NOT NULL,
	source      TEXT NOT NULL DEFAULT '',
	imported_at TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	UNIQUE (partner, po_number)
);

CREATE TABLE order_versions (
	order_id    TEXT NOT NULL REFERENCES orders (id),
	version     INTEGER NOT NULL,
	po_date     TEXT NOT NULL DEFAULT '',
	lines       TEXT NOT NULL,
	source      TEXT NOT NULL DEFAULT '',
	imported_at TEXT NOT NULL,
	PRIMARY KEY (order_id, version)
) WITHOUT ROWID;

CREATE TABLE sent_orders (
	partner        TEXT NOT NULL,
	po_number      TEXT NOT NULL,
	filename       TEXT NOT NULL,
	interchange    TEXT NOT NULL,
	group_control  TEXT NOT NULL,
	txn_control    TEXT NOT NULL,
	sent_at        TEXT NOT NULL,
	ack_status     TEXT NOT NULL,
	ack_codes      TEXT NOT NULL DEFAULT '[]',
	acked_at       TEXT,
	ack_message_id TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (partner, po_number)
) WITHOUT ROWID;
CREATE INDEX sent_orders_controls ON sent_orders (partner, group_control, txn_control);

-- Every purchase order a document concerns (a ship notice may cover several).
CREATE TABLE document_orders (
	document_id TEXT NOT NULL REFERENCES documents (id),
	partner     TEXT NOT NULL,
	po_number   TEXT NOT NULL,
	PRIMARY KEY (document_id, po_number)
) WITHOUT ROWID;
CREATE INDEX document_orders_po ON document_orders (partner, po_number);

CREATE TABLE exceptions (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	id             TEXT NOT NULL UNIQUE,   -- exc_<20 hex>
	key            TEXT NOT NULL UNIQUE,   -- the finding's key: reruns find the same row
	rule           TEXT NOT NULL,
	partner        TEXT NOT NULL,
	po_number      TEXT NOT NULL,
	line_number    TEXT NOT NULL DEFAULT '',
	expected       TEXT NOT NULL DEFAULT '',
	actual         TEXT NOT NULL DEFAULT '',
	severity       TEXT NOT NULL,
	document_id    TEXT NOT NULL DEFAULT '',
	message        TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL,
	assignee       TEXT NOT NULL DEFAULT '',
	decided_actual TEXT NOT NULL DEFAULT '', -- actual when last decided: a different one reopens
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);
CREATE INDEX exceptions_po ON exceptions (partner, po_number);
CREATE INDEX exceptions_status ON exceptions (status, created_at);
CREATE INDEX exceptions_rule ON exceptions (rule, created_at);

-- Append-only: every action on an exception, with who and when.
CREATE TABLE exception_events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	exception_id TEXT NOT NULL REFERENCES exceptions (id),
	at           TEXT NOT NULL,
	actor        TEXT NOT NULL,
	action       TEXT NOT NULL,
	comment      TEXT NOT NULL DEFAULT '',
	from_status  TEXT NOT NULL DEFAULT '',
	to_status    TEXT NOT NULL DEFAULT '',
	actual       TEXT NOT NULL DEFAULT '',
	exported_at  TEXT             -- accept/reject decisions: when handed to the ERP
);
CREATE INDEX exception_events_exception ON exception_events (exception_id, seq);
CREATE INDEX exception_events_unexported ON exception_events (seq) WHERE exported_at IS NULL AND action IN ('accept', 'reject');
CREATE TRIGGER exception_events_append_only BEFORE DELETE ON exception_events
BEGIN
	SELECT RAISE(ABORT, 'exception history is append-only');
END;
CREATE TRIGGER exception_events_unchanged BEFORE UPDATE OF exception_id, at, actor, action, comment, from_status, to_status, actual ON exception_events
BEGIN
	SELECT RAISE(ABORT, 'exception history is append-only');
END;
