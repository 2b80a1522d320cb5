# node/intunnel.mk -- in-tunnel messages: rekey, certificate update and status re-stapling.
