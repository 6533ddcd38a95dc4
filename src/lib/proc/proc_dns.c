/*
 * proc_dns.c - the dns processor: reverse (PTR) and forward (A, AAAA)
 * lookups of event fields, as Beats' dns processor does them, over UDP
 * to the configured nameservers (or those of /etc/resolv.conf), with a
 * cache of answers and one of failures.
 *
 * References: RFC 1035 (messages, name compression), RFC 3596 (AAAA and
 * ip6.arpa).  A query goes to each nameserver in turn until one answers
 * within the timeout; NXDOMAIN and an empty answer are failures (cached,
 * with tag_on_failure added to tags); a timeout from every server is a
 * failure too.
 *
 *   query:  header(12) | qname | qtype(2) | qclass(2)
 *   answer: header | question | RRs: name | type | class | ttl(4) | rdlen | rdata
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/banned.h"

#define DNS_MAX_SERVERS 8
#define DNS_MAX_ANSWERS 16        /* names kept from one answer */
#define DNS_MAX_JUMPS 16          /* compression pointers followed in a name */
#define DNS_CACHE_MAX_DEFAULT 10000

enum { QT_A = 1, QT_PTR = 12, QT_TXT = 16, QT_AAAA = 28 };

struct dns_entry {
	char *key;                     /* "type name" */
	cJSON *value;                  /* the answers (an array), or NULL: failed */
	int64_t expires;               /* monotonic ns */
	struct dns_entry *next;        /* hash chain */
	struct dns_entry *older, *newer;  /* insertion order, for eviction */
};

struct dns_cache {
	struct dns_entry **slots;
	size_t nslots, n, max;
	struct dns_entry *oldest, *newest;
	int64_t ttl_ns;                /* fixed ttl (failures), or 0: the answer's */
	int64_t min_ttl_ns;
};

struct dns_pair {
	char *from, *to;
};

struct dns_proc {
	int qtypes[2], nq;            /* A and AAAA for forward */
	int reverse;
	int append;                   /* action: append (else replace) */
	struct dns_pair *f;
	int nf;
	struct sockaddr_storage srv[DNS_MAX_SERVERS];
	socklen_t srvlen[DNS_MAX_SERVERS];
	int nsrv;
	int64_t timeout_ns;
	char **tags;
	int ntags;
	struct dns_cache ok, bad;
	int fd4, fd6;
	uint16_t next_id;
};

static const char *const dns_keys[] = {
	"type", "action", "fields", "field", "target_field", "nameservers", "timeout",
	"tag_on_failure", "transport", "success_cache", "failure_cache", NULL,
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- caches ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void cache_init(struct dns_cache *c, size_t max, int64_t ttl_ns, int64_t min_ttl_ns)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->ttl_ns = ttl_ns;
	c->min_ttl_ns = min_ttl_ns;
}

static void entry_unlink(struct dns_cache *c, struct dns_entry *e)
{
	struct dns_entry **pp = &c->slots[hash_str(e->key) % c->nslots];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->n--;
	free(e->key);
	cJSON_Delete(e->value);
	free(e);
}

static struct dns_entry *cache_get(struct dns_cache *c, const char *key, int64_t now)
{
	struct dns_entry *e;

	if (!c->nslots)
		return NULL;
	for (e = c->slots[hash_str(key) % c->nslots]; e; e = e->next)
		if (strcmp(e->key, key) == 0) {
			if (e->expires <= now) {
				entry_unlink(c, e);
				return NULL;
			}
			return e;
		}
	return NULL;
}

static void cache_put(struct dns_cache *c, const char *key, cJSON *value, int64_t ttl_ns,
		      int64_t now)
{
	struct dns_entry *e;
	size_t h;

	if (!c->max) {
		cJSON_Delete(value);
		return;
	}
	if (!c->nslots) {
		c->nslots = c->max < 64 ? 64 : c->max;
		c->slots = calloc(c->nslots, sizeof(*c->slots));
		if (!c->slots) {
			c->nslots = 0;
			cJSON_Delete(value);
			return;
		}
	}
	/* full: the oldest entry makes room (the cache is bounded) */
	while (c->n >= c->max && c->oldest)
		entry_unlink(c, c->oldest);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		cJSON_Delete(value);
		return;
	}
	e->value = value;
	e->expires = now + ttl_ns;
	h = hash_str(key) % c->nslots;
	e->next = c->slots[h];
	c->slots[h] = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->n++;
}

