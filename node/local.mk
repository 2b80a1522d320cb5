# node/local.mk -- build rules for node/.
