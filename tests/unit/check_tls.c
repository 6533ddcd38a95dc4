/*
 * check_tls.c - the TLS parser (proto/tls.c) driven as the engine drives
 * it (txnharness.h): TLS 1.2 and 1.3 handshakes, a HelloRetryRequest,
 * resumption, client certificates, OCSP, alerts, the SSLv2-compatible
 * ClientHello, the JA3/JA3S/JA4 fingerprints, certificates and their
 * fields, the options, and hostile input: records split at every byte,
 * lengths that lie, truncation, a capture that starts mid-stream, gaps.
 *
 * The hellos are byte arrays written out below.  Expected fingerprints
 * were worked out by hand from the specifications for those bytes: the
 * JA3/JA3S string written down field by field (decimal values, GREASE
 * left out), then `printf '%s' STRING | md5sum`; for JA4 the a part read
 * off the hello, and the b and c parts as
 * `printf '%s' LIST | sha256sum | cut -c1-12` of the sorted hex lists
 * written down by hand.  The JA4 specification's own example, and three
 * ClientHellos with their JA3 from Packetbeat's tests, check the same
 * code against values computed by others.
 *
 * The certificates are a P-256 CA and a leaf it signed, made once with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -subj "/C=NL/O=Example CA/CN=Example Test CA" -days 1 \
 *     -set_serial 0x0123456789abcdef0123 -outform DER -out ca.der
 *   openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -subj "/C=NL/ST=Noord-Holland/L=Amsterdam/O=pbtools/OU=tests/OU=tls/CN=test.example"
 *   openssl x509 -req -CA ca.der -CAform DER -set_serial 4660 -days 1 \
 *     -extfile <(echo subjectAltName=DNS:test.example,DNS:www.test.example,IP:192.0.2.1,email:admin@test.example)
 * and `xxd -i`; their hashes are `openssl dgst -sha1` (and -md5, -sha256)
 * of the DER, their fields what `openssl x509 -text` shows.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "proto/proto.h"
#include "txnharness.h"

#define SEC INT64_C(1000000000)

/* ------------------------------------------------------ certificates */

/* the leaf: CN=test.example, serial 4660, P-256, signed by the CA;
 * SHA-1 334a84b2..., MD5 95571174..., SHA-256 9211ae83... */
static const uint8_t leaf_der[] = {
	0x30, 0x82, 0x02, 0x35, 0x30, 0x82, 0x01, 0xdc, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x02, 0x12, 0x34, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
	0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x3c, 0x31, 0x0b, 0x30, 0x09, 0x06,
	0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x4e, 0x4c, 0x31, 0x13, 0x30, 0x11,
	0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0a, 0x45, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x20, 0x43, 0x41, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55,
	0x04, 0x03, 0x0c, 0x0f, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20,
	0x54, 0x65, 0x73, 0x74, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32,
	0x36, 0x31, 0x31, 0x32, 0x39, 0x30, 0x39, 0x32, 0x33, 0x32, 0x32, 0x5a,
	0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x33, 0x30, 0x30, 0x39, 0x32, 0x33,
	0x32, 0x32, 0x5a, 0x30, 0x81, 0x80, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
	0x55, 0x04, 0x06, 0x13, 0x02, 0x4e, 0x4c, 0x31, 0x16, 0x30, 0x14, 0x06,
	0x03, 0x55, 0x04, 0x08, 0x0c, 0x0d, 0x4e, 0x6f, 0x6f, 0x72, 0x64, 0x2d,
	0x48, 0x6f, 0x6c, 0x6c, 0x61, 0x6e, 0x64, 0x31, 0x12, 0x30, 0x10, 0x06,
	0x03, 0x55, 0x04, 0x07, 0x0c, 0x09, 0x41, 0x6d, 0x73, 0x74, 0x65, 0x72,
	0x64, 0x61, 0x6d, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a,
	0x0c, 0x07, 0x70, 0x62, 0x74, 0x6f, 0x6f, 0x6c, 0x73, 0x31, 0x0e, 0x30,
	0x0c, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x05, 0x74, 0x65, 0x73, 0x74,
	0x73, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x03,
	0x74, 0x6c, 0x73, 0x31, 0x15, 0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x03,
	0x0c, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
	0x07, 0x03, 0x42, 0x00, 0x04, 0xd1, 0x5b, 0x14, 0x43, 0x94, 0x27, 0x52,
	0x28, 0xf7, 0xd4, 0xd2, 0xc0, 0x09, 0x4f, 0xb9, 0xbe, 0x7a, 0xc2, 0xf6,
	0xaf, 0xe3, 0x92, 0xc9, 0x9e, 0x9e, 0xaa, 0xbf, 0x1e, 0xc7, 0x01, 0x33,
	0x89, 0xd5, 0x27, 0x55, 0xec, 0xc7, 0x92, 0x4f, 0xad, 0xe3, 0x66, 0x18,
	0xbf, 0x56, 0xb4, 0xfa, 0xbf, 0x04, 0x92, 0x90, 0x89, 0xd4, 0x83, 0x7a,
	0x65, 0xe8, 0x7a, 0x4a, 0xfc, 0xc3, 0xe2, 0x69, 0xb7, 0xa3, 0x81, 0x88,
	0x30, 0x81, 0x85, 0x30, 0x43, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x3c,
	0x30, 0x3a, 0x82, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x2e, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x82, 0x10, 0x77, 0x77, 0x77, 0x2e, 0x74, 0x65,
	0x73, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x87, 0x04,
	0xc0, 0x00, 0x02, 0x01, 0x81, 0x12, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x40,
	0x74, 0x65, 0x73, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x79,
	0x30, 0xa4, 0x2f, 0x65, 0xff, 0xc6, 0x9d, 0x71, 0x1a, 0xfd, 0x3b, 0x9c,
	0x31, 0x79, 0xed, 0x2c, 0xf9, 0x10, 0x7a, 0x30, 0x1f, 0x06, 0x03, 0x55,
	0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xa7, 0x23, 0x52, 0x62,
	0x79, 0x61, 0x55, 0x41, 0xfa, 0x16, 0xcb, 0xac, 0x71, 0x85, 0x71, 0xc3,
	0x54, 0xa9, 0x3b, 0x46, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x26,
	0xb2, 0xbc, 0x57, 0x82, 0x6a, 0xf5, 0x28, 0x7b, 0x25, 0xf6, 0x27, 0x1a,
	0x4b, 0x6f, 0x74, 0x39, 0x95, 0x84, 0xa5, 0xa3, 0x73, 0x91, 0x69, 0xd9,
	0x77, 0xd7, 0xa1, 0x2a, 0x0d, 0xbc, 0x8c, 0x02, 0x20, 0x56, 0x59, 0x88,
	0x6d, 0x4d, 0xa1, 0xc1, 0x6b, 0xc4, 0x23, 0x89, 0x7e, 0x23, 0xe7, 0xbc,
	0xf9, 0xbb, 0x8a, 0xbb, 0x03, 0xfa, 0xeb, 0x5c, 0xe7, 0x22, 0xb8, 0x6e,
	0x21, 0x6f, 0x60, 0x73, 0x7f
};
static const unsigned int leaf_der_len = 569;
/* the CA: CN=Example Test CA, serial 0x0123456789abcdef0123 */
static const uint8_t ca_der[] = {
	0x30, 0x82, 0x01, 0xc4, 0x30, 0x82, 0x01, 0x69, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x0a, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01,
	0x23, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	0x02, 0x30, 0x3c, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06,
	0x13, 0x02, 0x4e, 0x4c, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04,
	0x0a, 0x0c, 0x0a, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x43,
	0x41, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0f,
	0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x54, 0x65, 0x73, 0x74,
	0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32,
	0x39, 0x30, 0x39, 0x32, 0x33, 0x32, 0x32, 0x5a, 0x17, 0x0d, 0x32, 0x36,
	0x31, 0x31, 0x33, 0x30, 0x30, 0x39, 0x32, 0x33, 0x32, 0x32, 0x5a, 0x30,
	0x3c, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02,
	0x4e, 0x4c, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c,
	0x0a, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x43, 0x41, 0x31,
	0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0f, 0x45, 0x78,
	0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x54, 0x65, 0x73, 0x74, 0x20, 0x43,
	0x41, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
	0x03, 0x42, 0x00, 0x04, 0x26, 0x43, 0x35, 0xe6, 0x53, 0xfd, 0xc7, 0xca,
	0x37, 0x95, 0xd2, 0x65, 0xa9, 0xd4, 0x6a, 0x0c, 0xdb, 0xc1, 0x50, 0xc3,
	0xac, 0x3e, 0xe7, 0x4b, 0x03, 0x64, 0x9e, 0x76, 0xa1, 0xb8, 0x41, 0x18,
	0x0a, 0xea, 0x20, 0xca, 0xb2, 0xfb, 0xf4, 0xb8, 0x28, 0xc2, 0x27, 0x57,
	0x23, 0x66, 0x1e, 0x3d, 0xe9, 0x84, 0xca, 0x25, 0xcd, 0xa3, 0xa1, 0x93,
	0x9c, 0x6d, 0x22, 0x34, 0xbd, 0x03, 0x28, 0x68, 0xa3, 0x53, 0x30, 0x51,
	0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xa7,
	0x23, 0x52, 0x62, 0x79, 0x61, 0x55, 0x41, 0xfa, 0x16, 0xcb, 0xac, 0x71,
	0x85, 0x71, 0xc3, 0x54, 0xa9, 0x3b, 0x46, 0x30, 0x1f, 0x06, 0x03, 0x55,
	0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xa7, 0x23, 0x52, 0x62,
	0x79, 0x61, 0x55, 0x41, 0xfa, 0x16, 0xcb, 0xac, 0x71, 0x85, 0x71, 0xc3,
	0x54, 0xa9, 0x3b, 0x46, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
	0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06,
	0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x49, 0x00,
	0x30, 0x46, 0x02, 0x21, 0x00, 0xc9, 0xb6, 0x0e, 0x3d, 0xb7, 0x5c, 0xf4,
	0x8c, 0xde, 0x08, 0x1d, 0xf2, 0xf8, 0x64, 0xe3, 0x76, 0x05, 0xb1, 0xe7,
	0xb5, 0xeb, 0xdd, 0xae, 0x31, 0xc9, 0xbc, 0xfc, 0xaa, 0x25, 0x06, 0x0f,
	0xfe, 0x02, 0x21, 0x00, 0xbd, 0xa8, 0xa3, 0xb4, 0xd8, 0x28, 0x48, 0x2b,
	0x68, 0xa8, 0xde, 0x65, 0x2f, 0xa2, 0xcd, 0xc9, 0xa3, 0x9e, 0x6d, 0xd6,
	0x4e, 0x9f, 0xd3, 0x1d, 0xab, 0x48, 0xa7, 0x29, 0x5e, 0x6a, 0xa3, 0x51
};
static const unsigned int ca_der_len = 456;

