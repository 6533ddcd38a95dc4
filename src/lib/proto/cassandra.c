/*
 * cassandra.c - PLACEHOLDER: the cassandra parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t cassandra_ports[] = { 9042 };

static size_t cassandra_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void cassandra_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_cassandra = {
	.name = "cassandra",
	.transports = PB_TP_TCP,
	.ports = cassandra_ports,
	.n_ports = sizeof(cassandra_ports) / sizeof(cassandra_ports[0]),
	.parse = cassandra_parse,
	.datagram = cassandra_datagram,
};
