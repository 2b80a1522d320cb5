# rs/local.mk -- build rules for rs/.
