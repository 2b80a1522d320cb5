# node/daemon.mk -- the ntmd daemon.
