# lib/state.mk -- state part of libntm (sources, unit tests, fuzz targets).
