# tools/local.mk -- build rules for tools/.
