# dc/local.mk -- build rules for dc/.