/* the leaf as `openssl x509 -inform DER -outform PEM` writes it */
static const char leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICNTCCAdygAwIBAgICEjQwCgYIKoZIzj0EAwIwPDELMAkGA1UEBhMCTkwxEzAR\n"
	"BgNVBAoMCkV4YW1wbGUgQ0ExGDAWBgNVBAMMD0V4YW1wbGUgVGVzdCBDQTAeFw0y\n"
	"NjExMjkwOTIzMjJaFw0yNjExMzAwOTIzMjJaMIGAMQswCQYDVQQGEwJOTDEWMBQG\n"
	"A1UECAwNTm9vcmQtSG9sbGFuZDESMBAGA1UEBwwJQW1zdGVyZGFtMRAwDgYDVQQK\n"
	"DAdwYnRvb2xzMQ4wDAYDVQQLDAV0ZXN0czEMMAoGA1UECwwDdGxzMRUwEwYDVQQD\n"
	"DAx0ZXN0LmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATRWxRDlCdS\n"
	"KPfU0sAJT7m+esL2r+OSyZ6eqr8exwEzidUnVezHkk+t42YYv1a0+r8EkpCJ1IN6\n"
	"Zeh6SvzD4mm3o4GIMIGFMEMGA1UdEQQ8MDqCDHRlc3QuZXhhbXBsZYIQd3d3LnRl\n"
	"c3QuZXhhbXBsZYcEwAACAYESYWRtaW5AdGVzdC5leGFtcGxlMB0GA1UdDgQWBBR5\n"
	"MKQvZf/GnXEa/TucMXntLPkQejAfBgNVHSMEGDAWgBSnI1JieWFVQfoWy6xxhXHD\n"
	"VKk7RjAKBggqhkjOPQQDAgNHADBEAiAmsrxXgmr1KHsl9icaS290OZWEpaNzkWnZ\n"
	"d9ehKg28jAIgVlmIbU2hwWvEI4l+I+e8+buKuwP661znIrhuIW9gc38=\n"
	"-----END CERTIFICATE-----\n"
	;

/* --------------------------------------------------------- the bytes */

#define RAND_A 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, \
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, \
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
#define RAND_B 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, \
	0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, \
	0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f
#define RAND_C 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, \
	0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, \
	0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f
/* a 32-byte session id, and another */
#define SID_X 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, \
	0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, \
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf
#define SID_Y 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, \
	0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, \
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf
/* an X25519 public key (any 32 bytes will do here) */
#define KEY32 0x9f, 0x9e, 0x9d, 0x9c, 0x9b, 0x9a, 0x99, 0x98, 0x97, 0x96, 0x95, \
	0x94, 0x93, 0x92, 0x91, 0x90, 0x8f, 0x8e, 0x8d, 0x8c, 0x8b, 0x8a, 0x89, 0x88, \
	0x87, 0x86, 0x85, 0x84, 0x83, 0x82, 0x81, 0x80
/* RFC 8446 4.1.3: the random that makes a ServerHello an HRR */
#define HRR_RANDOM 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, \
	0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, \
	0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c

/*
 * A TLS 1.2 ClientHello body (no handshake header).
 *   JA3 = 771,49199-49200-156-47-255,0-11-10-35-13-16-65281-23,29-23-24,0-1
 *       -> 615e203e7e6271840945a6470a34784d
 *   JA4 a = t 12 (no supported_versions: the hello's 0x0303) d (SNI)
 *           05 ciphers, 08 extensions, h2 (first ALPN "h2")
 *       b = 002f,009c,00ff,c02f,c030 -> 9979ce2beb68
 *       c = 000a,000b,000d,0017,0023,ff01_0403,0804,0401,0201 -> 2fee1696c70b
 */
static const uint8_t ch12[] = {
	0x03, 0x03, RAND_A,
	0x00,                                     /* no session id */
	0x00, 0x0a, 0xc0, 0x2f, 0xc0, 0x30, 0x00, 0x9c, 0x00, 0x2f, 0x00, 0xff,
	0x01, 0x00,                               /* compression: NULL */
	0x00, 0x55,                               /* 85 bytes of extensions */
	/* server_name: test.example */
	0x00, 0x00, 0x00, 0x11, 0x00, 0x0f, 0x00, 0x00, 0x0c,
	't', 'e', 's', 't', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	/* ec_point_formats: uncompressed, ansiX962_compressed_prime */
	0x00, 0x0b, 0x00, 0x03, 0x02, 0x00, 0x01,
	/* supported_groups: x25519, secp256r1, secp384r1 */
	0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
	/* session_ticket, empty: "I take tickets" */
	0x00, 0x23, 0x00, 0x00,
	/* signature_algorithms */
	0x00, 0x0d, 0x00, 0x0a, 0x00, 0x08, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x02, 0x01,
	/* ALPN: h2, http/1.1 */
	0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
	0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
	/* renegotiation_info, extended_master_secret */
	0xff, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x17, 0x00, 0x00,
};

/* Its ServerHello: ECDHE-RSA-AES128-GCM-SHA256, ALPN h2, a new session
 * id.  JA3S = 771,49199,65281-11-16-35 -> c2bdc072482f15950d9f1e6e82e1cb86 */
static const uint8_t sh12[] = {
	0x03, 0x03, RAND_C, 0x20, SID_Y, 0xc0, 0x2f, 0x00,
	0x00, 0x18,
	0xff, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
	0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2',
	0x00, 0x23, 0x00, 0x00,
};

/*
 * A TLS 1.3 ClientHello with GREASE (cipher 0x0a0a, extensions 0x1a1a and
 * 0x4a4a, group 0x2a2a, version 0x3a3a) and the compatibility session id.
 *   JA3 = 771,4865-4866-4867-49195,0-23-10-11-16-13-43-45-51,29-23-24,0
 *       -> bf93479fcddf364e28f18d69e8bd841b
 *   JA4 a = t 13 (highest of supported_versions) d 04 09 h2
 *       b = 1301,1302,1303,c02b -> 39e807bd56df
 *       c = 000a,000b,000d,0017,002b,002d,0033_0403,0804,0401 -> b7dbbb63159c
 */
