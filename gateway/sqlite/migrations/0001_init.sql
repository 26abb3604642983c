-- 0001_init: messages and their queue, interchanges, canonical documents,
-- MDNs, outbound control numbers and API tokens.
--
-- Times are TEXT in UTC with a fixed nine-digit fraction
-- (2006-01-02T15:04:05.000000000Z) so that they compare as strings.
-- Lists (interchanges, errors) are JSON arrays.

CREATE TABLE messages (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order
	id             TEXT    NOT NULL UNIQUE,           -- msg_<20 hex>
	correlation_id TEXT    NOT NULL,
	partner        TEXT    NOT NULL,
	transport      TEXT    NOT NULL DEFAULT '',
	filename       TEXT    NOT NULL DEFAULT '',
	sha256         TEXT    NOT NULL,                  -- archive/<sha256[:2]>/<sha256>
	size           INTEGER NOT NULL,
	as2_message_id TEXT    NOT NULL DEFAULT '',
	state          TEXT    NOT NULL,
	duplicate_of   TEXT    REFERENCES messages (id),
	interchanges   TEXT    NOT NULL DEFAULT '[]',
	attempts       INTEGER NOT NULL DEFAULT 0,
	next_attempt   TEXT,                              -- NULL: due now
	lease_until    TEXT,                              -- NULL: not claimed
	errors         TEXT    NOT NULL DEFAULT '[]',
	received_at    TEXT    NOT NULL,
	updated_at     TEXT    NOT NULL
);
CREATE INDEX messages_state ON messages (state, seq);
CREATE INDEX messages_partner ON messages (partner, seq);
CREATE INDEX messages_partner_sha256 ON messages (partner, sha256, seq);
CREATE INDEX messages_partner_as2 ON messages (partner, as2_message_id, seq) WHERE as2_message_id <> '';

-- ISA13 control numbers seen per partner, for duplicate interchanges.
CREATE TABLE interchanges (
	partner    TEXT NOT NULL,
	control    TEXT NOT NULL,
	message_id TEXT NOT NULL REFERENCES messages (id),
	created_at TEXT NOT NULL,
	PRIMARY KEY (partner, control)
) WITHOUT ROWID;

CREATE TABLE documents (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	id             TEXT NOT NULL UNIQUE,
	kind           TEXT NOT NULL,
	partner        TEXT NOT NULL,
	po_number      TEXT NOT NULL DEFAULT '',
	message_id     TEXT NOT NULL REFERENCES messages (id),
	correlation_id TEXT NOT NULL,
	document       TEXT NOT NULL, -- canonical JSON
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);
CREATE INDEX documents_message ON documents (message_id, seq);
CREATE INDEX documents_kind ON documents (kind, seq);
CREATE INDEX documents_partner ON documents (partner, seq);
CREATE INDEX documents_po_number ON documents (po_number, seq) WHERE po_number <> '';

CREATE TABLE mdns (
	message_id TEXT PRIMARY KEY REFERENCES messages (id),
	mdn        BLOB NOT NULL,
	created_at TEXT NOT NULL
);

-- Outbound control numbers: last is the last number handed out.
CREATE TABLE controls (
	partner TEXT    NOT NULL,
	kind    TEXT    NOT NULL,
	last    INTEGER NOT NULL,
	PRIMARY KEY (partner, kind)
) WITHOUT ROWID;

-- API tokens, stored as the hex SHA-256 of the token.
CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
