/* msg_samples.h -- one valid sample of every message type (tests and seed corpus). */
#ifndef NTM_MSG_SAMPLES_H
#define NTM_MSG_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* Every header-format message type, in protocol order. */
extern const uint8_t msg_sample_types[];
extern const size_t msg_sample_ntypes;

/*
 * msg_sample: fills *m with a valid message of `type` (also
 * PROTO_MSG_TICKET_BODY).  Values are borrowed from static storage in
 * msg_samples.c, valid for the life of the process.
 */
void	msg_sample(struct msg *m, uint8_t type);
/* Address `which` 0-2 IPv4, 3 IPv6. */
void	msg_sample_addr(struct msg_addr *, int which);

#endif
