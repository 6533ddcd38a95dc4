/*
 * fuzz_proto.c - libFuzzer harness for every protocol parser.
 *
 * The first byte picks the protocol (its index in the registry, modulo
 * their number) and how its conversation is carried (bit 7: UDP instead
 * of TCP when the protocol has both).  The rest is a list of chunks:
 *
 *   | ctl 8 | len 8 | len bytes ... |
 *
 * ctl bit 0 is the direction; bits 1-2 say what the chunk is: data (TCP
 * bytes or a datagram), a gap of len bytes, a FIN, or time passing (len
 * seconds, then expire()).  TCP chunks are handed over as the engine does:
 * what the parser leaves is given again with more after it, in a buffer
 * capped at 64 KiB.  At the end, close().  Events are written with the
 * real event writer.  Build and run with tools/fuzz proto.
 */
#include <stdlib.h>
#include <string.h>

#include "event/txn_record.h"
#include "proto/proto.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_BUF (64u << 10)

static struct pb_buf out;

static void fz_emit(void *arg, struct pb_txn_conn *c, const struct pb_txn *t)
{
	(void)arg;
	pb_buf_clear(&out);
	pb_txn_record(&out, c, t, NULL);
}

static void fz_tcp(struct pb_txn_conn *c, uint8_t **buf, size_t *len, int dir,
		   const uint8_t *p, size_t n)
{
	size_t used;

	if (*len + n > FZ_MAX_BUF) {
		/* the engine's rule: an unconsumable full buffer is a gap */
		if (c->proto->gap)
			c->proto->gap(c, dir, *len + n);
		*len = 0;
		return;
	}
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, p, n);
	*len += n;
	do {
		used = c->proto->parse(c, dir, *buf, *len);
		if (used > *len)
			used = *len;
		memmove(*buf, *buf + used, *len - used);
		*len -= used;
	} while (used > 0 && *len > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pb_txn_sink sink = { fz_emit, NULL };
	const struct pb_proto *p;
	struct pb_proto_common common;
	struct pb_proto_stats st;
	struct pb_txn_conn c;
	uint8_t *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, i;
	void *conf;
	int udp;

	if (size < 1)
		return 0;
	if (!out.max)
		pb_buf_init(&out, 64u << 20);
	p = pb_protos[data[0] % pb_n_protos];
	udp = (p->transports & PB_TP_UDP) && (!(p->transports & PB_TP_TCP) || (data[0] & 0x80));
	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	pb_proto_common_init(&common, p);
	common.send_request = common.send_response = 1;
	conf = calloc(1, p->conf_size ? p->conf_size : 1);
	if (p->conf_init)
		p->conf_init(conf);
	c.proto = p;
	c.common = &common;
	c.conf = conf;
	c.st = &st;
	c.state = calloc(1, p->state_size ? p->state_size : 1);
	c.transport = (p->transports & PB_TP_ICMP) ? 1 : udp ? 17 : 6;
	c.family = 4;
	c.addr[0][0] = 10; c.addr[0][3] = 1;
	c.addr[1][0] = 10; c.addr[1][3] = 2;
	c.port[0] = 40000;
	c.port[1] = p->n_ports ? p->ports[0] : 0;
	c.prec = 6;
	c.sink = &sink;
	c.now_ns = 1700000000LL * 1000000000LL;
	for (i = 1; i + 2 <= size;) {
		uint8_t ctl = data[i], n = data[i + 1];
		int dir = ctl & 1;
		const uint8_t *chunk = data + i + 2;
		size_t have = size - i - 2 < n ? size - i - 2 : n;

		i += 2 + have;
		c.now_ns += 1000;
		c.now_pkt++;
		switch ((ctl >> 1) & 3) {
		case 0:
			if (c.transport == 6 && p->parse)
				fz_tcp(&c, &buf[dir], &len[dir], dir, chunk, have);
			else if (p->datagram)
				p->datagram(&c, dir, chunk, have);
			break;
		case 1:
			if (c.transport == 6 && p->gap) {
				p->gap(&c, dir, n + len[dir]);
				len[dir] = 0;
			}
			break;
		case 2:
			if (c.transport == 6 && p->fin)
				p->fin(&c, dir);
			break;
		case 3:
			c.now_ns += (int64_t)n * 1000000000LL;
			if (p->expire)
				p->expire(&c, c.now_ns);
			break;
		}
	}
	if (p->close)
		p->close(&c);
	free(buf[0]);
	free(buf[1]);
	free(c.state);
	free(conf);
	return 0;
}
