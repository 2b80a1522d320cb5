# node/tunnel.mk -- node tunnel establishment.
