/* dns.h -- DC authoritative DNS: protocol numbers, statistics and the pure query handler. */
#ifndef NTM_DC_DNS_H
#define NTM_DC_DNS_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zone;
struct rrl;
struct xfr_config;

/*
 * DNS message header (RFC 1035 4.1.1), 12 bytes, then the sections:
 *
 *   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
 * +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 * |                      ID                       |
 * |QR|  Opcode   |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 * |                    QDCOUNT                    |
 * |                    ANCOUNT                    |
 * |                    NSCOUNT                    |
 * |                    ARCOUNT                    |
 * +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * The wire values below are fixed by the IANA registries, so the enums keep
 * them (NOERROR and QUERY are 0 on the wire; DNS_TYPE_INVALID is the
 * reserved type 0).
 */
enum dns_header {
	DNS_HEADER_LEN = 12,
	DNS_OFF_ID = 0,
	DNS_OFF_FLAGS = 2,
	DNS_OFF_QDCOUNT = 4,
	DNS_OFF_ANCOUNT = 6,
	DNS_OFF_NSCOUNT = 8,
	DNS_OFF_ARCOUNT = 10,
};

enum dns_flag {
	DNS_FLAG_QR = 0x8000,
	DNS_FLAG_AA = 0x0400,
	DNS_FLAG_TC = 0x0200,
	DNS_FLAG_RD = 0x0100,
	DNS_FLAG_RA = 0x0080,
	DNS_FLAG_AD = 0x0020,
	DNS_FLAG_CD = 0x0010,
	DNS_OPCODE_SHIFT = 11,
	DNS_OPCODE_MASK = 0xf,
	DNS_RCODE_MASK = 0xf,
};

enum dns_opcode {
	DNS_OPCODE_QUERY = 0,
	DNS_OPCODE_IQUERY = 1,
	DNS_OPCODE_STATUS = 2,
	DNS_OPCODE_NOTIFY = 4,
	DNS_OPCODE_UPDATE = 5,
};

/* Response codes; values above 15 travel in the OPT record (EDNS). */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_BADVERS = 16,
	DNS_RCODE_COUNT = 17,		/* size of the per-rcode counters */
};

/* TSIG error field values (RFC 8945 5.2); 16 is BADSIG here, not BADVERS. */
enum dns_tsig_error {
	DNS_TSIG_NOERROR = 0,
	DNS_TSIG_BADSIG = 16,
	DNS_TSIG_BADKEY = 17,
	DNS_TSIG_BADTIME = 18,
};

enum dns_type {
	DNS_TYPE_INVALID = 0,
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_HINFO = 13,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_DNAME = 39,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_DS = 43,
	DNS_TYPE_TKEY = 249,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_MAILB = 253,
	DNS_TYPE_MAILA = 254,
	DNS_TYPE_ANY = 255,
};

enum dns_class {
	DNS_CLASS_INVALID = 0,
	DNS_CLASS_IN = 1,
	DNS_CLASS_ANY = 255,		/* also the class of TSIG records */
};

enum dns_limit {
	DNS_NAME_MAX = 255,		/* wire form, with the root label */
	DNS_LABEL_MAX = 63,
	DNS_UDP_PLAIN_MAX = 512,	/* UDP answer without EDNS */
	DNS_UDP_MAX = 1232,		/* EDNS payload cap (flag day 2020) */
	DNS_TCP_MAX = 65535,
	DNS_EDNS_VERSION = 0,
	DNS_EDNS_DO = 0x8000,
	DNS_OPT_RR_LEN = 11,		/* root name, type, class, ttl, rdlen */
	DNS_PTR_MASK = 0xc0,		/* compression pointer marker */
	DNS_TSIG_RESERVE = 256,		/* room kept for a TSIG record */
	DNS_NODE_TTL_DEFAULT = 60,
};

enum dns_transport {
	DNS_TRANSPORT_INVALID = 0,
	DNS_TRANSPORT_UDP,
	DNS_TRANSPORT_TCP,
};

/* What the I/O layer does with the result of dns_answer(). */
enum dns_action {
	DNS_ACTION_INVALID = 0,
	DNS_ACTION_DROP,	/* send nothing */
	DNS_ACTION_ANSWER,	/* send out[0..*outlen) */
	DNS_ACTION_XFR,		/* TCP zone transfer: call xfr_answer() */
};

/*
 * Counters read by `ntmctl dc stats` (later) and logged at shutdown.  Only
 * the loop thread writes them.
 */
