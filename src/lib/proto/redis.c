/*
 * redis.c - PLACEHOLDER: the redis parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t redis_ports[] = { 6379 };

static size_t redis_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void redis_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_redis = {
	.name = "redis",
	.transports = PB_TP_TCP,
	.ports = redis_ports,
	.n_ports = sizeof(redis_ports) / sizeof(redis_ports[0]),
	.parse = redis_parse,
	.datagram = redis_datagram,
};
