/*
 * proc_host.c - add_host_metadata: the host.* fields of the machine
 * pb-enrich runs on (Beats' processor; ECS host.*).
 *
 * What it adds depends on the host by nature: host.name and
 * host.hostname (gethostname), host.architecture and host.os.kernel
 * (uname), host.os.* (/etc/os-release), host.id (/etc/machine-id), and with
 * netinfo.enabled (the default) host.ip and host.mac of the interfaces
 * that are up and not loopback, sorted so a run is stable; geo.* from the
 * configuration goes to host.geo.  It is gathered once, when the chain
 * is compiled: a batch run sees one host.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/banned.h"

struct host {
	cJSON *host;        /* the host object to put */
	int replace;        /* replace_fields */
};

static const char *const host_keys[] = {
	"netinfo", "geo", "replace_fields", "cache", "expire_update", NULL,
};

/* A value of /etc/os-release, unquoted; 0 or -1. */
static int os_release(const char *key, char *out, size_t n)
{
	FILE *f = fopen("/etc/os-release", "r");
	char line[512];
	size_t kl = strlen(key);
	int rc = -1;

	if (!f)
		f = fopen("/usr/lib/os-release", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *v, *e;

		if (strncmp(line, key, kl) != 0 || line[kl] != '=')
			continue;
		v = line + kl + 1;
		v[strcspn(v, "\n")] = '\0';
		if (*v == '"' || *v == '\'') {
			e = strrchr(v + 1, *v);
			if (e)
				*e = '\0';
			v++;
		}
		snprintf(out, n, "%s", v);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted array of unique strings. */
static cJSON *sorted_array(char **v, int n)
{
	cJSON *a = cJSON_CreateArray();
	int i;

	qsort(v, (size_t)n, sizeof(*v), cmp_json_str);
	for (i = 0; a && i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]))
			cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void add_netinfo(cJSON *h)
{
	struct ifaddrs *ifa, *i;
	char *ips[256], *macs[256], buf[INET6_ADDRSTRLEN + 8];
	int nip = 0, nmac = 0, k;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && nip < 256) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
				  buf, sizeof(buf));
			ips[nip++] = strdup(buf);
		} else if (i->ifa_addr->sa_family == AF_INET6 && nip < 256) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
				  buf, sizeof(buf));
			ips[nip++] = strdup(buf);
		} else if (i->ifa_addr->sa_family == AF_PACKET && nmac < 256) {
			const struct sockaddr_ll *ll = (const void *)i->ifa_addr;
			int zero = 1;

			if (ll->sll_halen != 6)
				continue;
			for (k = 0; k < 6; k++)
				zero &= ll->sll_addr[k] == 0;
			if (zero)
				continue;
			/* ECS: upper case, dashes */
			snprintf(buf, sizeof(buf), "%02X-%02X-%02X-%02X-%02X-%02X",
				 ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
				 ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
			macs[nmac++] = strdup(buf);
		}
	}
	freeifaddrs(ifa);
	/* strdup failures leave NULLs: drop them */
	for (k = 0; k < nip; k++)
		if (!ips[k])
			ips[k--] = ips[--nip];
	for (k = 0; k < nmac; k++)
		if (!macs[k])
			macs[k--] = macs[--nmac];
	if (nip)
		cJSON_AddItemToObject(h, "ip", sorted_array(ips, nip));
	if (nmac)
		cJSON_AddItemToObject(h, "mac", sorted_array(macs, nmac));
	for (k = 0; k < nip; k++)
		free(ips[k]);
	for (k = 0; k < nmac; k++)
		free(macs[k]);
}

/* The os family Beats names from the distribution's id. */
static const char *os_family(const char *id, const char *like)
{
	static const struct { const char *id, *family; } f[] = {
		{ "debian", "debian" }, { "ubuntu", "debian" }, { "raspbian", "debian" },
		{ "rhel", "redhat" }, { "centos", "redhat" }, { "fedora", "redhat" },
		{ "rocky", "redhat" }, { "almalinux", "redhat" }, { "amzn", "redhat" },
		{ "opensuse", "suse" }, { "sles", "suse" }, { "arch", "arch" },
		{ "alpine", "alpine" },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(id, f[i].id) == 0 || strstr(like, f[i].id))
			return f[i].family;
	return id;
}