static void cache_release(struct dns_cache *c)
{
	while (c->oldest)
		entry_unlink(c, c->oldest);
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
}

/* ---- wire ---- */

/* "1.2.3.4" -> "4.3.2.1.in-addr.arpa"; IPv6 to nibbles of ip6.arpa. */
static int reverse_name(const char *ip, char *out, size_t n)
{
	unsigned char a[16];
	int len = pb_proc_parse_ip(ip, a), i;
	size_t o = 0;

	if (len == 4)
		return snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]) <
		       (int)n ? 0 : -1;
	if (len != 16 || n < 74)
		return -1;
	for (i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, n - o, "%x.%x.", a[i] & 15, a[i] >> 4);
	snprintf(out + o, n - o, "ip6.arpa");
	return 0;
}

static int build_query(uint8_t *q, size_t n, uint16_t id, const char *name, int qtype)
{
	size_t o = 12;
	const char *p = name;

	if (n < 12 + 256 + 4)
		return -1;
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;                   /* RD */
	q[5] = 1;                      /* QDCOUNT */
	while (*p) {
		size_t l = strcspn(p, ".");

		if (l == 0 || l > 63 || o + l + 1 > 12 + 255)
			return -1;
		q[o++] = (uint8_t)l;
		memcpy(q + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = (uint8_t)qtype;
	q[o++] = 0;
	q[o++] = 1;                    /* IN */
	return (int)o;
}

/* Read a (possibly compressed) name at *off into out; advances *off past
 * it in place.  -1 on a bad name (pointers only go backwards, a few). */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *out, size_t n)
{
	size_t p = *off, o = 0;
	int jumps = 0, jumped = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -1;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len || ++jumps > DNS_MAX_JUMPS)
				return -1;
			to = ((size_t)(l & 0x3f) << 8) | m[p + 1];
			if (to >= p)
				return -1;
			if (!jumped)
				*off = p + 2;
			jumped = 1;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return -1;
		p++;
		if (l == 0)
			break;
		if (p + l > len || o + l + 2 > n)
			return -1;
		if (o)
			out[o++] = '.';
		memcpy(out + o, m + p, l);
		o += l;
		p += l;
	}
	out[o] = '\0';
	if (!jumped)
		*off = p;
	return 0;
}

/* Parse an answer: the records of qtype into a JSON array (names as
 * text, addresses as text); *ttl the smallest TTL.  Returns 1 with
 * answers, 0 NXDOMAIN or none, -1 malformed or another error code. */
static int parse_answer(const uint8_t *m, size_t len, uint16_t id, int qtype,
			cJSON **out, uint32_t *ttl)
{
	size_t off = 12;
	unsigned qd, an, i, rcode;
	char name[1100];
	cJSON *arr;

	*out = NULL;
	if (len < 12 || ((m[0] << 8) | m[1]) != id || !(m[2] & 0x80))
		return -1;
	rcode = m[3] & 0x0f;
	if (rcode == 3)
		return 0;
	if (rcode != 0)
		return -1;
	qd = (unsigned)(m[4] << 8 | m[5]);
	an = (unsigned)(m[6] << 8 | m[7]);
	for (i = 0; i < qd; i++) {
		if (read_name(m, len, &off, name, sizeof(name)) < 0 || off + 4 > len)
			return -1;
		off += 4;
	}
	arr = cJSON_CreateArray();
	if (!arr)
		return -1;
	*ttl = UINT32_MAX;
	for (i = 0; i < an && cJSON_GetArraySize(arr) < DNS_MAX_ANSWERS; i++) {
		unsigned type, rdlen;
		uint32_t t;
		size_t rd;

		if (read_name(m, len, &off, name, sizeof(name)) < 0 || off + 10 > len)
			break;
		type = (unsigned)(m[off] << 8 | m[off + 1]);
		t = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 |
		    (uint32_t)m[off + 6] << 8 | m[off + 7];
		rdlen = (unsigned)(m[off + 8] << 8 | m[off + 9]);
		rd = off + 10;
		if (rd + rdlen > len)
			break;
		off = rd + rdlen;
		if ((int)type != qtype)
			continue;              /* CNAMEs on the way */
		if (type == QT_PTR) {
			size_t r = rd;

			if (read_name(m, len, &r, name, sizeof(name)) < 0)
				continue;
		} else if (type == QT_A && rdlen == 4) {
			inet_ntop(AF_INET, m + rd, name, sizeof(name));
		} else if (type == QT_AAAA && rdlen == 16) {
			inet_ntop(AF_INET6, m + rd, name, sizeof(name));
		} else if (type == QT_TXT && rdlen > 0) {
			size_t l = m[rd];

			if (l + 1 > rdlen)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)l, (const char *)m + rd + 1);
		} else {
			continue;
		}
		cJSON_AddItemToArray(arr, cJSON_CreateString(name));
		if (t < *ttl)
			*ttl = t;
	}
	if (!arr->child) {
		cJSON_Delete(arr);
		return 0;
	}
	*out = arr;
	return 1;
}

