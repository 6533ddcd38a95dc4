/*
 * ecs.h - small writers for ECS values every record kind shares:
 * addresses, MACs, TCP flags, protocol numbers and times.
 */
#ifndef PB_ECS_H
#define PB_ECS_H

#include <stdint.h>

#include "util/json.h"

/* Format an IPv4 or IPv6 address (RFC 5952 for v6); returns length. */
size_t pb_format_ip(char *out, const uint8_t *addr, int len);
/* Format a MAC address the ECS way: 00-1A-2B-3C-4D-5E. */
void pb_format_mac(char *out, const uint8_t *mac);

/* A string from the engine's own tables (plain ASCII). */
void pb_ecs_str(struct pb_json *j, const char *s);
/* "key": "address" */
void pb_ecs_ip(struct pb_json *j, const char *key, const uint8_t *a, int len);
/* "mac": "00-1A-..." */
void pb_ecs_mac(struct pb_json *j, const uint8_t *m);
/* An array of TCP flag names, in header order: FIN SYN RST PSH ACK URG ECE
 * CWR NS. */
void pb_ecs_tcp_flags(struct pb_json *j, uint16_t flags);
/* "iana_number": "6" (ECS keeps it as a string) */
void pb_ecs_iana_number(struct pb_json *j, uint8_t proto);
/* A time in nanoseconds since the epoch, RFC 3339 with prec digits. */
void pb_ecs_time_ns(struct pb_json *j, int64_t ns, int prec);

#endif