static const uint8_t ch13[] = {
	0x03, 0x03, RAND_B, 0x20, SID_X,
	0x00, 0x0a, 0x0a, 0x0a, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b,
	0x01, 0x00,
	0x00, 0x92,                               /* 146 bytes of extensions */
	0x1a, 0x1a, 0x00, 0x00,                   /* GREASE */
	0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f,
	'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
	0x00, 0x17, 0x00, 0x00,
	0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x2a, 0x2a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
	0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
	0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
	0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
	0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
	/* supported_versions: GREASE, TLS 1.3, TLS 1.2 */
	0x00, 0x2b, 0x00, 0x07, 0x06, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03,
	0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,
	/* key_share: x25519 */
	0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, KEY32,
	0x4a, 0x4a, 0x00, 0x01, 0x00,             /* GREASE */
};

/* Its ServerHello: TLS_AES_128_GCM_SHA256, TLS 1.3, x25519.
 * JA3S = 771,4865,43-51 -> f4febc55ea12b31ae17cfb7e614afda8 */
static const uint8_t sh13[] = {
	0x03, 0x03, RAND_C, 0x20, SID_X, 0x13, 0x01, 0x00,
	0x00, 0x2e,
	0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
	0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, KEY32,
};

/* The same, accepting a pre-shared key (identity 0): a resumption. */
static const uint8_t sh13_psk[] = {
	0x03, 0x03, RAND_C, 0x20, SID_X, 0x13, 0x01, 0x00,
	0x00, 0x34,
	0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
	0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, KEY32,
	0x00, 0x29, 0x00, 0x02, 0x00, 0x00,
};

/* A HelloRetryRequest asking for secp256r1. */
static const uint8_t hrr13[] = {
	0x03, 0x03, HRR_RANDOM, 0x20, SID_X, 0x13, 0x01, 0x00,
	0x00, 0x0c,
	0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
	0x00, 0x33, 0x00, 0x02, 0x00, 0x17,
};

/*
 * An SSLv2-compatible CLIENT-HELLO (RFC 5246 E.2), whole, header and all:
 * version 3.1, seven cipher specs of which four are TLS suites, no
 * session id, a 16-byte challenge.
 *   JA3 = 769,47-53-10-255,,, -> cebf0f3ad70b08c7d817161e2fd1722c
 *   JA4 = t10i040000_ (000a,002f,0035,00ff -> e2f6df6ad119) _000000000000
 */
