/*
 * proc_net.c - processors about addresses: community_id,
 * add_network_direction, add_geoip and add_asn (libmaxminddb).
 *
 * References: Community ID spec (corelight/community-id-spec); Beats'
 * community_id and add_network_direction processors; MaxMind DB format
 * (maxmind.github.io/MaxMind-DB) and the ECS geo.* and as.* fields.
 */
#include <maxminddb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/community_id.h"
#include "util/banned.h"

/* ---- community_id ---- */

struct cid {
	char *f[8];       /* the field names, in cid_keys order */
	char *target;
	uint16_t seed;
};

enum { CID_SIP, CID_SPORT, CID_DIP, CID_DPORT, CID_IANA, CID_TRANSPORT, CID_ITYPE,
       CID_ICODE };

static const char *const cid_fields[8] = {
	"source_ip", "source_port", "destination_ip", "destination_port",
	"iana_number", "transport", "icmp_type", "icmp_code",
};
static const char *const cid_defaults[8] = {
	"source.ip", "source.port", "destination.ip", "destination.port",
	"network.iana_number", "network.transport", "icmp.type", "icmp.code",
};
static const char *const cid_keys[] = { "fields", "target", "seed", NULL };

static void cid_free(struct pb_proc *p)
{
	struct cid *c = p->priv;
	int i;

	if (!c)
		return;
	for (i = 0; i < 8; i++)
		free(c->f[i]);
	free(c->target);
	free(c);
}

static int cid_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	const struct pb_conf_node *fields = pb_conf_child(cc->n, "fields");
	struct cid *c = calloc(1, sizeof(*c));
	const char *target = "network.community_id";
	int64_t seed = 0;
	int i, rc;

	if (!c)
		return PB_ENOMEM;
	p->priv = c;
	if (fields && fields->kind != PB_CONF_MAP)
		return pb_proc_fail(cc, "fields", "not a map");
	for (i = 0; i < 8; i++) {
		const struct pb_conf_node *f = fields ? pb_conf_child(fields, cid_fields[i]) : NULL;

		if (f && (f->kind != PB_CONF_SCALAR || !f->value || !*f->value))
			return pb_proc_fail(cc, "fields", "%s: not a field name", cid_fields[i]);
		if (!(c->f[i] = strdup(f ? f->value : cid_defaults[i])))
			return PB_ENOMEM;
	}
	if ((rc = pb_proc_opt_str(cc, "target", &target)) < 0 ||
	    (rc = pb_proc_opt_int(cc, "seed", &seed)) < 0)
		return rc;
	if (seed < 0 || seed > 65535)
		return pb_proc_fail(cc, "seed", "not from 0 to 65535");
	c->seed = (uint16_t)seed;
	c->target = strdup(target);
	return c->target ? 0 : PB_ENOMEM;
}

/* A number, or a string of one (ports and iana_number come both ways). */
static int get_uint(const cJSON *ev, const char *field, long max, long *out)
{
	const cJSON *v = pb_proc_field_get(ev, field);
	char *end;
	double d;

	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else if (cJSON_IsString(v) && *v->valuestring) {
		d = strtod(v->valuestring, &end);
		if (*end)
			return -1;
	} else {
		return -1;
	}
	if (d < 0 || d > max || d != (double)(long)d)
		return -1;
	*out = (long)d;
	return 0;
}