/* One query to the servers in turn: 1 answers, 0 not found, -1 no
 * server answered. */
static int resolve(struct dns_proc *d, const char *name, int qtype, cJSON **out,
		   uint32_t *ttl)
{
	uint8_t q[600], r[4096];
	int i, ql, rc = -1;

	for (i = 0; i < d->nsrv; i++) {
		int fd = d->srv[i].ss_family == AF_INET6 ? d->fd6 : d->fd4;
		uint16_t id = ++d->next_id;
		int64_t deadline = mono_ns() + d->timeout_ns;

		ql = build_query(q, sizeof(q), id, name, qtype);
		if (ql < 0)
			return 0;
		if (fd < 0 || sendto(fd, q, (size_t)ql, 0, (struct sockaddr *)&d->srv[i],
				     d->srvlen[i]) < 0)
			continue;
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int64_t left = deadline - mono_ns();
			ssize_t n;

			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) <= 0)
				break;
			n = recv(fd, r, sizeof(r), 0);
			if (n < 0)
				break;
			/* an answer to an earlier, timed-out query: wait on */
			rc = parse_answer(r, (size_t)n, id, qtype, out, ttl);
			if (rc >= 0)
				return rc;
		}
	}
	return -1;
}

/* The answers for (qtype, name), from the caches or the servers. */
static cJSON *lookup(struct dns_proc *d, const char *name, int qtype)
{
	char key[600];
	int64_t now = mono_ns();
	struct dns_entry *e;
	uint32_t ttl = 0;
	cJSON *ans;
	int rc;

	snprintf(key, sizeof(key), "%d %s", qtype, name);
	if ((e = cache_get(&d->ok, key, now)) != NULL)
		return cJSON_Duplicate(e->value, 1);
	if (cache_get(&d->bad, key, now))
		return NULL;
	rc = resolve(d, name, qtype, &ans, &ttl);
	if (rc <= 0) {
		cache_put(&d->bad, key, NULL, d->bad.ttl_ns, now);
		return NULL;
	}
	{
		int64_t t = (int64_t)ttl * 1000000000LL;

		if (t < d->ok.min_ttl_ns)
			t = d->ok.min_ttl_ns;
		cache_put(&d->ok, key, cJSON_Duplicate(ans, 1), t, now);
	}
	return ans;
}