static const uint8_t v2hello[] = {
	0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x01, 0x00, 0x80, 0x07, 0x00, 0xc0,
	0x00, 0x00, 0x0a, 0x02, 0x00, 0x80, 0x00, 0x00, 0xff,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* A TLS 1.0 ServerHello without extensions, for the SSLv2 hello. */
static const uint8_t sh10[] = {
	0x03, 0x01, RAND_C, 0x00, 0x00, 0x2f, 0x00,
};

/* ------------------------------------------------------------ builders */

#define MAXB 16384

struct bytes {
	uint8_t b[MAXB];
	size_t n;
};

static void put(struct bytes *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	ck_assert_uint_le(o->n + n, MAXB);
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put8(struct bytes *o, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(o, &b, 1);
}

static void put16(struct bytes *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v);
}

static void put24(struct bytes *o, unsigned v)
{
	put8(o, v >> 16);
	put16(o, v);
}

/* A record of type with version 3.3 around p. */
static void rec(struct bytes *o, unsigned type, const void *p, size_t n)
{
	put8(o, type);
	put16(o, 0x0303);
	put16(o, (unsigned)n);
	put(o, p, n);
}

/* A handshake message (header and body) appended to o. */
static void msg(struct bytes *o, unsigned type, const void *body, size_t n)
{
	put8(o, type);
	put24(o, (unsigned)n);
	put(o, body, n);
}

/* A record holding one handshake message. */
static void hsrec(struct bytes *o, unsigned type, const void *body, size_t n)
{
	struct bytes m = { .n = 0 };

	msg(&m, type, body, n);
	rec(o, 22, m.b, m.n);
}

/* A Certificate body: the 24-bit list length, then each DER with its
 * 24-bit length. */
static void cert_body(struct bytes *o, const uint8_t *const *der, const unsigned *len,
		      unsigned n)
{
	unsigned i, total = 0;

	for (i = 0; i < n; i++)
		total += 3 + len[i];
	put24(o, total);
	for (i = 0; i < n; i++) {
		put24(o, len[i]);
		put(o, der[i], len[i]);
	}
}

static const uint8_t ccs_rec[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };

/* An encrypted record: a Finished after CCS (type 22) or TLS 1.3 data. */
static void enc_rec(struct bytes *o, unsigned type)
{
	static const uint8_t junk[40] = { 0x5a, 0x17, 0xc3, 0x00, 0xff, 0x16, 0x03, 0x03 };

	rec(o, type, junk, sizeof(junk));
}

/* The four flights of a full TLS 1.2 handshake with a certificate chain:
 * client hello; server hello, certificate (split over two records),
 * ECDHE key exchange and hello done (sharing a record); client key
 * exchange, CCS, Finished; server ticket, CCS, Finished. */
struct convo {
	struct bytes f[4];
};

static void tls12_convo(struct convo *cv)
{
	static const uint8_t ske[] = { 0x03, 0x00, 0x17, 0x01, 0x04, 0x04, 0x03,
				       0x00, 0x02, 0xaa, 0xbb };
	static const uint8_t cke[] = { 0x01, 0x04 };
	static const uint8_t nst[] = { 0x00, 0x00, 0x1c, 0x20, 0x00, 0x04, 0xaa, 0xbb,
				       0xcc, 0xdd };
	const uint8_t *der[2] = { leaf_der, ca_der };
	unsigned len[2] = { leaf_der_len, ca_der_len };
	struct bytes cb = { .n = 0 }, cm = { .n = 0 }, two = { .n = 0 };
	size_t half;

	memset(cv, 0, sizeof(*cv));
	hsrec(&cv->f[0], 1, ch12, sizeof(ch12));
	hsrec(&cv->f[1], 2, sh12, sizeof(sh12));
	cert_body(&cb, der, len, 2);
	msg(&cm, 11, cb.b, cb.n);
	half = cm.n / 2;
	rec(&cv->f[1], 22, cm.b, half);
	rec(&cv->f[1], 22, cm.b + half, cm.n - half);
	msg(&two, 12, ske, sizeof(ske));
	msg(&two, 14, NULL, 0);
	rec(&cv->f[1], 22, two.b, two.n);
	hsrec(&cv->f[2], 16, cke, sizeof(cke));
	put(&cv->f[2], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv->f[2], 22);
	hsrec(&cv->f[3], 4, nst, sizeof(nst));
	put(&cv->f[3], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv->f[3], 22);
}

/* A TLS 1.3 handshake with middlebox compatibility: CH; SH, CCS,
 * encrypted flight; CCS, encrypted Finished. */
static void tls13_convo(struct convo *cv, const uint8_t *sh, size_t shn)
{
	memset(cv, 0, sizeof(*cv));
	hsrec(&cv->f[0], 1, ch13, sizeof(ch13));
	hsrec(&cv->f[1], 2, sh, shn);
	put(&cv->f[1], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv->f[1], 23);
	enc_rec(&cv->f[1], 23);
	put(&cv->f[2], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv->f[2], 23);
}

/* ------------------------------------------------------------- helpers */

static const struct pb_proto *tls(void)
{
	const struct pb_proto *p = pb_proto_find("tls");

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct th *new_th(void)
{
	/* endpoint 0 is the client 10.0.0.1:51000, 1 the server :443 */
	return th_new(tls(), 6, 51000, 443);
}

/* Feed flights alternately (client, server, ...), step bytes a segment. */
static void feed(struct th *h, const struct convo *cv, size_t step)
{
	int i;

	for (i = 0; i < 4; i++)
		if (cv->f[i].n)
			th_tcp_split(h, i & 1, cv->f[i].b, cv->f[i].n, step ? step : cv->f[i].n);
}

static cJSON *only_event(struct th *h)
{
	cJSON *ev;

	ck_assert_uint_eq(h->n_ev, 1);
	/* CHECK_TLS_DUMP=1 shows the events the tests look at */
	if (getenv("CHECK_TLS_DUMP"))
		fprintf(stderr, "%s", h->ev[0]);
	ev = th_event(h, 0);
	ck_assert_ptr_nonnull(ev);
	return ev;
}

static void ck_str(const cJSON *ev, const char *path, const char *want)
{
	const char *got = th_str(ev, path);

	ck_assert_msg(got != NULL, "%s missing", path);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", path, got, want);
}

static void ck_bool(const cJSON *ev, const char *path, int want)
{
	const cJSON *v = th_get(ev, path);

	ck_assert_msg(cJSON_IsBool(v), "%s is not a boolean", path);
	ck_assert_int_eq(cJSON_IsTrue(v), want);
}

static void ck_absent(const cJSON *ev, const char *path)
{
	ck_assert_msg(th_get(ev, path) == NULL, "%s should be absent", path);
}

/* A string array at path equals the NULL-terminated list. */
static void ck_list(const cJSON *ev, const char *path, const char *const *want)
{
	const cJSON *a = th_get(ev, path), *e;
	int i = 0;

	ck_assert_msg(cJSON_IsArray(a), "%s is not an array", path);
	cJSON_ArrayForEach(e, a) {
		ck_assert_msg(want[i] != NULL, "%s: more than %d items", path, i);
		ck_assert_msg(cJSON_IsString(e) && strcmp(e->valuestring, want[i]) == 0,
			      "%s[%d]: got '%s', want '%s'", path, i,
			      cJSON_IsString(e) ? e->valuestring : "?", want[i]);
		i++;
	}
	ck_assert_msg(want[i] == NULL, "%s: only %d items", path, i);
}

/* Element i of the array at path. */
static const cJSON *item(const cJSON *ev, const char *path, int i)
{
	const cJSON *a = th_get(ev, path);

	ck_assert_msg(cJSON_IsArray(a), "%s is not an array", path);
	ck_assert_ptr_nonnull(cJSON_GetArrayItem(a, i));
	return cJSON_GetArrayItem(a, i);
}

/* error.message holds a note containing s */
#define has_note(ev, s) th_has_note((ev), (s), 0)

/* The event without what depends on how the bytes were cut into
 * segments (times and packet numbers), as a string. */
static char *normalized(struct th *h, unsigned i)
{
	cJSON *ev = th_event(h, i);
	char *s;

	ck_assert_ptr_nonnull(ev);
	cJSON_DeleteItemFromObject(ev, "@timestamp");
	cJSON_DeleteItemFromObject(ev, "event");
	cJSON_DeleteItemFromObject(ev, "pb");
	s = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	return s;
}

/* The largest flight, for the split loops. */
static size_t longest(const struct convo *cv)
{
	size_t m = 0;
	int i;

	for (i = 0; i < 4; i++)
		if (cv->f[i].n > m)
			m = cv->f[i].n;
	return m;
}

/* Every way of cutting the flights into segments of 1..n bytes gives the
 * event the whole flights give. */
static void split_identical(const struct convo *cv)
{
	struct th *h = new_th();
	char *want;
	size_t step, n = longest(cv);

	feed(h, cv, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	want = normalized(h, 0);
	th_free(h);
	for (step = 1; step <= n; step++) {
		char *got;

		h = new_th();
		feed(h, cv, step);
		th_close(h);
		ck_assert_msg(h->n_ev == 1, "step %zu: %u events", step, h->n_ev);
		got = normalized(h, 0);
		ck_assert_msg(strcmp(got, want) == 0, "step %zu:\n%s\n%s", step, got, want);
		free(got);
		th_free(h);
	}
	free(want);
}

static void hex_decode(struct bytes *o, const char *hex)
{
	unsigned v;

	o->n = 0;
	while (hex[0] && hex[1] && sscanf(hex, "%2x", &v) == 1) {
		put8(o, v);
		hex += 2;
	}
}

/* ------------------------------------------------------------- TLS 1.2 */

START_TEST(test_tls12_full)
{
	static const char *const ciphers[] = {
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA",
		"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", NULL,
	};
	static const char *const alt[] = {
		"test.example", "www.test.example", "admin@test.example", "192.0.2.1", NULL,
	};
	static const char *const sni[] = { "test.example", NULL };
	static const char *const groups[] = { "x25519", "secp256r1", "secp384r1", NULL };
	static const char *const points[] = { "uncompressed", "ansiX962_compressed_prime", NULL };
	static const char *const sigs[] = {
		"ecdsa_secp256r1_sha256", "rsa_pss_sha256", "rsa_pkcs1_sha256",
		"rsa_pkcs1_sha1", NULL,
	};
	static const char *const alpn[] = { "h2", "http/1.1", NULL };
	static const char *const unparsed[] = { "renegotiation_info", "23", NULL };
	static const char *const sh_unparsed[] = { "renegotiation_info", NULL };
	static const char *const hosts[] = { "test.example", NULL };
	/* what each side sent, up to the server's CCS that ends it */
	static const char *const cmsgs[] = {
		"client_hello", "client_key_exchange", "change_cipher_spec", "finished", NULL,
	};
	static const char *const smsgs[] = {
		"server_hello", "certificate", "server_key_exchange", "server_hello_done",
		"new_session_ticket", "change_cipher_spec", NULL,
	};
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;
	const cJSON *chain;

	tls12_convo(&cv);
	feed(h, &cv, 0);
	/* the event goes out at the second ChangeCipherSpec, not at close */
	ev = only_event(h);
	ck_str(ev, "type", "tls");
	ck_str(ev, "status", "OK");
	ck_str(ev, "client.ip", "10.0.0.1");
	ck_str(ev, "server.ip", "10.0.0.2");
	ck_assert_int_eq((int)th_num(ev, "server.port"), 443);
	ck_str(ev, "server.domain", "test.example");
	ck_str(ev, "destination.domain", "test.example");
	ck_list(ev, "related.hosts", hosts);
	/* Packetbeat writes no byte counts for TLS */
	ck_absent(ev, "network.bytes");
	ck_absent(ev, "client.bytes");
	ck_absent(ev, "server.bytes");
	/* four segments a microsecond apart: the handshake took 3 us */
	ck_assert_int_eq((int)th_num(ev, "event.duration"), 3000);
	ck_str(ev, "tls.version", "1.2");
	ck_str(ev, "tls.version_protocol", "tls");
	ck_bool(ev, "tls.established", 1);
	ck_bool(ev, "tls.resumed", 0);
	ck_str(ev, "tls.cipher", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	ck_str(ev, "tls.curve", "secp256r1");
	ck_str(ev, "tls.next_protocol", "h2");
	ck_str(ev, "tls.client.server_name", "test.example");
	ck_str(ev, "tls.client.ja3", "615e203e7e6271840945a6470a34784d");
	ck_str(ev, "tls.client.ja4", "t12d0508h2_9979ce2beb68_2fee1696c70b");
	ck_list(ev, "tls.client.supported_ciphers", ciphers);
	ck_str(ev, "tls.server.ja3s", "c2bdc072482f15950d9f1e6e82e1cb86");
	/* the leaf: hashes upper case, names as Go's crypto/x509 writes them */
	ck_str(ev, "tls.server.hash.sha1", "334A84B26C16F949C1D3BDF425207D4750C3AC37");
	ck_absent(ev, "tls.server.hash.md5");
	ck_absent(ev, "tls.server.hash.sha256");
	ck_str(ev, "tls.server.subject",
	       "CN=test.example,OU=tests+OU=tls,O=pbtools,L=Amsterdam,ST=Noord-Holland,C=NL");
	ck_str(ev, "tls.server.issuer", "CN=Example Test CA,O=Example CA,C=NL");
	ck_str(ev, "tls.server.not_before", "2026-11-29T09:23:22.000Z");
	ck_str(ev, "tls.server.not_after", "2026-11-30T09:23:22.000Z");
	ck_str(ev, "tls.server.x509.subject.common_name", "test.example");
	ck_str(ev, "tls.server.x509.subject.organizational_unit", "tests tls");
	ck_str(ev, "tls.server.x509.subject.state_or_province", "Noord-Holland");
	ck_str(ev, "tls.server.x509.subject.country", "NL");
	ck_str(ev, "tls.server.x509.subject.distinguished_name",
	       "CN=test.example,OU=tests+OU=tls,O=pbtools,L=Amsterdam,ST=Noord-Holland,C=NL");
	ck_str(ev, "tls.server.x509.issuer.common_name", "Example Test CA");
	ck_str(ev, "tls.server.x509.issuer.organization", "Example CA");
	/* 0x1234: hex, upper case, as ECS and Packetbeat write it */
	ck_str(ev, "tls.server.x509.serial_number", "1234");
	ck_str(ev, "tls.server.x509.signature_algorithm", "ECDSA-SHA256");
	ck_str(ev, "tls.server.x509.public_key_algorithm", "ECDSA");
	ck_assert_int_eq((int)th_num(ev, "tls.server.x509.public_key_size"), 256);
	ck_assert_int_eq((int)th_num(ev, "tls.server.x509.version_number"), 3);
	ck_str(ev, "tls.server.x509.not_before", "2026-11-29T09:23:22.000Z");
	ck_list(ev, "tls.server.x509.alternative_names", alt);
	ck_absent(ev, "tls.server.certificate_chain");
	/* tls.detailed */
	ck_str(ev, "tls.detailed.version", "TLS 1.2");
	ck_str(ev, "tls.detailed.client_hello.version", "3.3");
	ck_str(ev, "tls.detailed.client_hello.random",
	       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	ck_absent(ev, "tls.detailed.client_hello.session_id");
	ck_list(ev, "tls.detailed.client_hello.extensions.server_name_indication", sni);
	ck_list(ev, "tls.detailed.client_hello.extensions.supported_groups", groups);
	ck_list(ev, "tls.detailed.client_hello.extensions.ec_points_formats", points);
	ck_list(ev, "tls.detailed.client_hello.extensions.signature_algorithms", sigs);
	ck_list(ev, "tls.detailed.client_hello.extensions.application_layer_protocol_negotiation",
		alpn);
	ck_str(ev, "tls.detailed.client_hello.extensions.session_ticket", "");
	ck_list(ev, "tls.detailed.client_hello.extensions._unparsed_", unparsed);
	ck_str(ev, "tls.detailed.server_hello.selected_compression_method", "NULL");
	ck_str(ev, "tls.detailed.server_hello.session_id",
	       "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
	ck_list(ev, "tls.detailed.server_hello.extensions._unparsed_", sh_unparsed);
	ck_bool(ev, "tls.detailed.client_certificate_requested", 0);
	ck_absent(ev, "tls.detailed.resumption_method");
	ck_str(ev, "tls.detailed.ja3_string",
	       "771,49199-49200-156-47-255,0-11-10-35-13-16-65281-23,29-23-24,0-1");
	ck_str(ev, "tls.detailed.ja3s_string", "771,49199,65281-11-16-35");
	ck_str(ev, "tls.detailed.ja4_r", "t12d0508h2_002f,009c,00ff,c02f,c030_"
	       "000a,000b,000d,0017,0023,ff01_0403,0804,0401,0201");
	/* the chain after the leaf: the CA */
	chain = th_get(ev, "tls.detailed.server_certificate_chain");
	ck_assert_int_eq(cJSON_GetArraySize(chain), 1);
	ck_str(cJSON_GetArrayItem(chain, 0), "subject.common_name", "Example Test CA");
	ck_str(cJSON_GetArrayItem(chain, 0), "serial_number", "123456789ABCDEF0123");
	ck_list(ev, "tls.detailed.client_handshake_messages", cmsgs);
	ck_list(ev, "tls.detailed.server_handshake_messages", smsgs);
	ck_absent(ev, "error");
	cJSON_Delete(ev);
	/* nothing more at close */
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	ck_assert_uint_eq(h->st.transactions, 1);
	th_free(h);
}
END_TEST

START_TEST(test_tls12_split_every_byte)
{
	struct convo cv;

	tls12_convo(&cv);
	split_identical(&cv);
}
END_TEST

START_TEST(test_tls12_resumed_id)
{
	/* a hello with the session id the server then echoes, and no key
	 * exchange: an abbreviated handshake */
	uint8_t ch[sizeof(ch12) + 32], sh[sizeof(sh12)];
	static const uint8_t sid[32] = { SID_Y };
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	memcpy(ch, ch12, 34);
	ch[34] = 32;
	memcpy(ch + 35, sid, 32);
	memcpy(ch + 67, ch12 + 35, sizeof(ch12) - 35);
	memcpy(sh, sh12, sizeof(sh12));
	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch, sizeof(ch));
	hsrec(&cv.f[1], 2, sh, sizeof(sh));
	put(&cv.f[1], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv.f[1], 22);
	put(&cv.f[2], ccs_rec, sizeof(ccs_rec));
	enc_rec(&cv.f[2], 22);
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_bool(ev, "tls.established", 1);
	ck_bool(ev, "tls.resumed", 1);
	ck_str(ev, "tls.detailed.resumption_method", "id");
	ck_str(ev, "tls.detailed.client_hello.session_id",
	       "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_tls12_resumed_ticket)
{
	/* the client's session_ticket holds a ticket (4 bytes here) and the
	 * server answers with the extension: resumption by ticket */
	uint8_t ch[sizeof(ch12) + 4];
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;
	size_t at = 2 + 32 + 1 + 12 + 2 + 2 + 21 + 7 + 12; /* the session_ticket */

	memcpy(ch, ch12, at);
	memcpy(ch + at, "\x00\x23\x00\x04\xde\xad\xbe\xef", 8);
	memcpy(ch + at + 8, ch12 + at + 4, sizeof(ch12) - at - 4);
	ch[2 + 32 + 1 + 12 + 2 + 1] = 0x55 + 4;  /* the extensions' length */
	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch, sizeof(ch));
	hsrec(&cv.f[1], 2, sh12, sizeof(sh12));
	put(&cv.f[1], ccs_rec, sizeof(ccs_rec));
	put(&cv.f[2], ccs_rec, sizeof(ccs_rec));
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_bool(ev, "tls.resumed", 1);
	ck_str(ev, "tls.detailed.resumption_method", "ticket");
	ck_str(ev, "tls.detailed.client_hello.extensions.session_ticket", "(4 bytes)");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_client_certificate_and_ocsp)
{
	static const uint8_t creq[] = { 0x01, 0x40, 0x00, 0x02, 0x04, 0x03, 0x00, 0x00 };
	/* ocsp, then an OCSPResponse of responseStatus successful (0) */
	static const uint8_t status[] = { 0x01, 0x00, 0x00, 0x07, 0x30, 0x05, 0x0a,
					  0x01, 0x00, 0xa0, 0x00 };
	const uint8_t *der[1] = { leaf_der };
	unsigned len[1] = { leaf_der_len };
	struct bytes cb = { .n = 0 };
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch12, sizeof(ch12));
	hsrec(&cv.f[1], 2, sh12, sizeof(sh12));
	hsrec(&cv.f[1], 22, status, sizeof(status));
	hsrec(&cv.f[1], 13, creq, sizeof(creq));
	hsrec(&cv.f[1], 14, NULL, 0);
	cert_body(&cb, der, len, 1);
	hsrec(&cv.f[2], 11, cb.b, cb.n);
	hsrec(&cv.f[2], 16, "\x01\x04", 2);
	put(&cv.f[2], ccs_rec, sizeof(ccs_rec));
	put(&cv.f[3], ccs_rec, sizeof(ccs_rec));
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_bool(ev, "tls.detailed.client_certificate_requested", 1);
	ck_str(ev, "tls.detailed.ocsp_response", "successful");
	ck_str(ev, "tls.client.hash.sha1", "334A84B26C16F949C1D3BDF425207D4750C3AC37");
	ck_str(ev, "tls.client.x509.subject.common_name", "test.example");
	ck_str(ev, "tls.client.subject",
	       "CN=test.example,OU=tests+OU=tls,O=pbtools,L=Amsterdam,ST=Noord-Holland,C=NL");
	ck_absent(ev, "tls.server.hash");
	ck_absent(ev, "tls.curve");  /* no ServerKeyExchange */
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* ------------------------------------------------------------- TLS 1.3 */

START_TEST(test_tls13)
{
	static const char *const ciphers[] = {
		"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
		"TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", NULL,
	};
	static const char *const groups[] = { "x25519", "secp256r1", "secp384r1", NULL };
	static const char *const versions[] = { "TLS 1.3", "TLS 1.2", NULL };
	static const char *const unparsed[] = { "23", "45", "51", NULL };
	static const char *const sh_unparsed[] = { "51", NULL };
	static const char *const cmsgs[] = { "client_hello", "change_cipher_spec", NULL };
	static const char *const smsgs[] = {
		"server_hello", "change_cipher_spec", "encrypted_handshake", NULL,
	};
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls13_convo(&cv, sh13, sizeof(sh13));
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_str(ev, "status", "OK");
	ck_str(ev, "tls.version", "1.3");
	ck_str(ev, "tls.version_protocol", "tls");
	ck_str(ev, "tls.detailed.version", "TLS 1.3");
	ck_bool(ev, "tls.established", 1);
	/* the echoed compatibility session id is no resumption */
	ck_bool(ev, "tls.resumed", 0);
	ck_str(ev, "tls.cipher", "TLS_AES_128_GCM_SHA256");
	ck_str(ev, "tls.curve", "x25519");
	ck_absent(ev, "tls.next_protocol");  /* ALPN is encrypted in 1.3 */
	ck_str(ev, "tls.client.server_name", "www.example.org");
	ck_str(ev, "tls.client.ja3", "bf93479fcddf364e28f18d69e8bd841b");
	ck_str(ev, "tls.client.ja4", "t13d0409h2_39e807bd56df_b7dbbb63159c");
	ck_str(ev, "tls.server.ja3s", "f4febc55ea12b31ae17cfb7e614afda8");
	ck_str(ev, "tls.detailed.ja3_string",
	       "771,4865-4866-4867-49195,0-23-10-11-16-13-43-45-51,29-23-24,0");
	/* GREASE is in none of the lists */
	ck_list(ev, "tls.client.supported_ciphers", ciphers);
	ck_list(ev, "tls.detailed.client_hello.extensions.supported_groups", groups);
	ck_list(ev, "tls.detailed.client_hello.extensions.supported_versions", versions);
	ck_list(ev, "tls.detailed.client_hello.extensions._unparsed_", unparsed);
	ck_str(ev, "tls.detailed.server_hello.extensions.supported_versions", "TLS 1.3");
	ck_list(ev, "tls.detailed.server_hello.extensions._unparsed_", sh_unparsed);
	ck_absent(ev, "tls.server.hash");
	ck_absent(ev, "tls.detailed.hello_retry_request");
	ck_list(ev, "tls.detailed.client_handshake_messages", cmsgs);
	ck_list(ev, "tls.detailed.server_handshake_messages", smsgs);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_tls13_split_every_byte)
{
	struct convo cv;

	tls13_convo(&cv, sh13, sizeof(sh13));
	split_identical(&cv);
}
END_TEST

START_TEST(test_tls13_psk_resumed)
{
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls13_convo(&cv, sh13_psk, sizeof(sh13_psk));
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_bool(ev, "tls.resumed", 1);
	ck_str(ev, "tls.detailed.resumption_method", "ticket");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_tls13_hello_retry)
{
	/* CH; HRR and the server's compatibility CCS; the client's CCS and
	 * second CH; the real SH, CCS and encrypted flight; the client's
	 * encrypted Finished.  Neither early CCS ends the cleartext. */
	static const char *const cmsgs[] = {
		"client_hello", "change_cipher_spec", "client_hello", "encrypted_handshake", NULL,
	};
	static const char *const smsgs[] = {
		"hello_retry_request", "change_cipher_spec", "server_hello",
		"encrypted_handshake", NULL,
	};
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch13, sizeof(ch13));
	hsrec(&cv.f[1], 2, hrr13, sizeof(hrr13));
	put(&cv.f[1], ccs_rec, sizeof(ccs_rec));
	put(&cv.f[2], ccs_rec, sizeof(ccs_rec));
	hsrec(&cv.f[2], 1, ch13, sizeof(ch13));
	hsrec(&cv.f[3], 2, sh13, sizeof(sh13));
	enc_rec(&cv.f[3], 23);
	feed(h, &cv, 0);
	ck_assert_uint_eq(h->n_ev, 0);
	{
		struct bytes fin = { .n = 0 };

		enc_rec(&fin, 23);
		th_tcp(h, 0, fin.b, fin.n);
	}
	ev = only_event(h);
	ck_bool(ev, "tls.established", 1);
	ck_bool(ev, "tls.detailed.hello_retry_request", 1);
	ck_str(ev, "tls.cipher", "TLS_AES_128_GCM_SHA256");
	ck_str(ev, "tls.curve", "x25519");
	ck_str(ev, "tls.server.ja3s", "f4febc55ea12b31ae17cfb7e614afda8");
	ck_str(ev, "tls.detailed.server_hello.random",
	       "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f");
	ck_list(ev, "tls.detailed.client_handshake_messages", cmsgs);
	ck_list(ev, "tls.detailed.server_handshake_messages", smsgs);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_tls13_without_ccs)
{
	/* no middlebox compatibility: no CCS at all.  The encrypted records
	 * after the ServerHello show both sides switched keys. */
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch13, sizeof(ch13));
	hsrec(&cv.f[1], 2, sh13, sizeof(sh13));
	enc_rec(&cv.f[1], 23);
	enc_rec(&cv.f[2], 23);
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_bool(ev, "tls.established", 1);
	ck_str(ev, "status", "OK");
	ck_assert_int_eq((int)th_num(ev, "event.duration"), 2000);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* ---------------------------------------------------- fingerprint specs */

START_TEST(test_ja4_spec_example)
{
	/* FoxIO's JA4.md example: its 15 ciphers, 16 extensions in its order,
	 * its 8 signature algorithms, ALPN h2, TLS 1.3; plus GREASE, which
	 * must change nothing.  Its JA4 and JA4_r are copied from the spec. */
	static const unsigned suites[] = {
		0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
		0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const unsigned exts[] = {
		0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
		0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xdada,
	};
	static const uint8_t sni[] = { 0x00, 0x0c, 0x00, 0x00, 0x09,
				       'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };
	static const uint8_t alpn[] = { 0x00, 0x03, 0x02, 'h', '2' };
	static const uint8_t sigs[] = { 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
					0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06,
					0x06, 0x01 };
	static const uint8_t vers[] = { 0x04, 0x03, 0x04, 0x03, 0x03 };
	static const uint8_t rnd[32] = { RAND_A };
	struct bytes body = { .n = 0 }, ex = { .n = 0 }, out = { .n = 0 };
	struct th *h = new_th();
	cJSON *ev;
	size_t i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		const uint8_t *d = NULL;
		size_t n = 0;

		if (exts[i] == 0x0000)
			d = sni, n = sizeof(sni);
		else if (exts[i] == 0x0010)
			d = alpn, n = sizeof(alpn);
		else if (exts[i] == 0x000d)
			d = sigs, n = sizeof(sigs);
		else if (exts[i] == 0x002b)
			d = vers, n = sizeof(vers);
		put16(&ex, exts[i]);
		put16(&ex, (unsigned)n);
		if (n)
			put(&ex, d, n);
	}
	put16(&body, 0x0303);
	put(&body, rnd, 32);
	put8(&body, 0);
	put16(&body, (unsigned)(2 * sizeof(suites) / sizeof(suites[0])));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		put16(&body, suites[i]);
	put8(&body, 1);
	put8(&body, 0);
	put16(&body, (unsigned)ex.n);
	put(&body, ex.b, ex.n);
	hsrec(&out, 1, body.b, body.n);
	th_tcp(h, 0, out.b, out.n);
	th_fin(h, 0);
	ev = only_event(h);
	ck_str(ev, "tls.client.ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1");
	ck_str(ev, "tls.detailed.ja4_r",
	       "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,"
	       "c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,"
	       "0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601");
	ck_str(ev, "status", "Error");
	ck_bool(ev, "tls.established", 0);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* Three ClientHello records and their JA3 from Packetbeat's tests
 * (packetbeat/protos/tls/ja3_test.go): Chrome, Safari, and a handmade
 * one.  Chrome's, read by hand: 771,49195-49199-49196-49200-52393-52392-
 * 49171-49172-156-157-47-53-10,65281-0-23-35-13-5-18-16-30032-11-10,29-
 * 23-24,0 -> 94c485bca29d5392be53f2b8cf7f4304 (GREASE 0x3a3a, 0xdada,
 * 0x6a6a and 0xaaaa left out). */
static const struct {
	const char *hex, *ja3;
} pb_ja3[] = {
	{ "16030100c2010000be03033367dfae0d46ec0651e49cca2ae47317e8989d"
	  "f710ee7570a88b9a7d5d56b3af00001c3a3ac02bc02fc02cc030cca9cca8c013"
	  "c014009c009d002f0035000a01000079dada0000ff0100010000000010000e00"
	  "000b6578616d706c652e6f72670017000000230000000d001400120403080404"
	  "01050308050501080606010201000500050100000000001200000010000e000c"
	  "02683208687474702f312e3175500000000b00020100000a000a00086a6a001d"
	  "00170018aaaa000100", "94c485bca29d5392be53f2b8cf7f4304" },
	{ "16030100db010000d703035a1de562860f7943063eaeafa6bffdcfb30b9b"
	  "54e275391ee70a720f05c5a80a00002600ffc02cc02bc024c023c00ac009c030"
	  "c02fc028c027c014c013009d009c003d003c0035002f01000088000000130011"
	  "00000e7777772e656c61737469632e636f000a00080006001700180019000b00"
	  "020100000d001200100401020105010601040302030503060333740000001000"
	  "30002e0268320568322d31360568322d31350568322d313408737064792f332e"
	  "3106737064792f3308687474702f312e31000500050100000000001200000017"
	  "0000", "c07cb55f88702033a8f52c046d23e0b2" },
	{ "160301003d010000390301ffffffffffffffffffffffffffffffffffffff"
	  "ffffffffffffffffffffffffff0000080035002f000a00ff0100000800230000"
	  "000f0000", "7a75198d3e18354a6763860d331ff46a" },
};

START_TEST(test_ja3_packetbeat_vectors)
{
	struct bytes b;
	struct th *h = new_th();
	cJSON *ev;

	hex_decode(&b, pb_ja3[_i].hex);
	th_tcp(h, 0, b.b, b.n);
	th_fin(h, 0);
	ev = only_event(h);
	ck_str(ev, "tls.client.ja3", pb_ja3[_i].ja3);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* ---------------------------------------------------------- SSLv2 hello */

START_TEST(test_sslv2_hello)
{
	static const char *const ciphers[] = {
		"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
		"SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
		"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
		"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", NULL,
	};
	struct bytes srv = { .n = 0 };
	struct th *h = new_th();
	cJSON *ev;

	th_tcp_split(h, 0, v2hello, sizeof(v2hello), 3);
	hsrec(&srv, 2, sh10, sizeof(sh10));
	th_tcp(h, 1, srv.b, srv.n);
	th_fin(h, 1);
	ev = only_event(h);
	ck_str(ev, "tls.version", "1.0");
	ck_str(ev, "tls.cipher", "TLS_RSA_WITH_AES_128_CBC_SHA");
	ck_str(ev, "tls.detailed.client_hello.version", "3.1");
	ck_bool(ev, "tls.detailed.client_hello.sslv2", 1);
	ck_str(ev, "tls.detailed.client_hello.random", "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	ck_list(ev, "tls.client.supported_ciphers", ciphers);
	ck_str(ev, "tls.client.ja3", "cebf0f3ad70b08c7d817161e2fd1722c");
	ck_str(ev, "tls.client.ja4", "t10i040000_e2f6df6ad119_000000000000");
	ck_absent(ev, "tls.detailed.server_hello.extensions");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* ------------------------------------------------------ alerts, the end */

START_TEST(test_alert_fatal)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	static const char *const types[] = { "handshake_failure", NULL };
	struct bytes c = { .n = 0 };
	struct th *h = new_th();
	cJSON *ev;
	const cJSON *a;

	hsrec(&c, 1, ch13, sizeof(ch13));
	th_tcp(h, 0, c.b, c.n);
	ck_assert_uint_eq(h->n_ev, 0);
	/* the server refuses: the event goes out at once */
	th_tcp(h, 1, alert, sizeof(alert));
	ev = only_event(h);
	ck_str(ev, "status", "Error");
	ck_bool(ev, "tls.established", 0);
	ck_list(ev, "tls.detailed.alert_types", types);
	a = cJSON_GetArrayItem(th_get(ev, "tls.detailed.alerts"), 0);
	ck_assert_int_eq((int)th_num(a, "code"), 40);
	ck_str(a, "severity", "fatal");
	ck_str(a, "source", "server");
	ck_str(a, "type", "handshake_failure");
	/* no ServerHello: the version is the ClientHello's */
	ck_str(ev, "tls.version", "1.2");
	ck_absent(ev, "tls.cipher");
	cJSON_Delete(ev);
	th_fin(h, 1);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	/* hello and alert: a request and its answer */
	ck_assert_uint_eq(h->st.transactions, 1);
	th_free(h);
}
END_TEST

START_TEST(test_alert_warning_continues)
{
	/* unrecognized_name as a warning (RFC 6066 3) does not end it */
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70 };
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	th_tcp(h, 0, cv.f[0].b, cv.f[0].n);
	th_tcp(h, 1, alert, sizeof(alert));
	ck_assert_uint_eq(h->n_ev, 0);
	th_tcp(h, 1, cv.f[1].b, cv.f[1].n);
	th_tcp(h, 0, cv.f[2].b, cv.f[2].n);
	th_tcp(h, 1, cv.f[3].b, cv.f[3].n);
	ev = only_event(h);
	ck_str(ev, "status", "OK");
	ck_bool(ev, "tls.established", 1);
	ck_str(item(ev, "tls.detailed.alerts", 0), "severity", "warning");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_not_established_fin)
{
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	th_tcp(h, 0, cv.f[0].b, cv.f[0].n);
	th_tcp(h, 1, cv.f[1].b, cv.f[1].n);
	ck_assert_uint_eq(h->n_ev, 0);
	th_fin(h, 0);
	ev = only_event(h);
	ck_str(ev, "status", "Error");
	ck_bool(ev, "tls.established", 0);
	ck_str(ev, "tls.server.x509.subject.common_name", "test.example");
	ck_assert_int_eq((int)th_num(ev, "event.duration"), 1000);
	cJSON_Delete(ev);
	/* later bytes and a close add nothing */
	th_tcp(h, 0, cv.f[2].b, cv.f[2].n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	th_tcp(h, 0, cv.f[0].b, cv.f[0].n);
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ev = only_event(h);
	ck_assert(has_note(ev, "transaction_timeout"));
	ck_str(ev, "status", "Error");
	cJSON_Delete(ev);
	th_expire(h, 60 * SEC);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* --------------------------------------------------------------- options */

START_TEST(test_options)
{
	static const char yaml[] =
		"packetbeat.protocols:\n"
		"- type: tls\n"
		"  send_certificates: false\n"
		"  include_raw_certificates: true\n"
		"  include_detailed_fields: false\n"
		"  fingerprints: [md5, SHA-256]\n";
	struct pb_conf c;
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;
	const cJSON *chain;

	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "test.yml", yaml), 0);
	ck_assert_int_eq(tls()->conf_load(h->conf, &c, "packetbeat.protocols.0"), 0);
	pb_conf_release(&c);
	tls12_convo(&cv);
	feed(h, &cv, 0);
	ev = only_event(h);
	ck_str(ev, "tls.server.hash.md5", "95571174FCC79B230EBC0D0895960E29");
	ck_str(ev, "tls.server.hash.sha256",
	       "9211AE8342421E70A3CB4209D027C5D3FB095E298A6F7B0A6BBD519E11D7FACF");
	ck_absent(ev, "tls.server.hash.sha1");
	chain = th_get(ev, "tls.server.certificate_chain");
	ck_assert_int_eq(cJSON_GetArraySize(chain), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(chain, 0)->valuestring, leaf_pem);
	ck_absent(ev, "tls.detailed");
	ck_absent(ev, "tls.server.x509");
	/* the ECS summary stays */
	ck_str(ev, "tls.server.subject",
	       "CN=test.example,OU=tests+OU=tls,O=pbtools,L=Amsterdam,ST=Noord-Holland,C=NL");
	ck_str(ev, "tls.client.ja3", "615e203e7e6271840945a6470a34784d");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_options_defaults_and_errors)
{
	static const char *const bad[] = {
		"packetbeat.protocols:\n- type: tls\n  fingerprints: [md4]\n",
		"packetbeat.protocols:\n- type: tls\n  fingerprints: {a: 1}\n",
		"packetbeat.protocols:\n- type: tls\n  send_certificates: maybe\n",
	};
	struct pb_conf c;
	void *conf = calloc(1, tls()->conf_size);
	size_t i;

	tls()->conf_init(conf);
	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t.yml",
					     "packetbeat.protocols:\n- type: tls\n  fingerprints: sha1\n"), 0);
	ck_assert_int_eq(tls()->conf_load(conf, &c, "packetbeat.protocols.0"), 0);
	pb_conf_release(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(pb_conf_init(&c), 0);
		ck_assert_int_eq(pb_conf_load_string(&c, "t.yml", bad[i]), 0);
		ck_assert_int_eq(tls()->conf_load(conf, &c, "packetbeat.protocols.0"), -1);
		ck_assert_msg(strstr(c.err, "packetbeat.protocols.0.") != NULL, "%s", c.err);
		pb_conf_release(&c);
	}
	free(conf);
}
END_TEST

/* ---------------------------------------------------------- bad input */

START_TEST(test_truncated_record)
{
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	th_tcp(h, 0, cv.f[0].b, cv.f[0].n);
	/* the server's first record, cut in the middle */
	th_tcp(h, 1, cv.f[1].b, 40);
	th_close(h);
	ev = only_event(h);
	ck_assert(has_note(ev, "ended inside a record"));
	ck_absent(ev, "tls.detailed.server_hello");
	ck_str(ev, "tls.client.server_name", "test.example");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_gap)
{
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	th_tcp(h, 0, cv.f[0].b, cv.f[0].n);
	th_tcp(h, 1, cv.f[1].b, 20);
	th_gap(h, 1, 500);
	/* nothing after the hole is parsed */
	th_tcp(h, 1, cv.f[1].b + 520, cv.f[1].n - 520);
	ck_assert_uint_eq(h->n_ev, 0);
	th_fin(h, 0);
	ev = only_event(h);
	ck_assert(has_note(ev, "gap"));
	ck_absent(ev, "tls.server");
	ck_str(ev, "tls.client.ja3", "615e203e7e6271840945a6470a34784d");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_mid_stream)
{
	/* the capture starts 7 bytes into the server's flight: the rest of
	 * the ServerHello is skipped, the certificate records are found */
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	tls12_convo(&cv);
	h->c.mid_stream[1] = 1;
	th_tcp(h, 1, cv.f[1].b + 7, cv.f[1].n - 7);
	th_tcp(h, 1, cv.f[3].b, cv.f[3].n);
	th_fin(h, 1);
	ev = only_event(h);
	ck_assert(has_note(ev, "mid-record"));
	ck_str(ev, "tls.server.hash.sha1", "334A84B26C16F949C1D3BDF425207D4750C3AC37");
	ck_absent(ev, "tls.cipher");
	ck_absent(ev, "tls.detailed.server_hello");
	/* the ServerKeyExchange tells which side is the server */
	ck_str(ev, "server.ip", "10.0.0.2");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_not_tls)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct th *h = new_th();

	th_tcp(h, 0, get, sizeof(get) - 1);
	th_tcp(h, 1, ok, sizeof(ok) - 1);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_gt(h->st.parse_errors, 0);
	th_free(h);
}
END_TEST

START_TEST(test_hostile_lengths)
{
	/* a record longer than 2^14 + 2048: not TLS */
	static const uint8_t long_rec[] = { 0x16, 0x03, 0x03, 0x48, 0x01, 0x01, 0x00 };
	/* a handshake message claiming 16 MiB, then records it swallows */
	static const uint8_t huge_msg[] = { 0x16, 0x03, 0x03, 0x00, 0x06,
					    0x01, 0xff, 0xff, 0xff, 0x03, 0x03 };
	/* a ClientHello whose session id claims 33 bytes */
	uint8_t bad_sid[sizeof(ch12)];
	/* a ClientHello whose server_name extension claims 0xffff bytes */
	uint8_t bad_ext[sizeof(ch12)];
	/* a Certificate whose list and entries lie */
	static const uint8_t bad_cert[] = { 0x00, 0x00, 0x10, 0x00, 0xff, 0xff, 0x30, 0x82 };
	struct bytes b = { .n = 0 };
	struct th *h;
	cJSON *ev;
	int k;

	h = new_th();
	th_tcp(h, 0, long_rec, sizeof(long_rec));
	th_tcp(h, 0, huge_msg, sizeof(huge_msg));
	for (k = 0; k < 3; k++)
		hsrec(&b, 1, ch12, sizeof(ch12));
	th_tcp(h, 0, b.b, b.n);
	th_close(h);
	/* the hellos inside the 16 MiB message are skipped, not parsed */
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_ge(h->st.parse_errors, 2);
	th_free(h);

	memcpy(bad_sid, ch12, sizeof(ch12));
	bad_sid[34] = 33;
	h = new_th();
	b.n = 0;
	hsrec(&b, 1, bad_sid, sizeof(bad_sid));
	th_tcp(h, 0, b.b, b.n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->st.parse_errors, 1);
	th_free(h);

	memcpy(bad_ext, ch12, sizeof(ch12));
	bad_ext[2 + 32 + 1 + 12 + 2 + 2 + 2] = 0xff;
	bad_ext[2 + 32 + 1 + 12 + 2 + 2 + 3] = 0xff;
	h = new_th();
	b.n = 0;
	hsrec(&b, 1, bad_ext, sizeof(bad_ext));
	hsrec(&b, 11, bad_cert, sizeof(bad_cert));
	th_tcp(h, 0, b.b, b.n);
	th_close(h);
	ev = only_event(h);
	ck_assert(has_note(ev, "malformed TLS handshake message"));
	/* the extensions end at the one that overruns the block: none is
	 * read, the fixed part of the hello is kept */
	ck_assert_int_eq(cJSON_GetArraySize(th_get(ev, "tls.detailed.client_hello.extensions")), 0);
	ck_str(ev, "tls.detailed.ja3_string", "771,49199-49200-156-47-255,,,");
	ck_absent(ev, "tls.client.server_name");
	ck_absent(ev, "tls.server");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_bad_certificate)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	const uint8_t *der[2] = { junk, leaf_der };
	unsigned len[2] = { sizeof(junk), leaf_der_len };
	struct bytes cb = { .n = 0 };
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch12, sizeof(ch12));
	hsrec(&cv.f[1], 2, sh12, sizeof(sh12));
	cert_body(&cb, der, len, 2);
	hsrec(&cv.f[1], 11, cb.b, cb.n);
	feed(h, &cv, 0);
	th_close(h);
	ev = only_event(h);
	ck_assert(has_note(ev, "certificate could not be parsed"));
	/* the leaf does not parse: its hash is still given, no names */
	ck_assert_ptr_nonnull(th_get(ev, "tls.server.hash.sha1"));
	ck_absent(ev, "tls.server.subject");
	ck_absent(ev, "tls.server.x509");
	ck_str(item(ev, "tls.detailed.server_certificate_chain", 0), "subject.common_name",
	       "test.example");
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

START_TEST(test_chain_cap)
{
	/* twelve certificates: ten are kept */
	const uint8_t *der[12];
	unsigned len[12], i;
	struct bytes cb = { .n = 0 };
	struct convo cv;
	struct th *h = new_th();
	cJSON *ev;

	for (i = 0; i < 12; i++) {
		der[i] = ca_der;
		len[i] = ca_der_len;
	}
	memset(&cv, 0, sizeof(cv));
	hsrec(&cv.f[0], 1, ch12, sizeof(ch12));
	cert_body(&cb, der, len, 12);
	hsrec(&cv.f[1], 11, cb.b, cb.n);
	feed(h, &cv, 0);
	th_close(h);
	ev = only_event(h);
	ck_assert(has_note(ev, "chain over the limit"));
	ck_assert_int_eq(cJSON_GetArraySize(th_get(ev, "tls.detailed.server_certificate_chain")), 9);
	cJSON_Delete(ev);
	th_free(h);
}
END_TEST

/* xorshift: the same mutations on every run */
static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

START_TEST(test_mutations)
{
	/* the TLS 1.2 conversation with bytes changed, cut short, and fed in
	 * random segments: any event must be valid JSON, and nothing may
	 * crash or read outside its input (run under ASan) */
	struct convo base, cv;
	int round, i, k;

	tls12_convo(&base);
	for (round = 0; round < 3000; round++) {
		struct th *h = new_th();
		unsigned e;

		cv = base;
		for (i = 0; i < 4; i++) {
			int flips = (int)(rnd() % 6);

			for (k = 0; k < flips && cv.f[i].n; k++)
				cv.f[i].b[rnd() % cv.f[i].n] = (uint8_t)rnd();
			if (rnd() % 8 == 0 && cv.f[i].n)
				cv.f[i].n = rnd() % cv.f[i].n;
		}
		h->c.mid_stream[1] = rnd() % 4 == 0;
		for (i = 0; i < 4; i++)
			if (cv.f[i].n)
				th_tcp_split(h, i & 1, cv.f[i].b, cv.f[i].n, 1 + rnd() % 300);
		if (rnd() % 2)
			th_expire(h, 30 * SEC);
		th_close(h);
		ck_assert_uint_le(h->n_ev, 1);
		for (e = 0; e < h->n_ev; e++) {
			cJSON *ev = th_event(h, e);

			ck_assert_msg(ev != NULL, "round %d: invalid JSON: %s", round, h->ev[e]);
			cJSON_Delete(ev);
		}
		th_free(h);
	}
}
END_TEST

/* ----------------------------------------------------------------- main */

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

	tc = tcase_create("tls12");
	tcase_add_test(tc, test_tls12_full);
	tcase_add_test(tc, test_tls12_resumed_id);
	tcase_add_test(tc, test_tls12_resumed_ticket);
	tcase_add_test(tc, test_client_certificate_and_ocsp);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls13");
	tcase_add_test(tc, test_tls13);
	tcase_add_test(tc, test_tls13_psk_resumed);
	tcase_add_test(tc, test_tls13_hello_retry);
	tcase_add_test(tc, test_tls13_without_ccs);
	suite_add_tcase(s, tc);

	tc = tcase_create("fingerprints");
	tcase_add_test(tc, test_ja4_spec_example);
	tcase_add_loop_test(tc, test_ja3_packetbeat_vectors, 0,
			    (int)(sizeof(pb_ja3) / sizeof(pb_ja3[0])));
	tcase_add_test(tc, test_sslv2_hello);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_add_test(tc, test_alert_fatal);
	tcase_add_test(tc, test_alert_warning_continues);
	tcase_add_test(tc, test_not_established_fin);
	tcase_add_test(tc, test_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_options_defaults_and_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls12_split_every_byte);
	tcase_add_test(tc, test_tls13_split_every_byte);
	tcase_add_test(tc, test_truncated_record);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_mid_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_not_tls);
	tcase_add_test(tc, test_hostile_lengths);
	tcase_add_test(tc, test_bad_certificate);
	tcase_add_test(tc, test_chain_cap);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
