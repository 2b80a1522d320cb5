# as/vip.mk -- virtual IPs from the home DC, ticket keys over notices, and the fuzz targets of the DC's TLS and HTTP inputs.
