# schema/local.mk -- build rules for schema/.
