# dc/relay.mk -- the DC's relay client: RELAY_DIRECTION to ntm-rs (DESIGN 4, PROTOCOL 6.5).

dc_libdc_la_SOURCES += dc/relay.c dc/relay.h
