-- dc.sql -- Direction Coordinator database: virtual-IP assignments, zone
-- serials, stapled certificate status, ticket keys, the AS notice cursor.
--
-- Compiled into ntm-dc at build time (schema/embed.awk -> schema_dc); opened
-- with db_open(path, &schema_dc, &db), which applies every migration above
-- the version stored in the schema_version table.
--
-- Format: a line "-- migration: N" starts migration N; its SQL runs to the
-- next such line, in one transaction, N strictly increasing.  A migration
-- that has shipped is never edited: append a new one.  No BEGIN/COMMIT
-- inside a migration.  Text above the first marker is not embedded.
--
-- Soft state (locations, NAT state, keep-alive times) is not stored here:
-- after a DC restart nodes re-register by themselves.

-- migration: 1

-- Virtual-IP assignments, stable for a node's lifetime.
CREATE TABLE nodes (
  fqdn     TEXT PRIMARY KEY,        -- lower-case, no trailing dot
  vip4     TEXT NOT NULL UNIQUE,    -- dotted quad
  vip6     TEXT NOT NULL UNIQUE,    -- RFC 5952 text
  created  INTEGER NOT NULL         -- unix seconds
);

-- SOA serial of each zone the DC serves (forward and reverse).
CREATE TABLE zone_serial (zone TEXT PRIMARY KEY, serial INTEGER NOT NULL);

-- The newest AS-signed OCSP response (DER) per certificate, stapled for
-- peers.  revoked is final: an UPDATE (or an upsert's DO UPDATE) that
-- clears it is refused.  Replace rows with an upsert, not INSERT OR REPLACE,
-- so the trigger sees the change.
CREATE TABLE cert_status (
  serial       TEXT PRIMARY KEY,    -- 32 lower-case hex digits
  fqdn         TEXT NOT NULL,
  this_update  INTEGER NOT NULL,    -- unix seconds
  next_update  INTEGER NOT NULL CHECK (next_update > this_update),
  revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  der          BLOB NOT NULL
);
CREATE INDEX cert_status_by_fqdn ON cert_status (fqdn);
CREATE INDEX cert_status_by_next_update ON cert_status (next_update);

CREATE TRIGGER cert_status_revoked_final BEFORE UPDATE ON cert_status
WHEN OLD.revoked = 1 AND NEW.revoked = 0
BEGIN
  SELECT RAISE(ABORT, 'revoked status is final');
END;

-- Keys, shared with the AS over TLS, that seal DC tickets; id is the key id
-- a ticket names.  Old keys stay until their tickets have expired.
CREATE TABLE ticket_keys (
  id       INTEGER PRIMARY KEY,
  key      BLOB NOT NULL,
  created  INTEGER NOT NULL,        -- unix seconds
  expires  INTEGER NOT NULL CHECK (expires > created)
);

-- The last notice seq taken from each AS (it replays from there).
CREATE TABLE notice_cursor (
  as_name   TEXT PRIMARY KEY,
  last_seq  INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);

-- migration: 2

-- The SHA-256 of each node certificate (NOTICE_ISSUED's CERT_HASH), kept
-- so a restarted DC staples the right hash in Route Directions without
-- waiting for the AS to send the certificate again.  NULL for rows written
-- before this migration.
ALTER TABLE cert_status ADD COLUMN cert_hash BLOB
  CHECK (cert_hash IS NULL OR length(cert_hash) = 32);

-- Virtual IPs the DC gave the AS for a node (VIP_REQUEST), stable per FQDN:
-- the same pair is answered again as long as no other node's certificate
-- holds one of them.  A NOTICE_ISSUED writes the pair its certificate
-- certifies here too, and takes the pair from any other name.
CREATE TABLE vip_assignments (
  fqdn     TEXT PRIMARY KEY,        -- lower-case, no trailing dot
  vip4     TEXT NOT NULL UNIQUE,    -- dotted quad
  vip6     TEXT NOT NULL UNIQUE,    -- RFC 5952 text
  created  INTEGER NOT NULL         -- unix seconds
);
