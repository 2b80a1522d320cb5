-- as.sql -- Account Server database: accounts, certificates, revocations,
-- status responses, the notice outbox and each DC's acknowledged position.
--
-- Compiled into ntm-as at build time (schema/embed.awk -> schema_as); opened
-- with db_open(path, &schema_as, &db), which applies every migration above
-- the version stored in the schema_version table.
--
-- Format: a line "-- migration: N" starts migration N; its SQL runs to the
-- next such line, in one transaction, N strictly increasing.  A migration
-- that has shipped is never edited: append a new one.  No BEGIN/COMMIT
-- inside a migration.  Text above the first marker is not embedded.
--
-- Conventions: times are unix seconds (INTEGER); names are lower-case
-- without a trailing dot; a certificate serial is 32 lower-case hex digits
-- (128 bits); virtual IPs are text (dotted quad, RFC 5952).

-- migration: 1

-- Enrolment accounts.  `hash` is an argon2id encoded string (it carries its
-- own salt and cost parameters); the password itself is never stored.
CREATE TABLE accounts (
	name      TEXT PRIMARY KEY,
	hash      TEXT NOT NULL CHECK (hash LIKE '$argon2id$%'),
	created   INTEGER NOT NULL,
	disabled  INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- The node FQDNs an account may enrol.  An FQDN belongs to one account.
CREATE TABLE account_fqdns (
	fqdn      TEXT PRIMARY KEY,
	account   TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE
);
CREATE INDEX account_fqdns_by_account ON account_fqdns (account);

-- Every certificate the AS ever issued.  Rows are kept after their account
-- is removed (no foreign key to accounts) and never updated.
-- dc: name of the node's home DC, whose prefixes hold vip4/vip6.
-- key_type: 'ecdsa-p256' or 'rsa-2048'.
CREATE TABLE certificates (
	serial      TEXT PRIMARY KEY
	            CHECK (length(serial) = 32 AND serial NOT GLOB '*[^0-9a-f]*'),
	fqdn        TEXT NOT NULL,
	account     TEXT NOT NULL,
	dc          TEXT NOT NULL,
	vip4        TEXT NOT NULL,
	vip6        TEXT NOT NULL,
	key_type    TEXT NOT NULL,
	not_before  INTEGER NOT NULL,
	not_after   INTEGER NOT NULL CHECK (not_after > not_before),
	der         BLOB NOT NULL,
	issued_at   INTEGER NOT NULL
);
CREATE INDEX certificates_by_fqdn ON certificates (fqdn, not_after);
CREATE INDEX certificates_by_account ON certificates (account);
CREATE INDEX certificates_by_vip4 ON certificates (vip4);
CREATE INDEX certificates_by_vip6 ON certificates (vip6);
CREATE INDEX certificates_by_expiry ON certificates (not_after);

CREATE TRIGGER certificates_immutable BEFORE UPDATE ON certificates
BEGIN
	SELECT RAISE(ABORT, 'certificates are never updated');
END;

-- reason: RFC 5280 CRLReason code (0..10, 7 unused).  Revocation is final.
CREATE TABLE revocations (
	serial      TEXT PRIMARY KEY REFERENCES certificates (serial),
	reason      INTEGER NOT NULL CHECK (reason BETWEEN 0 AND 10 AND reason <> 7),
	revoked_at  INTEGER NOT NULL
);

CREATE TRIGGER revocations_final BEFORE DELETE ON revocations
BEGIN
	SELECT RAISE(ABORT, 'revocations are final');
END;

-- A virtual IP belongs to one node: a new certificate may reuse a virtual IP
-- only for the same FQDN (renewal) or once every other certificate holding
-- it has expired or been revoked.  "Now" is the new row's issued_at, so the
-- check uses the injected clock, not SQLite's.
CREATE TRIGGER certificates_live_vip BEFORE INSERT ON certificates
WHEN EXISTS (
	SELECT 1 FROM certificates AS c
	WHERE (c.vip4 = NEW.vip4 OR c.vip6 = NEW.vip6)
	  AND c.fqdn <> NEW.fqdn
	  AND c.not_after > NEW.issued_at
	  AND NOT EXISTS (SELECT 1 FROM revocations AS r
	                  WHERE r.serial = c.serial))
BEGIN
	SELECT RAISE(ABORT, 'virtual IP held by a live certificate of another node');
END;

-- The newest signed OCSP response (DER) for each certificate; replaced when
-- refreshed at half-life.
CREATE TABLE status_responses (
	serial       TEXT PRIMARY KEY REFERENCES certificates (serial),
	this_update  INTEGER NOT NULL,
	next_update  INTEGER NOT NULL CHECK (next_update > this_update),
	der          BLOB NOT NULL
);
CREATE INDEX status_responses_by_next_update ON status_responses (next_update);

-- Notices to DCs, replayed in seq order after any restart or disconnect until
-- the DC acknowledges them.  dc is the receiving DC's name, or '*' for every
-- DC (revocations).  AUTOINCREMENT: a seq is never reused, even after the
-- newest rows are pruned, so a DC's acknowledged seq stays meaningful.
CREATE TABLE notice_outbox (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	dc       TEXT NOT NULL,
	kind     TEXT NOT NULL CHECK (kind IN ('issued', 'revoked', 'status')),
	serial   TEXT NOT NULL,
	payload  BLOB NOT NULL,
	created  INTEGER NOT NULL
);
CREATE INDEX notice_outbox_by_dc ON notice_outbox (dc, seq);

-- The highest seq each DC has acknowledged.
CREATE TABLE dc_cursors (
	dc         TEXT PRIMARY KEY,
	acked_seq  INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0)
);

-- migration: 2

-- Keys that seal DC tickets, made by the AS for each DC that has no
-- ticket key file and sent to it as NOTICE_TICKET_KEY (PROTOCOL.md 13).
-- A new key is made a day before the newest one stops being used for
-- sealing; a key stays valid (expires) for the tickets it sealed.
CREATE TABLE ticket_keys (
	dc       TEXT NOT NULL,
	id       INTEGER NOT NULL CHECK (id BETWEEN 1 AND 4294967295),
	key      BLOB NOT NULL CHECK (length(key) = 32),
	created  INTEGER NOT NULL,
	expires  INTEGER NOT NULL CHECK (expires > created),
	seq      INTEGER NOT NULL,       -- its NOTICE_TICKET_KEY in the outbox
	PRIMARY KEY (dc, id)
);

-- The outbox learns a fourth kind, 'ticket_key' (serial: the key id as 32
-- hex digits; payload: the id, 4 bytes big-endian; the key itself is read
-- from ticket_keys when the notice is sent).  SQLite cannot change a CHECK,
-- so the table is rebuilt, keeping its AUTOINCREMENT counter: a seq is
-- never reused.
CREATE TABLE notice_outbox_new (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	dc       TEXT NOT NULL,
	kind     TEXT NOT NULL
	         CHECK (kind IN ('issued', 'revoked', 'status', 'ticket_key')),
	serial   TEXT NOT NULL,
	payload  BLOB NOT NULL,
	created  INTEGER NOT NULL
);
INSERT INTO notice_outbox_new (seq, dc, kind, serial, payload, created)
	SELECT seq, dc, kind, serial, payload, created FROM notice_outbox;
DELETE FROM sqlite_sequence WHERE name = 'notice_outbox_new';
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'notice_outbox_new', seq FROM sqlite_sequence
	WHERE name = 'notice_outbox';
DROP TABLE notice_outbox;
ALTER TABLE notice_outbox_new RENAME TO notice_outbox;
CREATE INDEX notice_outbox_by_dc ON notice_outbox (dc, seq);