static int transport_number(const char *s)
{
	static const struct { const char *name; int n; } t[] = {
		{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "ipv6-icmp", 58 },
		{ "icmpv6", 58 }, { "sctp", 132 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].n;
	return -1;
}

static int cid_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct cid *c = p->priv;
	const cJSON *sip, *dip, *tr;
	unsigned char sa[16], da[16];
	struct pb_flow_tuple t;
	char out[PB_COMMUNITY_ID_LEN + 1];
	long proto = -1, a, b;
	int sl, dl;

	(void)err, (void)errlen;
	/* an id already there stays (Beats does not overwrite it) */
	if (pb_proc_field_get(ev, c->target))
		return PB_PROC_OK;
	sip = pb_proc_field_get(ev, c->f[CID_SIP]);
	dip = pb_proc_field_get(ev, c->f[CID_DIP]);
	if (!cJSON_IsString(sip) || !cJSON_IsString(dip))
		return PB_PROC_OK;
	sl = pb_proc_parse_ip(sip->valuestring, sa);
	dl = pb_proc_parse_ip(dip->valuestring, da);
	if (!sl || sl != dl)
		return PB_PROC_OK;
	if (get_uint(ev, c->f[CID_IANA], 255, &proto) < 0) {
		tr = pb_proc_field_get(ev, c->f[CID_TRANSPORT]);
		if (!cJSON_IsString(tr) || (proto = transport_number(tr->valuestring)) < 0)
			return PB_PROC_OK;
	}
	memset(&t, 0, sizeof(t));
	t.saddr = sa;
	t.daddr = da;
	t.alen = (uint8_t)sl;
	t.proto = (uint8_t)proto;
	if (proto == 6 || proto == 17 || proto == 132) {
		if (get_uint(ev, c->f[CID_SPORT], 65535, &a) < 0 ||
		    get_uint(ev, c->f[CID_DPORT], 65535, &b) < 0)
			return PB_PROC_OK;
		t.has_ports = 1;
	} else if (proto == 1 || proto == 58) {
		if (get_uint(ev, c->f[CID_ITYPE], 255, &a) < 0 ||
		    get_uint(ev, c->f[CID_ICODE], 255, &b) < 0) {
			/* Packetbeat's ICMP transactions keep them under
			 * icmp.request: used when the defaults are */
			if (strcmp(c->f[CID_ITYPE], "icmp.type") ||
			    strcmp(c->f[CID_ICODE], "icmp.code") ||
			    get_uint(ev, "icmp.request.type", 255, &a) < 0 ||
			    get_uint(ev, "icmp.request.code", 255, &b) < 0)
				return PB_PROC_OK;
		}
		t.has_ports = 1;
	} else {
		a = b = 0;
	}
	t.sport = (uint16_t)a;
	t.dport = (uint16_t)b;
	if (pb_community_id(out, &t, c->seed) < 0)
		return PB_PROC_OK;
	pb_proc_field_put(ev, c->target, cJSON_CreateString(out));
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_community_id = {
	"community_id", cid_keys, 1, cid_compile, cid_run, cid_free,
};

/* ---- add_network_direction ---- */

struct netdir {
	char *source, *destination, *target;
	struct pb_proc_netset *internal;
};

static const char *const netdir_keys[] = {
	"source", "destination", "target", "internal_networks", NULL,
};

static void netdir_free(struct pb_proc *p)
{
	struct netdir *d = p->priv;

	if (!d)
		return;
	free(d->source);
	free(d->destination);
	free(d->target);
	pb_proc_netset_free(d->internal);
	free(d);
}

static int netdir_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct netdir *d = calloc(1, sizeof(*d));
	const char *src = "source.ip", *dst = "destination.ip", *target = "network.direction";
	char **nets;
	int n, i, rc;

	if (!d)
		return PB_ENOMEM;
	p->priv = d;
	if ((rc = pb_proc_opt_str(cc, "source", &src)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "destination", &dst)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target", &target)) < 0)
		return rc;
	if ((rc = pb_proc_opt_strs(cc, "internal_networks", &nets, &n)) < 0)
		return rc;
	if (rc == 1 || n == 0)
		return pb_proc_fail(cc, NULL, "needs internal_networks: a list of CIDRs "
				    "or named networks");
	for (i = 0; i < n; i++)
		if (pb_proc_netset_add(&d->internal, nets[i]) < 0) {
			rc = pb_proc_fail(cc, "internal_networks", "'%s' is not a CIDR or a "
					  "named network", nets[i]);
			pb_proc_strv_free(nets);
			return rc;
		}
	pb_proc_strv_free(nets);
	d->source = strdup(src);
	d->destination = strdup(dst);
	d->target = strdup(target);
	return d->source && d->destination && d->target ? 0 : PB_ENOMEM;
}

static int netdir_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	static const char *const dir[4] = { "external", "inbound", "outbound", "internal" };
	struct netdir *d = p->priv;
	const cJSON *s = pb_proc_field_get(ev, d->source);
	const cJSON *t = pb_proc_field_get(ev, d->destination);
	int si, di;

	/* without both addresses there is no direction (Beats) */
	if (!cJSON_IsString(s) || !cJSON_IsString(t))
		return PB_PROC_OK;
	si = pb_proc_netset_match(d->internal, s->valuestring);
	di = pb_proc_netset_match(d->internal, t->valuestring);
	if (si < 0 || di < 0) {
		snprintf(err, errlen, "add_network_direction: '%s' is not an IP address",
			 si < 0 ? s->valuestring : t->valuestring);
		return PB_PROC_FAIL;
	}
	if (pb_proc_field_put(ev, d->target, cJSON_CreateString(dir[si * 2 + di])) < 0) {
		snprintf(err, errlen, "add_network_direction: cannot put %s", d->target);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_network_direction = {
	"add_network_direction", netdir_keys, 1, netdir_compile, netdir_run, netdir_free,
};

/* ---- add_geoip, add_asn ---- */

/* Databases are opened once per path and shared by every processor that
 * names them (the seed's examples name each twice). */
struct mmdb_ref {
	char *path;
	MMDB_s db;
	int refs;
	struct mmdb_ref *next;
};

static struct mmdb_ref *mmdbs;

static struct mmdb_ref *mmdb_get(const char *path, int *status)
{
	struct mmdb_ref *r;

	for (r = mmdbs; r; r = r->next)
		if (strcmp(r->path, path) == 0) {
			r->refs++;
			return r;
		}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		*status = MMDB_OUT_OF_MEMORY_ERROR;
		return NULL;
	}
	*status = MMDB_open(path, MMDB_MODE_MMAP, &r->db);
	if (*status != MMDB_SUCCESS) {
		free(r->path);
		free(r);
		return NULL;
	}
	r->refs = 1;
	r->next = mmdbs;
	mmdbs = r;
	return r;
}

static void mmdb_put(struct mmdb_ref *r)
{
	struct mmdb_ref **pp;

	if (!r || --r->refs > 0)
		return;
	for (pp = &mmdbs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	MMDB_close(&r->db);
	free(r->path);
	free(r);
}

struct geo {
	char *field, *target;
	struct mmdb_ref *db;
	int asn;
};

static const char *const geo_keys[] = { "field", "target_field", "database_file", NULL };

static void geo_free(struct pb_proc *p)
{
	struct geo *g = p->priv;

	if (!g)
		return;
	free(g->field);
	free(g->target);
	mmdb_put(g->db);
	free(g);
}

static int geo_compile_kind(struct pb_proc_cc *cc, struct pb_proc *p, int asn)
{
	struct geo *g = calloc(1, sizeof(*g));
	const char *field = NULL, *target = NULL, *file = NULL;
	char def[300];
	int rc, status;

	if (!g)
		return PB_ENOMEM;
	p->priv = g;
	g->asn = asn;
	if ((rc = pb_proc_opt_str(cc, "field", &field)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_field", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "database_file", &file)) < 0)
		return rc;
	if (!field || !*field)
		return pb_proc_fail(cc, NULL, "needs field: the address to look up");
	if (!file || !*file)
		return pb_proc_fail(cc, NULL, "needs database_file: a MaxMind database");
	if (!target || !*target) {
		/* source.ip -> source.geo / source.as, as ECS places them */
		size_t l = strlen(field);

		if (l > 3 && strcmp(field + l - 3, ".ip") == 0)
			snprintf(def, sizeof(def), "%.*s.%s", (int)(l - 3), field,
				 asn ? "as" : "geo");
		else
			snprintf(def, sizeof(def), "%s", asn ? "as" : "geo");
		target = def;
	}
	g->db = mmdb_get(file, &status);
	if (!g->db)
		return pb_proc_fail(cc, "database_file", "cannot open '%s': %s", file,
				    status == MMDB_FILE_OPEN_ERROR ? "no such file or not readable" :
				    MMDB_strerror(status));
	g->field = strdup(field);
	g->target = strdup(target);
	return g->field && g->target ? 0 : PB_ENOMEM;
}

static int geoip_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	return geo_compile_kind(cc, p, 0);
}

static int asn_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	return geo_compile_kind(cc, p, 1);
}

/* A string at a path of the entry, or NULL. */
static int mm_str(MMDB_entry_s *e, char *out, size_t n, ...)
{
	MMDB_entry_data_s d;
	va_list ap;
	int rc;

	va_start(ap, n);
	rc = MMDB_vget_value(e, &d, ap);
	va_end(ap);
	if (rc != MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return -1;
	snprintf(out, n, "%.*s", (int)d.data_size, d.utf8_string);
	return 0;
}

static int mm_num(MMDB_entry_s *e, double *out, ...)
{
	MMDB_entry_data_s d;
	va_list ap;
	int rc;

	va_start(ap, out);
	rc = MMDB_vget_value(e, &d, ap);
	va_end(ap);
	if (rc != MMDB_SUCCESS || !d.has_data)
		return -1;
	switch (d.type) {
	case MMDB_DATA_TYPE_DOUBLE: *out = d.double_value; return 0;
	case MMDB_DATA_TYPE_FLOAT: *out = d.float_value; return 0;
	case MMDB_DATA_TYPE_UINT16: *out = d.uint16; return 0;
	case MMDB_DATA_TYPE_UINT32: *out = d.uint32; return 0;
	case MMDB_DATA_TYPE_INT32: *out = d.int32; return 0;
	case MMDB_DATA_TYPE_UINT64: *out = (double)d.uint64; return 0;
	default: return -1;
	}
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	cJSON_AddItemToObject(o, key, cJSON_CreateString(v));
}

static cJSON *geo_fields(MMDB_entry_s *e)
{
	cJSON *o = cJSON_CreateObject();
	char s[256], cc[16], sub[16];
	double lat, lon;

	if (!o)
		return NULL;
	if (mm_str(e, s, sizeof(s), "city", "names", "en", NULL) == 0)
		add_str(o, "city_name", s);
	if (mm_str(e, s, sizeof(s), "continent", "code", NULL) == 0)
		add_str(o, "continent_code", s);
	if (mm_str(e, s, sizeof(s), "continent", "names", "en", NULL) == 0)
		add_str(o, "continent_name", s);
	if (mm_str(e, cc, sizeof(cc), "country", "iso_code", NULL) == 0)
		add_str(o, "country_iso_code", cc);
	else
		cc[0] = '\0';
	if (mm_str(e, s, sizeof(s), "country", "names", "en", NULL) == 0)
		add_str(o, "country_name", s);
	if (mm_num(e, &lat, "location", "latitude", NULL) == 0 &&
	    mm_num(e, &lon, "location", "longitude", NULL) == 0) {
		cJSON *l = cJSON_AddObjectToObject(o, "location");

		cJSON_AddNumberToObject(l, "lat", lat);
		cJSON_AddNumberToObject(l, "lon", lon);
	}
	if (mm_str(e, s, sizeof(s), "postal", "code", NULL) == 0)
		add_str(o, "postal_code", s);
	if (cc[0] && mm_str(e, sub, sizeof(sub), "subdivisions", "0", "iso_code", NULL) == 0) {
		snprintf(s, sizeof(s), "%s-%s", cc, sub);
		add_str(o, "region_iso_code", s);
	}
	if (mm_str(e, s, sizeof(s), "subdivisions", "0", "names", "en", NULL) == 0)
		add_str(o, "region_name", s);
	if (mm_str(e, s, sizeof(s), "location", "time_zone", NULL) == 0)
		add_str(o, "timezone", s);
	return o;
}

static cJSON *asn_fields(MMDB_entry_s *e)
{
	cJSON *o = cJSON_CreateObject();
	char s[512];
	double n;

	if (!o)
		return NULL;
	if (mm_num(e, &n, "autonomous_system_number", NULL) == 0)
		cJSON_AddNumberToObject(o, "number", n);
	if (mm_str(e, s, sizeof(s), "autonomous_system_organization", NULL) == 0) {
		cJSON *org = cJSON_AddObjectToObject(o, "organization");

		add_str(org, "name", s);
	}
	return o;
}

static int geo_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct geo *g = p->priv;
	const char *what = g->asn ? "add_asn" : "add_geoip";
	const cJSON *v = pb_proc_field_get(ev, g->field);
	MMDB_lookup_result_s res;
	int gai, mmerr;
	cJSON *o, *t;

	if (!v) {
		if (p->ignore_missing)
			return PB_PROC_OK;
		snprintf(err, errlen, "%s: field %s not found", what, g->field);
		return PB_PROC_FAIL;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "%s: field %s is not an IP address string", what, g->field);
		return PB_PROC_FAIL;
	}
	res = MMDB_lookup_string(&g->db->db, v->valuestring, &gai, &mmerr);
	if (gai != 0) {
		snprintf(err, errlen, "%s: '%s' is not an IP address", what, v->valuestring);
		return PB_PROC_FAIL;
	}
	if (mmerr != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: lookup of %s: %s", what, v->valuestring,
			 MMDB_strerror(mmerr));
		return PB_PROC_FAIL;
	}
	/* not in the database: nothing to add (private addresses) */
	if (!res.found_entry)
		return PB_PROC_OK;
	o = g->asn ? asn_fields(&res.entry) : geo_fields(&res.entry);
	if (!o)
		return PB_PROC_OK;
	if (!o->child) {
		cJSON_Delete(o);
		return PB_PROC_OK;
	}
	t = pb_proc_field_get(ev, g->target);
	if (t && cJSON_IsObject(t)) {
		/* beside what is there (source.geo.name from elsewhere) */
		cJSON *k;

		while ((k = o->child) != NULL) {
			cJSON_DetachItemViaPointer(o, k);
			cJSON_DeleteItemFromObjectCaseSensitive(t, k->string);
			cJSON_AddItemToObject(t, k->string, k);
		}
		cJSON_Delete(o);
		return PB_PROC_OK;
	}
	if (pb_proc_field_put(ev, g->target, o) < 0) {
		snprintf(err, errlen, "%s: cannot put %s", what, g->target);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_add_geoip = {
	"add_geoip", geo_keys, 1, geoip_compile, geo_run, geo_free,
};
const struct pb_proc_type pb_proc_add_asn = {
	"add_asn", geo_keys, 1, asn_compile, geo_run, geo_free,
};
