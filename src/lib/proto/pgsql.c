/*
 * pgsql.c - PLACEHOLDER: the pgsql parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t pgsql_ports[] = { 5432 };

static size_t pgsql_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void pgsql_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_pgsql = {
	.name = "pgsql",
	.transports = PB_TP_TCP,
	.ports = pgsql_ports,
	.n_ports = sizeof(pgsql_ports) / sizeof(pgsql_ports[0]),
	.parse = pgsql_parse,
	.datagram = pgsql_datagram,
};
