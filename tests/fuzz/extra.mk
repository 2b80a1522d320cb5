# tests/fuzz/extra.mk -- fuzz targets for certificate, status and fragment input.
