# lib/codec.mk -- codec part of libntm (sources, unit tests, fuzz targets).