static int dns_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct dns_proc *d = p->priv;
	int i, j, failed = 0;

	(void)err, (void)errlen;
	for (i = 0; i < d->nf; i++) {
		cJSON *v = pb_proc_field_get(ev, d->f[i].from), *all = NULL, *t;
		char qname[300];

		if (!v) {
			if (!p->ignore_missing)
				failed = 1;
			continue;
		}
		if (!cJSON_IsString(v)) {
			failed = 1;
			continue;
		}
		if (d->reverse) {
			if (reverse_name(v->valuestring, qname, sizeof(qname)) < 0) {
				failed = 1;
				continue;
			}
		} else {
			snprintf(qname, sizeof(qname), "%s", v->valuestring);
		}
		for (j = 0; j < d->nq; j++) {
			cJSON *a = lookup(d, qname, d->qtypes[j]), *k;

			if (!a)
				continue;
			if (!all) {
				all = a;
				continue;
			}
			while ((k = a->child) != NULL)
				cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(a, k));
			cJSON_Delete(a);
		}
		if (!all) {
			failed = 1;
			continue;
		}
		/* PTR answers end with the root's dot in some servers' hands */
		for (t = all->child; t; t = t->next) {
			size_t l = strlen(t->valuestring);

			if (l > 1 && t->valuestring[l - 1] == '.')
				t->valuestring[l - 1] = '\0';
		}
		t = pb_proc_field_get(ev, d->f[i].to);
		if (t && d->append) {
			/* append: what is there and the answers, as a list */
			cJSON *k;

			if (!cJSON_IsArray(t)) {
				cJSON *list = cJSON_CreateArray();

				cJSON_AddItemToArray(list, cJSON_Duplicate(t, 1));
				pb_proc_field_put(ev, d->f[i].to, list);
				t = list;
			}
			while ((k = all->child) != NULL)
				cJSON_AddItemToArray(t, cJSON_DetachItemViaPointer(all, k));
			cJSON_Delete(all);
		} else if (cJSON_GetArraySize(all) == 1) {
			cJSON *one = cJSON_DetachItemViaPointer(all, all->child);

			cJSON_Delete(all);
			pb_proc_field_put(ev, d->f[i].to, one);
		} else {
			pb_proc_field_put(ev, d->f[i].to, all);
		}
	}
	/* Beats: a failed lookup is not an error of the event; it adds the
	 * tag_on_failure tags, if any */
	if (failed && d->ntags)
		pb_proc_add_tags(ev, "tags", d->tags, d->ntags);
	return PB_PROC_OK;
}

static void dns_free(struct pb_proc *p)
{
	struct dns_proc *d = p->priv;
	int i;

	if (!d)
		return;
	for (i = 0; i < d->nf; i++) {
		free(d->f[i].from);
		free(d->f[i].to);
	}
	free(d->f);
	pb_proc_strv_free(d->tags);
	cache_release(&d->ok);
	cache_release(&d->bad);
	if (d->fd4 >= 0)
		close(d->fd4);
	if (d->fd6 >= 0)
		close(d->fd6);
	free(d);
}

/* "10.0.0.1", "10.0.0.1:5353", "[::1]:53", "::1" */
static int parse_server(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *port = NULL;
	unsigned char a[16];
	long pn = 53;
	int l;

	if (*s == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(e - s - 1), s + 1);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		const char *c = strchr(s, ':');

		snprintf(host, sizeof(host), "%.*s", (int)(c - s), s);
		port = c + 1;
	} else {
		snprintf(host, sizeof(host), "%s", s);
	}
	if (port) {
		char *end;

		pn = strtol(port, &end, 10);
		if (*end || pn < 1 || pn > 65535)
			return -1;
	}
	memset(ss, 0, sizeof(*ss));
	l = strchr(host, ':') ? (inet_pton(AF_INET6, host, a) == 1 ? 16 : 0) :
				(inet_pton(AF_INET, host, a) == 1 ? 4 : 0);
	if (l == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)pn);
		memcpy(&in->sin_addr, a, 4);
		*len = sizeof(*in);
	} else if (l == 16) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)pn);
		memcpy(&in6->sin6_addr, a, 16);
		*len = sizeof(*in6);
	} else {
		return -1;
	}
	return 0;
}

