/*
 * emit.c - what parsers call on the engine's side (txn.h): notes, hosts,
 * handing over a transaction, and the time of a stream byte.
 */
#include "proto/proto.h"

#include <string.h>

#include "tcp/tcp.h"
#include "util/banned.h"

void pb_txn_note(struct pb_txn *t, const char *note)
{
	unsigned i;

	for (i = 0; i < t->n_notes; i++)
		if (t->notes[i] == note)
			return;
	if (t->n_notes < PB_TXN_MAX_NOTES)
		t->notes[t->n_notes++] = note;
}

void pb_txn_host(struct pb_txn *t, const char *host)
{
	if (host && *host && t->n_hosts < PB_TXN_MAX_HOSTS)
		t->hosts[t->n_hosts++] = host;
}

void pb_txn_related_ip(struct pb_txn *t, const uint8_t *addr, int len)
{
	unsigned i;

	if ((len != 4 && len != 16) || t->n_related >= PB_TXN_MAX_RELATED)
		return;
	for (i = 0; i < t->n_related; i++)
		if (t->related_len[i] == len && memcmp(t->related[i], addr, (size_t)len) == 0)
			return;
	memcpy(t->related[t->n_related], addr, (size_t)len);
	t->related_len[t->n_related++] = (uint8_t)len;
}

void pb_txn_emit(struct pb_txn_conn *c, const struct pb_txn *t)
{
	if (c->st) {
		if (t->single)
			c->st->messages++;
		else if (t->has_request && t->has_response)
			c->st->transactions++;
		else if (t->has_request)
			c->st->unmatched_requests++;
		else
			c->st->unmatched_responses++;
	}
	if (c->sink && c->sink->emit)
		c->sink->emit(c->sink->arg, c, t);
}

void pb_txn_byte_time(const struct pb_txn_conn *c, int dir, size_t off,
		      int64_t *ns, uint64_t *pkt)
{
	if (c->tcp && pb_tcp_byte_time(c->tcp, dir, off, ns, pkt) == 0)
		return;
	*ns = c->now_ns;
	*pkt = c->now_pkt;
}
