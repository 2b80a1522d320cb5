# as/local.mk -- build rules for as/.
