# lib/crypto.mk -- crypto part of libntm (sources, unit tests, fuzz targets).
