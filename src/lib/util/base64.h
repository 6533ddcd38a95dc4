/* base64.h - RFC 4648 base64, standard alphabet with padding. */
#ifndef PB_BASE64_H
#define PB_BASE64_H

#include <stddef.h>
#include <stdint.h>

static inline size_t pb_base64_enc_len(size_t n) { return (n + 2) / 3 * 4; }
/* Writes pb_base64_enc_len(n) bytes to out (no NUL). */
void pb_base64_encode(char *out, const void *in, size_t n);
/*
 * Decode n characters of s into out (room for n / 4 * 3 bytes).
 * Returns the decoded length, or -1 if s is not valid padded base64.
 */
long pb_base64_decode(uint8_t *out, const char *s, size_t n);

#endif
