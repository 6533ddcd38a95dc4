/*
 * memcache.c - PLACEHOLDER: the memcache parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t memcache_ports[] = { 11211 };

static size_t memcache_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void memcache_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_memcache = {
	.name = "memcache",
	.transports = PB_TP_TCP | PB_TP_UDP,
	.ports = memcache_ports,
	.n_ports = sizeof(memcache_ports) / sizeof(memcache_ports[0]),
	.parse = memcache_parse,
	.datagram = memcache_datagram,
};
