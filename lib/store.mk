# lib/store.mk -- store part of libntm (sources, unit tests, fuzz targets).