struct dns_stats {
	uint64_t	queries;		/* datagrams and TCP messages */
	uint64_t	udp;
	uint64_t	tcp;
	uint64_t	rcode[DNS_RCODE_COUNT];	/* answers sent, by rcode */
	uint64_t	malformed_dropped;	/* unanswerable, or responses */
	uint64_t	truncated;		/* TC=1 for size, not RRL */
	uint64_t	rrl_dropped;
	uint64_t	rrl_slipped;		/* minimal TC=1 from RRL */
	uint64_t	xfr;			/* AXFR/IXFR served */
	uint64_t	xfr_refused;
	uint64_t	tsig_bad;
	uint64_t	notify_sent;
	uint64_t	notify_acked;
};

/*
 * The query handler's environment.  Everything is borrowed: the zone is the
 * one current when the query arrives (a reload swaps the pointer between
 * queries), rrl and xfr may be NULL (no rate limiting, no transfers).
 */
struct dns_server {
	struct zone			*zone;
	struct rrl			*rrl;
	const struct xfr_config		*xfr;
	struct dns_stats		 stats;
};

/* A query as it came from the network. */
struct dns_request {
	const uint8_t		*wire;
	size_t			 len;
	const struct sockaddr	*src;
	enum dns_transport	 transport;
	uint64_t		 now;		/* ms, monotonic (RRL) */
};

/*
 * A parsed question, produced by dns_parse().  `qname` points into the
 * request (original case), `lname` holds the lower-cased copy used for
 * lookups.  Offsets are from the start of the message.
 */
struct dns_query {
	uint16_t	 id;
	uint16_t	 flags;
	uint16_t	 qtype;
	uint16_t	 qclass;
	const uint8_t	*qname;
	size_t		 qname_len;
	uint8_t		 lname[DNS_NAME_MAX];
	size_t		 question_len;	/* qname + type + class */
	bool		 edns;
	uint16_t	 edns_size;
	uint8_t		 edns_version;
	uint16_t	 edns_flags;
	bool		 tsig;		/* a TSIG record ends the message */
	size_t		 tsig_off;	/* where it starts */
};

/*
 * dns_parse: reads the header, question and additional section of `wire`.
 * Returns 0, or a negative DNS rcode (-DNS_RCODE_FORMERR, -DNS_RCODE_NOTIMP)
 * that the caller answers with, or -EBADMSG when the message cannot even be
 * answered (shorter than a header, or a response).  Compression pointers in
 * the question are refused (FORMERR): no client sends them, and it rules out
 * pointer loops.
 */
int	dns_parse(const uint8_t *wire, size_t len, struct dns_query *q);

/*
 * Prefetch hints for a batch of UDP queries; they change no answer.
 * dns_prefetch_start reads the question name (a malformed one gives an
 * empty hint) and asks for the zone table's slot; dns_prefetch_entry,
 * called after the other queries of the batch got their start, for the
 * zone entry; dns_prefetch_data, after all got that, for the entry's
 * RRsets.  Then dns_answer() finds them in the cache.
 */
struct dns_hint {
	uint64_t	hash;
	size_t		len;		/* 0: no hint */
};

void	dns_prefetch_start(const struct dns_server *, const uint8_t *wire,
	    size_t len, struct dns_hint *);
void	dns_prefetch_entry(const struct dns_server *,
	    const struct dns_hint *);
void	dns_prefetch_data(const struct dns_server *,
	    const struct dns_hint *);

/*
 * dns_answer: the whole authoritative answer to one query, without
 * allocation on the A/AAAA/PTR/NXDOMAIN path.  Writes at most `outcap`
 * bytes (give DNS_TCP_MAX for TCP; over UDP the answer is limited to
 * min(EDNS size, DNS_UDP_MAX) or 512 anyway) and sets *outlen.  Updates
 * srv->stats and the RRL state.  Returns the action for the I/O layer.
 */
enum dns_action dns_answer(struct dns_server *srv,
	    const struct dns_request *req, uint8_t *out, size_t outcap,
	    size_t *outlen);

/* Lower-cases a wire-format name in place (ASCII only, labels untouched). */
void	dns_name_lower(uint8_t *name, size_t len);
/* Writes `name` (wire form) as text with a trailing dot; 0 or -ENOSPC. */
int	dns_name_str(const uint8_t *name, size_t len, char *buf, size_t buflen);
/* Adds the stats to the log at info level, one line. */
void	dns_stats_log(const struct dns_stats *);

#endif
