# dc/relay.mk -- the DC's relay client: RELAY_DIRECTION to ntm-rs (DESIGN 4, PROTOCOL 6.5).
