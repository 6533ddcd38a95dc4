/*
 * proto.c - the registry: the protocols pb-txn knows, in the order their events and
 * statistics are listed.  A new protocol is one file in proto/ and one
 * line here.
 */
#include "proto/proto.h"

#include <string.h>

#include "util/banned.h"

extern const struct pb_proto pb_proto_http;
extern const struct pb_proto pb_proto_dns;
extern const struct pb_proto pb_proto_tls;
extern const struct pb_proto pb_proto_icmp;
extern const struct pb_proto pb_proto_mysql;
extern const struct pb_proto pb_proto_pgsql;
extern const struct pb_proto pb_proto_redis;
extern const struct pb_proto pb_proto_memcache;
extern const struct pb_proto pb_proto_mongodb;
extern const struct pb_proto pb_proto_cassandra;

const struct pb_proto *const pb_protos[] = {
	&pb_proto_http,
	&pb_proto_dns,
	&pb_proto_tls,
	&pb_proto_icmp,
	&pb_proto_mysql,
	&pb_proto_pgsql,
	&pb_proto_redis,
	&pb_proto_memcache,
	&pb_proto_mongodb,
	&pb_proto_cassandra,
};
const unsigned pb_n_protos = sizeof(pb_protos) / sizeof(pb_protos[0]);

const struct pb_proto *pb_proto_find(const char *name)
{
	unsigned i;

	for (i = 0; i < pb_n_protos; i++)
		if (strcmp(pb_protos[i]->name, name) == 0)
			return pb_protos[i];
	return NULL;
}

void pb_proto_common_init(struct pb_proto_common *pc, const struct pb_proto *p)
{
	unsigned i;

	memset(pc, 0, sizeof(*pc));
	pc->enabled = 1;
	for (i = 0; i < p->n_ports && i < PB_TXN_MAX_PORTS; i++)
		pc->ports[i] = p->ports[i];
	pc->n_ports = i;
	pc->timeout_ns = PB_TXN_DEF_TIMEOUT_NS;
	pc->max_message_size = PB_TXN_DEF_MAX_MESSAGE;
}
