/*
 * mongodb.c - PLACEHOLDER: the mongodb parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t mongodb_ports[] = { 27017 };

static size_t mongodb_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void mongodb_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_mongodb = {
	.name = "mongodb",
	.transports = PB_TP_TCP,
	.ports = mongodb_ports,
	.n_ports = sizeof(mongodb_ports) / sizeof(mongodb_ports[0]),
	.parse = mongodb_parse,
	.datagram = mongodb_datagram,
};
