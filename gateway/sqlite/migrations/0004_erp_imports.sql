-- 0004_erp_imports: every ERP import run, with the rows it refused, so
-- that the EDI team sees why an export did not (fully) arrive.
CREATE TABLE erp_imports (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	source    TEXT NOT NULL,
	at        TEXT NOT NULL,
	created   INTEGER NOT NULL,
	changed   INTEGER NOT NULL,
	unchanged INTEGER NOT NULL,
	sent      INTEGER NOT NULL,
	problems  TEXT NOT NULL DEFAULT '[]' -- JSON array of "file:line: column C: message"
);
