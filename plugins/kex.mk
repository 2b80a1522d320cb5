# plugins/kex.mk -- key-exchange schemes.