static int geo_compile(struct pb_proc_cc *cc, const struct pb_conf_node *g, cJSON *h)
{
	static const char *const keys[] = {
		"name", "location", "continent_name", "country_iso_code", "country_name",
		"region_name", "region_iso_code", "city_name", NULL,
	};
	const struct pb_conf_node *k;
	cJSON *geo;

	if (g->kind != PB_CONF_MAP)
		return pb_proc_fail(cc, "geo", "not a map");
	geo = cJSON_AddObjectToObject(h, "geo");
	for (k = g->child; k; k = k->next) {
		const char *const *w;
		int known = 0;

		for (w = keys; *w && !known; w++)
			known = strcmp(*w, k->key) == 0;
		if (!known || k->kind != PB_CONF_SCALAR || !k->value)
			return pb_proc_conf_err(cc->c, k, cc->path, "geo.%s: %s", k->key,
						known ? "not a string" : "unknown key");
		if (strcmp(k->key, "location") == 0) {
			/* "40.7128, -74.0060": lat, lon */
			double lat, lon;
			char *end;
			cJSON *l;

			lat = strtod(k->value, &end);
			while (*end == ' ')
				end++;
			if (*end != ',' || lat < -90 || lat > 90)
				return pb_proc_conf_err(cc->c, k, cc->path, "geo.location: '%s' is "
							"not \"latitude, longitude\"", k->value);
			lon = strtod(end + 1, &end);
			while (isspace((unsigned char)*end))
				end++;
			if (*end || lon < -180 || lon > 180)
				return pb_proc_conf_err(cc->c, k, cc->path, "geo.location: '%s' is "
							"not \"latitude, longitude\"", k->value);
			l = cJSON_AddObjectToObject(geo, "location");
			cJSON_AddNumberToObject(l, "lat", lat);
			cJSON_AddNumberToObject(l, "lon", lon);
		} else {
			cJSON_AddStringToObject(geo, k->key, k->value);
		}
	}
	return 0;
}

static int host_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct host *hm = calloc(1, sizeof(*hm));
	const struct pb_conf_node *ni = pb_conf_child(cc->n, "netinfo");
	const struct pb_conf_node *geo = pb_conf_child(cc->n, "geo");
	char name[256], v[256], id[256], like[256];
	struct utsname u;
	cJSON *h, *os;
	int netinfo = 1, rc;

	if (!hm)
		return PB_ENOMEM;
	p->priv = hm;
	hm->replace = 1;
	if ((rc = pb_proc_opt_bool(cc, "replace_fields", &hm->replace)) < 0)
		return rc;
	if (ni) {
		const struct pb_conf_node *en = pb_conf_child(ni, "enabled");

		if (ni->kind != PB_CONF_MAP || !en || en->kind != PB_CONF_SCALAR ||
		    !en->value || pb_parse_bool(en->value, &netinfo) < 0)
			return pb_proc_fail(cc, "netinfo", "takes enabled: true or false");
	}
	h = hm->host = cJSON_CreateObject();
	if (!h)
		return PB_ENOMEM;
	if (gethostname(name, sizeof(name)) == 0) {
		name[sizeof(name) - 1] = '\0';
		cJSON_AddStringToObject(h, "name", name);
		cJSON_AddStringToObject(h, "hostname", name);
	}
	if (uname(&u) == 0)
		cJSON_AddStringToObject(h, "architecture", u.machine);
	os = cJSON_AddObjectToObject(h, "os");
	cJSON_AddStringToObject(os, "type", "linux");
	if (os_release("ID", id, sizeof(id)) < 0)
		snprintf(id, sizeof(id), "linux");
	if (os_release("ID_LIKE", like, sizeof(like)) < 0)
		like[0] = '\0';
	cJSON_AddStringToObject(os, "platform", id);
	cJSON_AddStringToObject(os, "family", os_family(id, like));
	if (os_release("NAME", v, sizeof(v)) == 0)
		cJSON_AddStringToObject(os, "name", v);
	if (os_release("VERSION", v, sizeof(v)) == 0)
		cJSON_AddStringToObject(os, "version", v);
	if (os_release("VERSION_CODENAME", v, sizeof(v)) == 0)
		cJSON_AddStringToObject(os, "codename", v);
	if (uname(&u) == 0)
		cJSON_AddStringToObject(os, "kernel", u.release);
	{
		FILE *f = fopen("/etc/machine-id", "r");

		if (f) {
			if (fgets(v, sizeof(v), f)) {
				v[strcspn(v, "\n")] = '\0';
				if (*v)
					cJSON_AddStringToObject(h, "id", v);
			}
			fclose(f);
		}
	}
	if (netinfo)
		add_netinfo(h);
	if (geo && (rc = geo_compile(cc, geo, h)) < 0)
		return rc;
	return 0;
}

static int host_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct host *hm = p->priv;
	cJSON *old = pb_proc_field_get(ev, "host");

	/* replace_fields: false keeps a host that says more than its name */
	if (old && !hm->replace && cJSON_IsObject(old) &&
	    (!old->child || old->child->next || strcmp(old->child->string, "name")))
		return PB_PROC_OK;
	if (pb_proc_field_put(ev, "host", cJSON_Duplicate(hm->host, 1)) < 0) {
		snprintf(err, errlen, "add_host_metadata: cannot put host");
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

static void host_free(struct pb_proc *p)
{
	struct host *hm = p->priv;

	if (hm) {
		cJSON_Delete(hm->host);
		free(hm);
	}
}

const struct pb_proc_type pb_proc_add_host_metadata = {
	"add_host_metadata", host_keys, 1, host_compile, host_run, host_free,
};
