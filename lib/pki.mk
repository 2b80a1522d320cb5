# lib/pki.mk -- pki part of libntm (sources, unit tests, fuzz targets).
