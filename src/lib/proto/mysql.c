/*
 * mysql.c - PLACEHOLDER: the mysql parser is being written.  Until then it
 * consumes its conversations' bytes and emits nothing.
 */
#include "proto/proto.h"

static const uint16_t mysql_ports[] = { 3306, 3307 };

static size_t mysql_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	return len;
}

static void mysql_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
}

const struct pb_proto pb_proto_mysql = {
	.name = "mysql",
	.transports = PB_TP_TCP,
	.ports = mysql_ports,
	.n_ports = sizeof(mysql_ports) / sizeof(mysql_ports[0]),
	.parse = mysql_parse,
	.datagram = mysql_datagram,
};
