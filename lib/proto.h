/* proto.h -- every ntmobile protocol number, timer and limit (see doc/PROTOCOL.md). */
#ifndef NTM_PROTO_H
#define NTM_PROTO_H

/* Filled in by the protocol work: header layout, message types, status codes. */

#endif