/* Cache settings: {capacity.max: N, ttl: DUR, min_ttl: DUR} */
static int cache_opts(struct pb_proc_cc *cc, const char *key, size_t *max, int64_t *ttl,
		      int64_t *min_ttl)
{
	const struct pb_conf_node *c = pb_conf_child(cc->n, key), *k;

	if (!c)
		return 0;
	if (c->kind != PB_CONF_MAP)
		return pb_proc_fail(cc, key, "not a map");
	if ((k = pb_conf_child(c, "capacity")) && (k = pb_conf_child(k, "max"))) {
		int64_t v;

		if (k->kind != PB_CONF_SCALAR || !k->value || pb_parse_int(k->value, &v) < 0 ||
		    v < 0 || v > 10000000)
			return pb_proc_fail(cc, key, "capacity.max: not a number from 0 to 10000000");
		*max = (size_t)v;
	}
	if ((k = pb_conf_child(c, "ttl")) && (k->kind != PB_CONF_SCALAR || !k->value ||
					      pb_parse_duration(k->value, ttl) < 0 || *ttl < 0))
		return pb_proc_fail(cc, key, "ttl: not a duration");
	if (min_ttl && (k = pb_conf_child(c, "min_ttl")) &&
	    (k->kind != PB_CONF_SCALAR || !k->value ||
	     pb_parse_duration(k->value, min_ttl) < 0 || *min_ttl < 0))
		return pb_proc_fail(cc, key, "min_ttl: not a duration");
	return 0;
}

