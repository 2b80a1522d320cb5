# dc/core.mk -- DC registry, signalling core and route decision.
