# as/daemon.mk -- the ntm-as daemon.