static int dns_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct dns_proc *d = calloc(1, sizeof(*d));
	const struct pb_conf_node *fields = pb_conf_child(cc->n, "fields"), *k;
	const char *type = NULL, *action = "append", *transport = "udp", *field = NULL,
		*target = NULL, *timeout = NULL;
	size_t okmax = DNS_CACHE_MAX_DEFAULT, badmax = DNS_CACHE_MAX_DEFAULT;
	int64_t okttl = 0, badttl = 60000000000LL, minttl = 60000000000LL;
	char **ns = NULL;
	int nns = 0, i, rc;

	if (!d)
		return PB_ENOMEM;
	d->fd4 = d->fd6 = -1;
	p->priv = d;
	if ((rc = pb_proc_opt_str(cc, "type", &type)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "action", &action)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "transport", &transport)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "field", &field)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_field", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "timeout", &timeout)) < 0 ||
	    (rc = pb_proc_opt_strs(cc, "nameservers", &ns, &nns)) < 0 ||
	    (rc = pb_proc_opt_strs(cc, "tag_on_failure", &d->tags, &d->ntags)) < 0)
		goto out;
	if (!type) {
		rc = pb_proc_fail(cc, NULL, "needs type: reverse, A, AAAA, forward or TXT");
		goto out;
	}
	if (strcasecmp(type, "reverse") == 0 || strcasecmp(type, "PTR") == 0) {
		d->reverse = 1;
		d->qtypes[d->nq++] = QT_PTR;
	} else if (strcasecmp(type, "A") == 0) {
		d->qtypes[d->nq++] = QT_A;
	} else if (strcasecmp(type, "AAAA") == 0) {
		d->qtypes[d->nq++] = QT_AAAA;
	} else if (strcasecmp(type, "forward") == 0) {
		d->qtypes[d->nq++] = QT_A;
		d->qtypes[d->nq++] = QT_AAAA;
	} else if (strcasecmp(type, "TXT") == 0) {
		d->qtypes[d->nq++] = QT_TXT;
	} else {
		rc = pb_proc_fail(cc, "type", "'%s' is not reverse, A, AAAA, forward or TXT", type);
		goto out;
	}
	if (strcmp(action, "append") && strcmp(action, "replace")) {
		rc = pb_proc_fail(cc, "action", "'%s' is not append or replace", action);
		goto out;
	}
	d->append = action[0] == 'a';
	if (strcasecmp(transport, "udp")) {
		rc = pb_proc_fail(cc, "transport", "'%s' is not supported (udp)", transport);
		goto out;
	}
	d->timeout_ns = 500000000LL;
	if (timeout && (pb_parse_duration(timeout, &d->timeout_ns) < 0 || d->timeout_ns <= 0 ||
			d->timeout_ns > 60000000000LL)) {
		rc = pb_proc_fail(cc, "timeout", "'%s' is not a duration up to 60s", timeout);
		goto out;
	}
	/* fields: {from: to, ...} (Beats), or field/target_field */
	if (fields) {
		if (fields->kind != PB_CONF_MAP || !fields->child) {
			rc = pb_proc_fail(cc, "fields", "not a map of fields to targets");
			goto out;
		}
		/* nested keys (source.ip split by the reader) join back */
		for (k = fields->child; k; k = k->next)
			d->nf++;
	}
	if (field)
		d->nf++;
	if (!d->nf) {
		rc = pb_proc_fail(cc, NULL, "needs fields: {source.ip: source.domain} or field "
				  "and target_field");
		goto out;
	}
	d->f = calloc((size_t)d->nf * 8, sizeof(*d->f));
	if (!d->f) {
		rc = PB_ENOMEM;
		goto out;
	}
	d->nf = 0;
	if (fields) {
		/* flatten: {source: {ip: source.domain}} -> source.ip */
		const struct pb_conf_node *stack[16];
		char prefix[16][256];
		int depth = 0;

		stack[0] = fields->child;
		prefix[0][0] = '\0';
		while (depth >= 0) {
			const struct pb_conf_node *n = stack[depth];
			char path[256];

			if (!n) {
				depth--;
				if (depth >= 0)
					stack[depth] = stack[depth]->next;
				continue;
			}
			if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix[depth],
					     *prefix[depth] ? "." : "", n->key) >= sizeof(path)) {
				rc = pb_proc_conf_err(cc->c, n, cc->path, "fields: name too long");
				goto out;
			}
			if (n->kind == PB_CONF_MAP && depth < 15 && n->child) {
				snprintf(prefix[depth + 1], sizeof(prefix[0]), "%s", path);
				stack[++depth] = n->child;
				continue;
			}
			if (n->kind != PB_CONF_SCALAR || !n->value || !*n->value) {
				rc = pb_proc_conf_err(cc->c, n, cc->path, "fields.%s: not a "
						      "target field", path);
				goto out;
			}
			if (d->nf < 64) {
				d->f[d->nf].from = strdup(path);
				d->f[d->nf++].to = strdup(n->value);
			}
			stack[depth] = n->next;
		}
	}
	if (field) {
		if (!target || !*target) {
			rc = pb_proc_fail(cc, "field", "needs target_field");
			goto out;
		}
		d->f[d->nf].from = strdup(field);
		d->f[d->nf++].to = strdup(target);
	}
	for (i = 0; i < d->nf; i++)
		if (!d->f[i].from || !d->f[i].to) {
			rc = PB_ENOMEM;
			goto out;
		}
	/* nameservers: given, or /etc/resolv.conf's */
	if (!nns) {
		FILE *f = fopen("/etc/resolv.conf", "r");
		char line[256], addr[128];

		while (f && fgets(line, sizeof(line), f) && d->nsrv < DNS_MAX_SERVERS)
			if (sscanf(line, " nameserver %127s", addr) == 1 &&
			    parse_server(addr, &d->srv[d->nsrv], &d->srvlen[d->nsrv]) == 0)
				d->nsrv++;
		if (f)
			fclose(f);
		if (!d->nsrv) {
			rc = pb_proc_fail(cc, NULL, "no nameservers: none given and none in "
					  "/etc/resolv.conf");
			goto out;
		}
	}
	for (i = 0; i < nns; i++) {
		if (d->nsrv == DNS_MAX_SERVERS) {
			rc = pb_proc_fail(cc, "nameservers", "at most %d", DNS_MAX_SERVERS);
			goto out;
		}
		if (parse_server(ns[i], &d->srv[d->nsrv], &d->srvlen[d->nsrv]) < 0) {
			rc = pb_proc_fail(cc, "nameservers", "'%s' is not an address[:port]", ns[i]);
			goto out;
		}
		d->nsrv++;
	}
	if ((rc = cache_opts(cc, "success_cache", &okmax, &okttl, &minttl)) < 0 ||
	    (rc = cache_opts(cc, "failure_cache", &badmax, &badttl, NULL)) < 0)
		goto out;
	cache_init(&d->ok, okmax, okttl, minttl);
	cache_init(&d->bad, badmax, badttl, 0);
	d->fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	d->fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	{
		/* query ids start from the clock: a stale answer from a server
		 * another run queried is not taken for ours */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->next_id = (uint16_t)(ts.tv_nsec ^ getpid());
	}
	rc = 0;
out:
	pb_proc_strv_free(ns);
	return rc;
}

const struct pb_proc_type pb_proc_dns = {
	"dns", dns_keys, 1, dns_compile, dns_run, dns_free,
};
