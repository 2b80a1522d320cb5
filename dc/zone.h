/* zone.h -- the DC's zones as precomputed wire-format answers: static records, node A/AAAA and PTR. */
#ifndef NTM_DC_ZONE_H
#define NTM_DC_ZONE_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/*
 * A DC is authoritative for up to three zones ("apexes"): its forward zone
 * (records from an RFC 1035 zone file plus one A and one AAAA per node) and
 * the reverse zones of its IPv4 and IPv6 prefixes (PTR per node).  The
 * reverse zones have no file of their own: their SOA and NS records are
 * those of the forward zone.  All three share one serial.
 *
 * Every owner name is an entry in a hash table keyed by its lower-cased
 * wire form (open addressing, at most half full).  An entry holds its RRsets already encoded as they go into an
 * answer section: each record is
 *
 *   +-----------+------+-------+-----+-------+-------+
 *   | C0 0C     | type | class | ttl | rdlen | rdata |
 *   +-----------+------+-------+-----+-------+-------+
 *     owner: a compression pointer to the question name; dns_answer()
 *     patches it when the owner is an ancestor of the question (SOA in
 *     the authority section, a referral's NS)
 *
 * with names inside rdata uncompressed.  `glue` holds the additional-section
 * records (address records of in-zone NS/MX/SRV targets) with full owners.
 */
enum zone_apex_kind {
	ZONE_APEX_INVALID = 0,
	ZONE_APEX_FORWARD,
	ZONE_APEX_REVERSE4,
	ZONE_APEX_REVERSE6,
};

enum zone_limit {
	ZONE_APEX_MAX = 3,
	ZONE_OWNER_PTR_LEN = 2,
	ZONE_RR_FIXED_LEN = 10,		/* type, class, ttl, rdlen */
	ZONE_SOA_SERIAL_FROM_END = 20,	/* serial .. minimum: 5 x 4 bytes */
	ZONE_FILE_MAX_RRSET = 60000,	/* wire bytes of one RRset */
};

enum zone_entry_flag {
	ZONE_ENTRY_APEX = 0x01,
	ZONE_ENTRY_CUT = 0x02,		/* delegation (NS below the apex) */
	ZONE_ENTRY_OCCLUDED = 0x04,	/* at or below a cut: glue only */
};

/*
 * One name's RRset as wire records.  The zone holds two or three of these
 * per node (A/AAAA at the name, PTR at the reverse name), so both structs
 * are packed: 32-bit lengths (an RRset is at most ZONE_FILE_MAX_RRSET
 * bytes), the 8-byte members first.
 */
struct zone_rrset {
	uint8_t		*wire;		/* count records, owner C0 0C */
	uint8_t		*glue;		/* additional records, full owners */
	uint32_t	 len;
	uint32_t	 gluelen;
	uint16_t	 type;
	uint16_t	 count;
	uint16_t	 gluecount;
	bool		 dynamic;	/* from the node table, not the file */
};

/* Allocated as offsetof(struct zone_entry, name) + namelen bytes. */
struct zone_entry {
	struct zone_entry	*cut;		/* OCCLUDED: the delegation */
	struct zone_rrset	*rrsets;
	int			 apex;		/* index into zone->apex */
	uint32_t		 children;	/* entries naming it parent */
	uint16_t		 nrrsets;
	uint16_t		 namelen;	/* <= DNS_NAME_MAX */
	uint8_t			 flags;
	uint8_t			 name[];	/* lower-case wire form */
};

struct zone_apex {
	enum zone_apex_kind	 kind;
	uint8_t			 name[DNS_NAME_MAX];
	size_t			 namelen;
	struct zone_entry	*entry;
	/* SOA for negative answers: TTL = min(SOA TTL, SOA minimum). */
	struct zone_rrset	 soa_neg;
};

struct zone_config {
	const char		*origin;	/* "dc1.ntm.test" */
	const char		*file;		/* the zone file (required) */
	bool			 have4, have6;
	struct in_addr		 prefix4;
	unsigned		 prefix4_len;	/* multiple of 8, 8..24 */
	struct in6_addr		 prefix6;
	unsigned		 prefix6_len;	/* multiple of 4, 4..124 */
	uint32_t		 node_ttl;
};

struct zone;

/*
 * zone_new: builds the zones from cfg->file (parsed with ldns).  Errors are
 * written to `err` as "file:line: message" and give -EINVAL (bad data) or
 * another negative errno.  The caller frees *zp with zone_free().
 * zone_new does not copy cfg's strings it does not need later.
 */
int	zone_new(const struct zone_config *cfg, struct zone **zp,
	    char *err, size_t errlen);
void	zone_free(struct zone *);		/* accepts NULL */

/*
 * zone_node_set: adds or replaces the node `fqdn` (text, with or without the
 * trailing dot, any case) with its virtual IPs (text); vip4/vip6 may be NULL
 * when the zone has no such prefix.  The name must be one label below the
 * forward apex (LDH) and the addresses inside the DC's prefixes: -EINVAL
 * otherwise; -EEXIST if another node already holds one of the addresses.
 * Bumps the serial when anything changed.  zone_node_remove: -ENOENT when
 * there is no such node.  Both may allocate; never call them while a query
 * is being answered from this zone (one loop thread does both).
 */
int	zone_node_set(struct zone *, const char *fqdn, const char *vip4,
	    const char *vip6);
int	zone_node_remove(struct zone *, const char *fqdn);
size_t	zone_node_count(const struct zone *);

/*
 * zone_db_load: adds every node in the DC database's `nodes` table and
 * raises the serial to at least the stored `zone_serial` of the forward
 * zone plus one (a restart never reuses a serial).  Nodes that fail
 * zone_node_set's checks are skipped with a warning.  zone_db_save_serial:
 * stores the serial for every apex.
 */
int	zone_db_load(struct zone *, const char *dbpath);
int	zone_db_save_serial(const struct zone *, const char *dbpath);

uint32_t zone_serial(const struct zone *);
/* Sets the serial (all apexes), patching every precomputed SOA. */
void	zone_set_serial(struct zone *, uint32_t serial);
/* A digest of every record but the SOA serial: did a reload change data? */
uint64_t zone_digest(const struct zone *);

/*
 * Lookup for the query path; nothing allocates.  zone_find_apex: the apex
 * that `lname` (lower-case wire) is at or below, or -1; *suffix_off gets
 * the offset of the apex name inside lname.  zone_lookup: the entry for an
 * exact name, or NULL.  zone_find_cut: for a name without an entry, the
 * closest delegation point above it, or NULL.
 */
int	zone_find_apex(const struct zone *, const uint8_t *lname, size_t len,
	    size_t *suffix_off);
const struct zone_apex *zone_apex_get(const struct zone *, int idx);
int	zone_apex_count(const struct zone *);
struct zone_entry *zone_lookup(const struct zone *, const uint8_t *lname,
	    size_t len);
struct zone_entry *zone_find_cut(const struct zone *, const uint8_t *lname,
	    size_t len);
const struct zone_rrset *zone_entry_rrset(const struct zone_entry *,
	    uint16_t type);

/*
 * Prefetch hints for a batch of lookups; they change no result.  The table
 * is too large for the caches, so an answer waits for memory three times:
 * for the slot, the entry, then the entry's RRset array.  A caller holding
 * many names asks for all the slots (zone_prefetch_slot), then, once those
 * lines had time to arrive, for all the entries (zone_prefetch_entry),
 * then for their RRset arrays (zone_prefetch_rrsets), then looks them up.
 * zone_name_hash is the table's hash of a lower-case wire name.
 */
uint64_t zone_name_hash(const uint8_t *lname, size_t len);
void	zone_prefetch_slot(const struct zone *, uint64_t hash);
void	zone_prefetch_entry(const struct zone *, uint64_t hash, size_t len);
void	zone_prefetch_rrsets(const struct zone *, uint64_t hash, size_t len);

/* Calls fn for every entry of apex `idx` (order unspecified). */
void	zone_foreach(const struct zone *, int idx,
	    void (*fn)(const struct zone_entry *, void *), void *arg);

#endif
