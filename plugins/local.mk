# plugins/local.mk -- build rules for plugins/.
