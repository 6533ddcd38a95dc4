/*
 * tls.c - SSL and TLS handshakes: one event per session (pb-proto-tls(7)).
 *
 * From the SSLv2-compatible ClientHello to TLS 1.3: the record layer, the
 * hellos and their extensions, certificates (read with libcrypto),
 * alerts, and the JA3, JA3S and JA4 fingerprints.  Everything after the
 * handshake is encrypted and skipped.
 *
 * References: RFC 8446 (TLS 1.3; D.4 middlebox compatibility), RFC 5246
 * (TLS 1.2; E.2 the SSLv2-compatible ClientHello), RFC 4346, RFC 2246,
 * RFC 6101 (SSL 3.0), RFC 6066 (server_name, max_fragment_length,
 * status_request, client_certificate_url, truncated_hmac), RFC 7301
 * (ALPN), RFC 8422 (groups, point formats, ECDHE ServerKeyExchange),
 * RFC 5077 (session tickets), RFC 5746 (renegotiation_info), RFC 8701
 * (GREASE), RFC 6960 (OCSP), RFC 5280 (X.509), RFC 4514 (names as
 * strings); JA3 and JA3S: github.com/salesforce/ja3; JA4:
 * github.com/FoxIO-LLC/ja4 technical_details/JA4.md; names: the IANA TLS
 * parameters registries (cipher suites, groups, signature schemes, alerts).
 *
 * A record (RFC 5246 6.2, RFC 8446 5.1), in one or more TCP segments:
 *
 *     0        1        2        3        4        5
 *    +--------+--------+--------+--------+--------+--------------------//
 *    |  type  | major  | minor  |     length      | fragment (length)
 *    +--------+--------+--------+--------+--------+--------------------//
 *    type: 20 change_cipher_spec, 21 alert, 22 handshake,
 *          23 application_data, 24 heartbeat; length <= 2^14 + 2048
 *
 * A handshake message, in one or more type-22 records:
 *
 *    +--------+--------------------------+-------------------------//
 *    |msg_type|      length (24 bits)    | body (length bytes)
 *    +--------+--------------------------+-------------------------//
 *
 * A ClientHello body (a ServerHello has one cipher suite and one
 * compression method in place of the two lists):
 *
 *    +-------+----------------+-----+----------+-------------+-------------+
 *    |version| random (32)    | sid | session  | cipher      | compression |
 *    |  (2)  |                | len | id       | suites      | methods     |
 *    |       |                | (1) | (0..32)  | len(2)+2n   | len(1)+n    |
 *    +-------+----------------+-----+----------+-------------+-------------+
 *    | extensions: length (2), then { type (2) | length (2) | data }*     |
 *    +---------------------------------------------------------------------+
 *
 * An SSLv2-compatible ClientHello (RFC 5246 E.2), the first bytes a
 * client sends:
 *
 *    +-+---------------+--------+-------+---------+--------+-----------+
 *    |1| length (15)   |type = 1|version|spec_len |sid_len |chal_len   |
 *    +-+---------------+--------+-------+---------+--------+-----------+
 *    | cipher_specs (3 bytes each) | session_id | challenge (16..32)   |
 *    +-----------------------------+------------+----------------------+
 */
#include "proto/proto.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event/ecs.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------- limits */

#define TLS_REC_HDR 5
#define TLS_HS_HDR 4
/* RFC 5246 6.2.3: a fragment is at most 2^14 + 2048 bytes (TLSCiphertext);
 * a longer length is not TLS. */
#define TLS_MAX_FRAGMENT ((1u << 14) + 2048)
/* The largest handshake message parsed, the limit Packetbeat and Go's
 * crypto/tls use: a bigger one is skipped whole and noted. */
#define TLS_HS_MAX (1u << 16)
/* A direction's handshake buffer: a message up to TLS_HS_MAX still being
 * assembled, plus the record that completes it. */
#define TLS_HS_BUF (TLS_HS_HDR + TLS_HS_MAX + TLS_MAX_FRAGMENT)
/* Certificates kept per direction and their DER bytes in all: real chains
 * are 2 to 4 certificates of 1 to 2 KiB.  More is skipped and noted. */
#define TLS_MAX_CERTS 10
#define TLS_CHAIN_MAX (1u << 16)
/* Alerts kept per direction; a session ends at its first fatal one. */
#define TLS_MAX_ALERTS 16
/* The longest SNI host name kept (a DNS name has at most 253 bytes). */
#define TLS_SNI_MAX 255
/* Handshake messages listed per side (tls.detailed.*_handshake_messages):
 * a full TLS 1.2 flight has at most 8. */
#define TLS_MAX_MSGS 16
/* Anomalies remembered per session, in the order met. */
#define TLS_MAX_ANOM 8
/* The writer's scratch buffers (fingerprint strings, names, PEM): the
 * largest a 64 KiB hello or certificate can make them, with room. */
#define TLS_SCRATCH_MAX (1u << 20)

/* RFC 8446 4.1.3: the random of a HelloRetryRequest, SHA-256 of the
 * string "HelloRetryRequest". */
static const uint8_t tls_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ------------------------------------------------------------- names */

struct tls_name {
	uint16_t code;
	const char *name;
};

/* Cipher suites: every named entry of the IANA registry, the draft and
 * vendor code points Wireshark and Packetbeat also name (old ChaCha20
 * drafts, export-1024, GOST 28147, Salsa20, FIPS SSL), sorted by code.
 * GREASE values (RFC 8701) are never looked up: they are left out of the
 * client's list, and a selected one shows as unknown. */
static const struct tls_name tls_ciphers[] = {
	{ 0x0000, "TLS_NULL_WITH_NULL_NULL" },
	{ 0x0001, "TLS_RSA_WITH_NULL_MD5" },
	{ 0x0002, "TLS_RSA_WITH_NULL_SHA" },
	{ 0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5" },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5" },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
	{ 0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5" },
	{ 0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA" },
	{ 0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x0009, "TLS_RSA_WITH_DES_CBC_SHA" },
	{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA" },
	{ 0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA" },
	{ 0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA" },
	{ 0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA" },
	{ 0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA" },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5" },
	{ 0x0018, "TLS_DH_anon_WITH_RC4_128_MD5" },
	{ 0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA" },
	{ 0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA" },
	{ 0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA" },
	{ 0x001c, "SSL_FORTEZZA_KEA_WITH_NULL_SHA" },
	{ 0x001d, "SSL_FORTEZZA_KEA_WITH_FORTEZZA_CBC_SHA" },
	{ 0x001e, "TLS_KRB5_WITH_DES_CBC_SHA" },
	{ 0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0020, "TLS_KRB5_WITH_RC4_128_SHA" },
	{ 0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA" },
	{ 0x0022, "TLS_KRB5_WITH_DES_CBC_MD5" },
	{ 0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5" },
	{ 0x0024, "TLS_KRB5_WITH_RC4_128_MD5" },
	{ 0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5" },
	{ 0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA" },
	{ 0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA" },
	{ 0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA" },
	{ 0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5" },
	{ 0x002a, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5" },
	{ 0x002b, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5" },
	{ 0x002c, "TLS_PSK_WITH_NULL_SHA" },
	{ 0x002d, "TLS_DHE_PSK_WITH_NULL_SHA" },
	{ 0x002e, "TLS_RSA_PSK_WITH_NULL_SHA" },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA" },
	{ 0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA" },
	{ 0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA" },
	{ 0x003b, "TLS_RSA_WITH_NULL_SHA256" },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256" },
	{ 0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256" },
	{ 0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0047, "TLS_ECDH_ECDSA_WITH_NULL_SHA" },
	{ 0x0048, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA" },
	{ 0x0049, "TLS_ECDH_ECDSA_WITH_DES_CBC_SHA" },
	{ 0x004a, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x004b, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0x004c, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5" },
	{ 0x0061, "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5" },
	{ 0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA" },
	{ 0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA" },
	{ 0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA" },
	{ 0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA" },
	{ 0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256" },
	{ 0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256" },
	{ 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256" },
	{ 0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256" },
	{ 0x0080, "TLS_GOSTR341094_WITH_28147_CNT_IMIT" },
	{ 0x0081, "TLS_GOSTR341001_WITH_28147_CNT_IMIT" },
	{ 0x0082, "TLS_GOSTR341094_WITH_NULL_GOSTR3411" },
	{ 0x0083, "TLS_GOSTR341001_WITH_NULL_GOSTR3411" },
	{ 0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x008a, "TLS_PSK_WITH_RC4_128_SHA" },
	{ 0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA" },
	{ 0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA" },
	{ 0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA" },
	{ 0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA" },
	{ 0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA" },
	{ 0x0096, "TLS_RSA_WITH_SEED_CBC_SHA" },
	{ 0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA" },
	{ 0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA" },
	{ 0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA" },
	{ 0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA" },
	{ 0x009b, "TLS_DH_anon_WITH_SEED_CBC_SHA" },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256" },
	{ 0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384" },
	{ 0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256" },
	{ 0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384" },
	{ 0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256" },
	{ 0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384" },
	{ 0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00b0, "TLS_PSK_WITH_NULL_SHA256" },
	{ 0x00b1, "TLS_PSK_WITH_NULL_SHA384" },
	{ 0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256" },
	{ 0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384" },
	{ 0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256" },
	{ 0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384" },
	{ 0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256" },
	{ 0x00c6, "TLS_SM4_GCM_SM3" },
	{ 0x00c7, "TLS_SM4_CCM_SM3" },
	{ 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0x1306, "TLS_AEGIS_256_SHA512" },
	{ 0x1307, "TLS_AEGIS_128L_SHA256" },
	{ 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA" },
	{ 0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA" },
	{ 0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA" },
	{ 0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
	{ 0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA" },
	{ 0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA" },
	{ 0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA" },
	{ 0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
	{ 0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc015, "TLS_ECDH_anon_WITH_NULL_SHA" },
	{ 0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA" },
	{ 0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" },
	{ 0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA" },
	{ 0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA" },
	{ 0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA" },
	{ 0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA" },
	{ 0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA" },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA" },
	{ 0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA" },
	{ 0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA" },
	{ 0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256" },
	{ 0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384" },
	{ 0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA" },
	{ 0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256" },
	{ 0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384" },
	{ 0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc03d, "TLS_RSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc03e, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc03f, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc046, "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc047, "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc04a, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc04b, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc04c, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc04d, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc04e, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc04f, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc05a, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc05b, "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc05e, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc05f, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256" },
	{ 0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384" },
	{ 0xc070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256" },
	{ 0xc071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384" },
	{ 0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc07a, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc07b, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc07c, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc07d, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc07e, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc07f, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc08a, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc08b, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc08c, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc08d, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc08e, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc08f, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256" },
	{ 0xc093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384" },
	{ 0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256" },
	{ 0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384" },
	{ 0xc09c, "TLS_RSA_WITH_AES_128_CCM" },
	{ 0xc09d, "TLS_RSA_WITH_AES_256_CCM" },
	{ 0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM" },
	{ 0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM" },
	{ 0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8" },
	{ 0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8" },
	{ 0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8" },
	{ 0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8" },
	{ 0xc0a4, "TLS_PSK_WITH_AES_128_CCM" },
	{ 0xc0a5, "TLS_PSK_WITH_AES_256_CCM" },
	{ 0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM" },
	{ 0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM" },
	{ 0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8" },
	{ 0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8" },
	{ 0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8" },
	{ 0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8" },
	{ 0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
	{ 0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM" },
	{ 0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8" },
	{ 0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8" },
	{ 0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256" },
	{ 0xc0b1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384" },
	{ 0xc0b2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256" },
	{ 0xc0b3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384" },
	{ 0xc0b4, "TLS_SHA256_SHA256" },
	{ 0xc0b5, "TLS_SHA384_SHA384" },
	{ 0xc0ff, "TLS_ECJPAKE_WITH_AES_128_CCM_8" },
	{ 0xc100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC" },
	{ 0xc101, "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC" },
	{ 0xc102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT" },
	{ 0xc103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L" },
	{ 0xc104, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L" },
	{ 0xc105, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S" },
	{ 0xc106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S" },
	{ 0xcc13, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcc14, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcc15, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256" },
	{ 0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384" },
	{ 0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256" },
	{ 0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256" },
	{ 0xe410, "TLS_RSA_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe411, "TLS_RSA_WITH_SALSA20_SHA1" },
	{ 0xe412, "TLS_ECDHE_RSA_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe413, "TLS_ECDHE_RSA_WITH_SALSA20_SHA1" },
	{ 0xe414, "TLS_ECDHE_ECDSA_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe415, "TLS_ECDHE_ECDSA_WITH_SALSA20_SHA1" },
	{ 0xe416, "TLS_PSK_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe417, "TLS_PSK_WITH_SALSA20_SHA1" },
	{ 0xe418, "TLS_ECDHE_PSK_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe419, "TLS_ECDHE_PSK_WITH_SALSA20_SHA1" },
	{ 0xe41a, "TLS_RSA_PSK_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe41b, "TLS_RSA_PSK_WITH_SALSA20_SHA1" },
	{ 0xe41c, "TLS_DHE_PSK_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe41d, "TLS_DHE_PSK_WITH_SALSA20_SHA1" },
	{ 0xe41e, "TLS_DHE_RSA_WITH_ESTREAM_SALSA20_SHA1" },
	{ 0xe41f, "TLS_DHE_RSA_WITH_SALSA20_SHA1" },
	{ 0xfefe, "SSL_RSA_FIPS_WITH_DES_CBC_SHA" },
	{ 0xfeff, "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA" },
	{ 0xffe0, "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA" },
	{ 0xffe1, "SSL_RSA_FIPS_WITH_DES_CBC_SHA" },
};

/* SSL 2.0 cipher kinds (3 bytes), as an SSLv2-compatible hello lists
 * them beside the SSL 3.0/TLS suites (those start with a zero byte). */
static const struct {
	uint32_t code;
	const char *name;
} tls_v2_ciphers[] = {
	{ 0x010080, "SSL_CK_RC4_128_WITH_MD5" },
	{ 0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5" },
	{ 0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5" },
	{ 0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5" },
	{ 0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5" },
	{ 0x060040, "SSL_CK_DES_64_CBC_WITH_MD5" },
	{ 0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5" },
};

/* Supported groups (IANA), Packetbeat's names, sorted. */
static const struct tls_name tls_groups[] = {
	{ 0x0001, "sect163k1" }, { 0x0002, "sect163r1" }, { 0x0003, "sect163r2" },
	{ 0x0004, "sect193r1" }, { 0x0005, "sect193r2" }, { 0x0006, "sect233k1" },
	{ 0x0007, "sect233r1" }, { 0x0008, "sect239k1" }, { 0x0009, "sect283k1" },
	{ 0x000a, "sect283r1" }, { 0x000b, "sect409k1" }, { 0x000c, "sect409r1" },
	{ 0x000d, "sect571k1" }, { 0x000e, "sect571r1" }, { 0x000f, "secp160k1" },
	{ 0x0010, "secp160r1" }, { 0x0011, "secp160r2" }, { 0x0012, "secp192k1" },
	{ 0x0013, "secp192r1" }, { 0x0014, "secp224k1" }, { 0x0015, "secp224r1" },
	{ 0x0016, "secp256k1" }, { 0x0017, "secp256r1" }, { 0x0018, "secp384r1" },
	{ 0x0019, "secp521r1" }, { 0x001a, "brainpoolP256r1" },
	{ 0x001b, "brainpoolP384r1" }, { 0x001c, "brainpoolP512r1" },
	{ 0x001d, "x25519" }, { 0x001e, "x448" },
	{ 0x001f, "brainpoolP256r1tls13" }, { 0x0020, "brainpoolP384r1tls13" },
	{ 0x0021, "brainpoolP512r1tls13" }, { 0x0022, "GC256A" },
	{ 0x0023, "GC256B" }, { 0x0024, "GC256C" }, { 0x0025, "GC256D" },
	{ 0x0026, "GC512A" }, { 0x0027, "GC512B" }, { 0x0028, "GC512C" },
	{ 0x0029, "curveSM2" },
	{ 0x0100, "ffdhe2048" }, { 0x0101, "ffdhe3072" }, { 0x0102, "ffdhe4096" },
	{ 0x0103, "ffdhe6144" }, { 0x0104, "ffdhe8192" },
	{ 0x0200, "MLKEM512" }, { 0x0201, "MLKEM768" }, { 0x0202, "MLKEM1024" },
	{ 0x11eb, "SecP256r1MLKEM768" }, { 0x11ec, "X25519MLKEM768" },
	{ 0x11ed, "SecP384r1MLKEM1024" },
	{ 0x6399, "X25519Kyber768Draft00" }, { 0x639a, "SecP256r1Kyber768Draft00" },
	{ 0xff01, "arbitrary_explicit_prime_curves" },
	{ 0xff02, "arbitrary_explicit_char2_curves" },
};

/* Signature schemes: Packetbeat's names for the ones it knows (so
 * 0x0804 is rsa_pss_sha256, which IANA calls rsa_pss_rsae_sha256), the
 * IANA names for the rest, sorted. */
static const struct tls_name tls_sigs[] = {
	{ 0x0201, "rsa_pkcs1_sha1" }, { 0x0203, "ecdsa_sha1" },
	{ 0x0401, "rsa_pkcs1_sha256" }, { 0x0403, "ecdsa_secp256r1_sha256" },
	{ 0x0501, "rsa_pkcs1_sha384" }, { 0x0503, "ecdsa_secp384r1_sha384" },
	{ 0x0601, "rsa_pkcs1_sha512" }, { 0x0603, "ecdsa_secp521r1_sha512" },
	{ 0x0708, "sm2sig_sm3" },
	{ 0x0709, "gostr34102012_256a" }, { 0x070a, "gostr34102012_256b" },
	{ 0x070b, "gostr34102012_256c" }, { 0x070c, "gostr34102012_256d" },
	{ 0x070d, "gostr34102012_512a" }, { 0x070e, "gostr34102012_512b" },
	{ 0x070f, "gostr34102012_512c" },
	{ 0x0804, "rsa_pss_sha256" }, { 0x0805, "rsa_pss_sha384" },
	{ 0x0806, "rsa_pss_sha512" }, { 0x0807, "ed25519" }, { 0x0808, "ed448" },
	{ 0x0809, "rsa_pss_pss_sha256" }, { 0x080a, "rsa_pss_pss_sha384" },
	{ 0x080b, "rsa_pss_pss_sha512" },
	{ 0x081a, "ecdsa_brainpoolP256r1tls13_sha256" },
	{ 0x081b, "ecdsa_brainpoolP384r1tls13_sha384" },
	{ 0x081c, "ecdsa_brainpoolP512r1tls13_sha512" },
	{ 0x0904, "mldsa44" }, { 0x0905, "mldsa65" }, { 0x0906, "mldsa87" },
};

/* Alert descriptions: Packetbeat's names, and the IANA names of the
 * alerts it does not know, sorted. */
static const struct tls_name tls_alert_names[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" },
	{ 20, "bad_record_mac" }, { 21, "decryption_failed" },
	{ 22, "record_overflow" }, { 30, "decompression_failure" },
	{ 40, "handshake_failure" }, { 41, "no_certificate_RESERVED" },
	{ 42, "bad_certificate" }, { 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" }, { 45, "certificate_expired" },
	{ 46, "certificate_unknown" }, { 47, "illegal_parameter" },
	{ 48, "unknown_ca" }, { 49, "access_denied" }, { 50, "decode_error" },
	{ 51, "decrypt_error" }, { 52, "too_many_cids_requested" },
	{ 60, "export_restriction_RESERVED" }, { 70, "protocol_version" },
	{ 71, "insufficient_security" }, { 80, "internal_error" },
	{ 86, "inappropriate_fallback" }, { 90, "user_canceled" },
	{ 100, "no_renegotiation" }, { 109, "missing_extension" },
	{ 110, "unsupported_extension" }, { 111, "certificate_unobtainable" },
	{ 112, "unrecognized_name" }, { 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value" }, { 115, "unknown_psk_identity" },
	{ 116, "certificate_required" }, { 120, "no_application_protocol" },
	{ 121, "ech_required" },
};

/* The extensions Packetbeat names, with its labels (the keys under
 * tls.detailed.*_hello.extensions); any other shows in _unparsed_ as its
 * decimal number. */
static const struct tls_name tls_ext_names[] = {
	{ 0, "server_name_indication" }, { 1, "max_fragment_length" },
	{ 2, "client_certificate_url" }, { 3, "trusted_ca_keys" },
	{ 4, "truncated_hmac" }, { 5, "status_request" }, { 6, "user_mapping" },
	{ 7, "client_authz" }, { 8, "server_authz" }, { 9, "cert_type" },
	{ 10, "supported_groups" }, { 11, "ec_points_formats" }, { 12, "srp" },
	{ 13, "signature_algorithms" },
	{ 16, "application_layer_protocol_negotiation" },
	{ 35, "session_ticket" }, { 43, "supported_versions" },
	{ 0xff01, "renegotiation_info" },
};

#define TLS_N(a) (sizeof(a) / sizeof((a)[0]))

/* Name of code in a sorted table, or NULL. */
static const char *tls_lookup(const struct tls_name *t, size_t n, unsigned code)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid].code == code)
			return t[mid].name;
		if (t[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* RFC 8701: the sixteen GREASE values 0x0a0a, 0x1a1a, ... 0xfafa. */
static int tls_grease(unsigned v)
{
	return v <= 0xffff && (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---------------------------------------------------------- anomalies */

/*
 * What went wrong in a session.  pb-proto-tls(7) names each without the
 * AN_ (TLS_BAD_RECORD for TLS_AN_BAD_RECORD, ...), and its message
 * goes into the event's error.message, in the order met, once each.
 */
enum {
	/* errors in the input, also counted as parse errors */
	TLS_AN_BAD_RECORD,     /* a record header that is not TLS */
	TLS_AN_BAD_HANDSHAKE,  /* a handshake message that breaks its format */
	TLS_AN_HANDSHAKE_TOO_LARGE, /* a handshake message over TLS_HS_MAX */
	TLS_AN_BAD_CERTIFICATE, /* a certificate libcrypto cannot read */
	/* remarks */
	TLS_AN_MID_STREAM,     /* started inside a record: resynchronised */
	TLS_AN_CHAIN_CAPPED,   /* certificates past TLS_MAX_CERTS/CHAIN_MAX */
	TLS_AN_ALERTS_CAPPED,  /* alerts past TLS_MAX_ALERTS */
	TLS_AN_GAP,            /* bytes missing: that direction stopped */
	TLS_AN_TRUNCATED,      /* the stream ended inside a record */
	TLS_AN_TIMEOUT,        /* quiet for transaction_timeout, unfinished */
};

/* The messages: error.message keeps a pointer, so they are constants. */
static const char *const tls_an_msg[] = {
	[TLS_AN_MID_STREAM] = "TLS stream picked up mid-record; resynchronised on a record header",
	[TLS_AN_BAD_RECORD] = "invalid TLS record header; bytes skipped to the next record",
	[TLS_AN_BAD_HANDSHAKE] = "malformed TLS handshake message",
	[TLS_AN_HANDSHAKE_TOO_LARGE] = "TLS handshake message over 64 KiB skipped",
	[TLS_AN_BAD_CERTIFICATE] = "a certificate could not be parsed",
	[TLS_AN_CHAIN_CAPPED] = "certificate chain over the limit; the rest not kept",
	[TLS_AN_ALERTS_CAPPED] = "too many TLS alerts; the rest not kept",
	[TLS_AN_GAP] = "gap in the TCP stream; that direction was not parsed further",
	[TLS_AN_TRUNCATED] = "TLS stream ended inside a record",
	[TLS_AN_TIMEOUT] = "TLS handshake unfinished after transaction_timeout",
};

/* --------------------------------------------------------------- conf */

/* The certificate hashes tls.*.hash may hold (option fingerprints). */
enum { TLS_FP_MD5 = 1, TLS_FP_SHA1 = 2, TLS_FP_SHA256 = 4 };

/* The options of a packetbeat.protocols entry of type tls, as Packetbeat's
 * protos/tls/config.go names and defaults them. */
struct tls_conf {
	int send_certificates;        /* the certificates' details */
	int include_raw_certificates; /* the chains in PEM */
	int include_detailed_fields;  /* tls.detailed.* and x509 */
	unsigned fingerprints;        /* TLS_FP_* hashes of the leaf */
};

/* Packetbeat's defaults: certificates and details on, PEM off, SHA-1. */
static void tls_conf_init(void *conf)
{
	struct tls_conf *cf = conf;

	cf->send_certificates = 1;
	cf->include_raw_certificates = 0;
	cf->include_detailed_fields = 1;
	cf->fingerprints = TLS_FP_SHA1;
}

/* One fingerprint algorithm name, as Packetbeat accepts them (any case,
 * "sha-1" and "sha-256" too); 0 when unknown. */
static unsigned tls_fp_bit(const char *s)
{
	if (!s)
		return 0;
	if (strcasecmp(s, "md5") == 0)
		return TLS_FP_MD5;
	if (strcasecmp(s, "sha1") == 0 || strcasecmp(s, "sha-1") == 0)
		return TLS_FP_SHA1;
	if (strcasecmp(s, "sha256") == 0 || strcasecmp(s, "sha-256") == 0)
		return TLS_FP_SHA256;
	return 0;
}

/* conf_load reports -1, with the message pb_conf_fail leaves in c->err. */
static int tls_conf_fail(struct pb_conf *c, const char *path, const char *why)
{
	pb_conf_fail(c, path, why);
	return -1;
}

/* The options under prefix ("packetbeat.protocols.2"); absent keys keep
 * their defaults, wrong ones fail with the file, line and key. */
static int tls_conf_load(void *conf, struct pb_conf *c, const char *prefix)
{
	struct tls_conf *cf = conf;
	const struct pb_conf_node *n, *k;
	char path[256];
	unsigned bits = 0;

#define TLS_KEY(k) (snprintf(path, sizeof(path), "%s.%s", prefix, k), path)
	if (pb_conf_bool(c, TLS_KEY("send_certificates"), &cf->send_certificates) < 0 ||
	    pb_conf_bool(c, TLS_KEY("include_raw_certificates"),
			 &cf->include_raw_certificates) < 0 ||
	    pb_conf_bool(c, TLS_KEY("include_detailed_fields"),
			 &cf->include_detailed_fields) < 0)
		return -1;
	n = pb_conf_get(c, TLS_KEY("fingerprints"));
#undef TLS_KEY
	if (!n)
		return 0;
	/* a list of names, or one name on its own */
	if (n->kind == PB_CONF_SCALAR) {
		if (!(bits = tls_fp_bit(n->value)))
			return tls_conf_fail(c, path, "unknown fingerprint algorithm "
					     "(expected md5, sha1 or sha256)");
	} else if (n->kind == PB_CONF_SEQ) {
		for (k = n->child; k; k = k->next) {
			unsigned b = k->kind == PB_CONF_SCALAR ? tls_fp_bit(k->value) : 0;

			if (!b)
				return tls_conf_fail(c, path, "unknown fingerprint algorithm "
						     "(expected md5, sha1 or sha256)");
			bits |= b;
		}
	} else {
		return tls_conf_fail(c, path, "expected a list of md5, sha1, sha256");
	}
	/* an empty list asks for no hash at all */
	cf->fingerprints = bits;
	return 0;
}

/* -------------------------------------------------------------- state */

enum { TLS_ROLE_NONE, TLS_ROLE_CLIENT, TLS_ROLE_SERVER };
/* What a side sent, as listed in tls.detailed.*_handshake_messages: a
 * handshake type (0-255), or one of these. */
enum {
	TLS_MSG_CCS = 0x100,       /* change_cipher_spec */
	TLS_MSG_HRR,               /* a ServerHello that is a HelloRetryRequest */
	TLS_MSG_FINISHED,          /* TLS <= 1.2: the encrypted record after CCS */
	TLS_MSG_ENCRYPTED,         /* TLS 1.3: the first encrypted record */
};
/* Why a direction looks for a record boundary: after bytes that were not
 * a record header, or because its capture began mid-stream. */
enum { TLS_SYNC_NONE, TLS_SYNC_BAD, TLS_SYNC_MID };

/* One direction of the connection: what its endpoint sent. */
struct tls_dir {
	struct pb_buf hs;       /* handshake bytes not yet a whole message */
	uint32_t hs_skip;       /* bytes still to skip of an oversized message */
	uint8_t *hello;         /* a copy of the hello's body (see tls_emit) */
	uint32_t hello_len;
	uint8_t hello_v2;       /* it is an SSLv2-compatible CLIENT-HELLO */
	uint8_t hello_server;   /* it is a ServerHello */
	uint8_t role;           /* TLS_ROLE_*, from the messages sent */
	uint8_t begun;          /* the first bytes have been looked at */
	uint8_t resync;         /* looking for a record header: TLS_SYNC_* */
	uint8_t dead;           /* a gap: nothing more is parsed */
	uint8_t partial;        /* the last call left a record incomplete */
	uint8_t ccs;            /* TLS <= 1.2: ChangeCipherSpec sent ... */
	uint8_t enc;            /* ... so later handshake records are encrypted */
	uint8_t done13;         /* TLS 1.3: CCS or encrypted record after SH */
	uint8_t finished;       /* an encrypted Finished followed the CCS */
	uint16_t msgs[TLS_MAX_MSGS];  /* what it sent, in order: TLS_MSG_* */
	unsigned n_msgs;
	uint8_t offered13;      /* the ClientHello offered TLS 1.3 */
	uint8_t key_exchanged;  /* a Client/ServerKeyExchange: a full handshake */
	uint8_t cert_requested; /* the server sent a CertificateRequest */
	uint8_t chain_capped;
	uint8_t *cert[TLS_MAX_CERTS];   /* DER copies, leaf first */
	uint32_t cert_len[TLS_MAX_CERTS];
	unsigned n_certs;
	uint32_t chain_bytes;
	uint8_t alert[TLS_MAX_ALERTS][2];  /* level, description */
	unsigned n_alerts;
	int ocsp;               /* OCSP responseStatus + 1; 0 when none */
};

/* One connection: one session. */
struct tls_state {
	struct tls_dir d[2];
	uint8_t inited;         /* the buffers have their caps */
	uint8_t started;        /* a byte was seen: start_ns is set */
	uint8_t sent;           /* the event went out: the rest is ignored */
	uint8_t established;
	uint8_t fatal;          /* a fatal alert was seen */
	uint8_t sh_real;        /* a ServerHello that is no HelloRetryRequest */
	uint8_t hrr;            /* the server asked for a HelloRetryRequest */
	uint8_t v13;            /* the real ServerHello selected TLS 1.3 */
	uint8_t has_curve;
	uint16_t curve;         /* the ECDHE group of the key exchange */
	uint16_t cipher;        /* the suite the last ServerHello selected */
	int64_t start_ns, end_ns, last_ns;
	uint64_t first_pkt, last_pkt;
	uint8_t anom[TLS_MAX_ANOM];
	unsigned n_anom;
	char sni[TLS_SNI_MAX + 1];  /* for the event's domain and hosts */
	size_t sni_len;
};

/* Note anomaly a for the session (once) and count input errors. */
static void tls_anomaly(struct pb_txn_conn *c, struct tls_state *st, unsigned a)
{
	unsigned i;

	/* malformed input counts as a parse error each time it is met */
	if (c->st && a <= TLS_AN_BAD_CERTIFICATE)
		c->st->parse_errors++;
	for (i = 0; i < st->n_anom; i++)
		if (st->anom[i] == a)
			return;
	if (st->n_anom < TLS_MAX_ANOM)
		st->anom[st->n_anom++] = (uint8_t)a;
}

/* The state comes zeroed; the buffers get their caps on first use. */
static void tls_state_init(struct tls_state *st)
{
	int i;

	if (st->inited)
		return;
	st->inited = 1;
	for (i = 0; i < 2; i++)
		pb_buf_init(&st->d[i].hs, TLS_HS_BUF);
}

/* Free what the state points to; it stays usable (and sent). */
static void tls_release(struct tls_state *st)
{
	int i;
	unsigned k;

	for (i = 0; i < 2; i++) {
		struct tls_dir *d = &st->d[i];

		if (st->inited)
			pb_buf_release(&d->hs);
		free(d->hello);
		d->hello = NULL;
		d->hello_len = 0;
		for (k = 0; k < d->n_certs; k++)
			free(d->cert[k]);
		d->n_certs = 0;
		d->chain_bytes = 0;
	}
}

/* ------------------------------------------------------------- hellos */

/*
 * A hello read in place: pointers into the body it was read from, which
 * is always a copy the state owns (never parse()'s data), so the writer
 * can read it again when the session is written.
 */
struct tls_hello {
	int server, v2;
	uint16_t version;            /* legacy_version (client_version) */
	const uint8_t *random;       /* or the SSLv2 challenge */
	size_t random_len;
	const uint8_t *sid;
	size_t sid_len;
	const uint8_t *suites;       /* client: 2 bytes each, 3 for SSLv2 */
	size_t suites_len;
	const uint8_t *comp;         /* client: compression methods */
	size_t comp_len;
	uint16_t cipher;             /* server: the selected suite ... */
	uint8_t comp_sel;            /* ... and compression method */
	const uint8_t *ext;          /* the extensions, without their length */
	size_t ext_len;
	int has_ext;                 /* an extensions block was present */
	int ext_bad;                 /* ... and breaks its format somewhere */
};

/* One extension: its type and a cursor over exactly its data. */
struct tls_ext {
	uint16_t type;
	struct pb_cur body;
};

/*
 * The next extension of the block under it: type (2), length (2), data.
 * 0 at the end, or at an extension whose length overruns the block,
 * which leaves the iterator not ok: everything before it is still read,
 * nothing after (there is no telling where the next one would start).
 * Each step takes at least 4 bytes, so a block of n bytes ends the loop
 * within n/4 steps.
 */
static int tls_ext_next(struct pb_cur *it, struct tls_ext *e)
{
	uint16_t len;

	if (!pb_cur_ok(it) || pb_cur_left(it) < 4)
		return 0;
	e->type = pb_cur_be16(it);
	len = pb_cur_be16(it);
	if (len > pb_cur_left(it)) {
		pb_cur_invalid(it);
		return 0;
	}
	e->body = pb_cur_sub(it, len);
	return 1;
}

/* An iterator over a hello's extensions (none when it had no block). */
static void tls_ext_start(struct pb_cur *it, const struct tls_hello *h)
{
	pb_cur_init(it, h->ext ? h->ext : (const uint8_t *)"", h->ext ? h->ext_len : 0);
}

/* The first extension of a type; 0 when absent. */
static int tls_ext_find(const struct tls_hello *h, uint16_t type, struct pb_cur *body)
{
	struct pb_cur it;
	struct tls_ext e;

	tls_ext_start(&it, h);
	while (tls_ext_next(&it, &e))
		if (e.type == type) {
			*body = e.body;
			return 1;
		}
	return 0;
}

/* Read a hello body; 0, or -1 when its fixed part is malformed (an
 * extensions block that breaks its format only sets ext_bad). */
static int tls_hello_read(struct tls_hello *h, const uint8_t *p, size_t n,
			  int server, int v2)
{
	struct pb_cur cu, sub, it;
	struct tls_ext e;
	unsigned sl, cl, ml, chl;

	memset(h, 0, sizeof(*h));
	h->server = server;
	h->v2 = v2;
	pb_cur_init(&cu, p, n);
	if (v2) {
		/* RFC 5246 E.2: the version, then the three lengths ... */
		h->version = pb_cur_be16(&cu);
		cl = pb_cur_be16(&cu);
		sl = pb_cur_be16(&cu);
		chl = pb_cur_be16(&cu);
		/* ... which must be whole 3-byte specs, a session id of at
		 * most 32 bytes and a challenge of 16 to 32 */
		if (!pb_cur_ok(&cu) || cl % 3 || sl > 32 || chl < 16 || chl > 32)
			return -1;
		h->suites = pb_cur_bytes(&cu, cl);
		h->suites_len = cl;
		h->sid = pb_cur_bytes(&cu, sl);
		h->sid_len = sl;
		/* the challenge stands in for the client random */
		h->random = pb_cur_bytes(&cu, chl);
		h->random_len = chl;
		/* and nothing may follow: the record length said so */
		return pb_cur_ok(&cu) && pb_cur_left(&cu) == 0 ? 0 : -1;
	}
	/* legacy_version and the 32-byte random (RFC 8446 4.1.2) */
	h->version = pb_cur_be16(&cu);
	h->random = pb_cur_bytes(&cu, 32);
	h->random_len = 32;
	/* a ServerHello of a TLS 1.3 draft before -22 (version 0x7f00 + the
	 * draft) has neither a session id nor a compression method: the
	 * suite follows the random (draft-ietf-tls-tls13-18 section 4.1.3;
	 * draft-22 brought legacy_session_id_echo back) */
	if (server && (h->version & 0xff00) == 0x7f00 && (h->version & 0xff) < 22) {
		h->cipher = pb_cur_be16(&cu);
		goto fixed_done;
	}
	/* the session id is 0..32 bytes (RFC 5246 7.4.1.2): a longer one
	 * means this is not a hello at all */
	sl = pb_cur_u8(&cu);
	if (sl > 32)
		return -1;
	h->sid = pb_cur_bytes(&cu, sl);
	h->sid_len = sl;
	if (server) {
		/* the server picks one suite and one compression method */
		h->cipher = pb_cur_be16(&cu);
		h->comp_sel = pb_cur_u8(&cu);
	} else {
		/* the client lists suites, 2 bytes each: an odd length is
		 * no list, so no hello */
		cl = pb_cur_be16(&cu);
		if (cl % 2)
			return -1;
		h->suites = pb_cur_bytes(&cu, cl);
		h->suites_len = cl;
		/* then its compression methods, a byte each */
		ml = pb_cur_u8(&cu);
		h->comp = pb_cur_bytes(&cu, ml);
		h->comp_len = ml;
	}
fixed_done:
	/* a fixed part cut short is no hello */
	if (!pb_cur_ok(&cu))
		return -1;
	/* SSL 3.0 and early TLS hellos may end here, without extensions */
	if (pb_cur_left(&cu) == 0)
		return 0;
	/* the extensions block: what it declares, or what there is of it
	 * when it declares more (kept, and marked bad) */
	h->has_ext = 1;
	sub = pb_cur_sub(&cu, pb_cur_be16(&cu));
	h->ext = sub.start;
	h->ext_len = pb_cur_left(&sub);
	if (!pb_cur_ok(&cu) || pb_cur_left(&cu) != 0)
		h->ext_bad = 1;
	/* every extension must fit the block exactly: walk it once here so
	 * the writer's walks meet no surprise the anomaly did not name */
	tls_ext_start(&it, h);
	while (tls_ext_next(&it, &e))
		;
	if (!pb_cur_ok(&it) || pb_cur_left(&it) != 0)
		h->ext_bad = 1;
	return 0;
}

/* The version a supported_versions extension holds: a ServerHello's
 * selected one (2 bytes), or the highest non-GREASE one a ClientHello
 * offers; 0 when absent or empty. */
static unsigned tls_supported_version(const struct tls_hello *h)
{
	struct pb_cur b, l;
	unsigned best = 0, v;

	if (!tls_ext_find(h, 43, &b))
		return 0;
	/* RFC 8446 4.2.1: a ServerHello holds the selected version alone */
	if (h->server)
		return pb_cur_left(&b) == 2 ? pb_cur_be16(&b) : 0;
	/* a ClientHello a 1-byte length and 2-byte versions; a list cut
	 * short is read as far as it goes */
	l = pb_cur_sub(&b, pb_cur_u8(&b));
	while (pb_cur_left(&l) >= 2) {
		v = pb_cur_be16(&l);
		if (!tls_grease(v) && v > best)
			best = v;
	}
	return best;
}

static int tls_is13(unsigned v)
{
	/* 0x0304, and the 0x7fxx of the TLS 1.3 drafts */
	return v == 0x0304 || (v >> 8) == 0x7f;
}

/* ----------------------------------------------------- handshake body */

/* A side's role is set by the first message only one role sends; a
 * contradiction later (garbage, or a confused peer) changes nothing. */
static void tls_role(struct tls_state *st, int dir, int role)
{
	if (st->d[dir].role == TLS_ROLE_NONE)
		st->d[dir].role = (uint8_t)role;
}

/* Add to the list of what a side sent; past TLS_MAX_MSGS the list stops
 * (a renegotiation or a stream of junk cannot grow it). */
static void tls_msg(struct tls_dir *d, unsigned code)
{
	if (d->n_msgs < TLS_MAX_MSGS)
		d->msgs[d->n_msgs++] = (uint16_t)code;
}

/*
 * Keep a copy of a hello's body; 0, or -1 when out of memory.  The body
 * is at most TLS_HS_MAX bytes (an SSLv2 hello at most 32 KiB), and a side
 * keeps one: the event is written from this copy, so parse()'s bytes are
 * never held past the call.
 */
static int tls_keep_hello(struct tls_dir *d, const uint8_t *p, size_t n, int v2,
			  int server)
{
	uint8_t *copy = malloc(n ? n : 1);

	/* without memory the event just lacks this hello */
	if (!copy)
		return -1;
	memcpy(copy, p, n);
	free(d->hello);
	d->hello = copy;
	d->hello_len = (uint32_t)n;
	d->hello_v2 = (uint8_t)v2;
	d->hello_server = (uint8_t)server;
	return 0;
}

static void tls_client_hello(struct pb_txn_conn *c, struct tls_state *st, int dir,
			     const uint8_t *p, size_t n, int v2)
{
	struct tls_dir *d = &st->d[dir];
	struct tls_hello h;

	tls_role(st, dir, TLS_ROLE_CLIENT);
	/* a hello whose fixed part breaks is not kept: no half-truths */
	if (tls_hello_read(&h, p, n, 0, v2) < 0) {
		tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
		return;
	}
	/* bad extensions are noted, and the hello kept up to them */
	if (h.ext_bad)
		tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
	/* offering TLS 1.3 changes what a ChangeCipherSpec means (tls_ccs) */
	if (tls_is13(tls_supported_version(&h)))
		d->offered13 = 1;
	/* the first ClientHello is the one reported and fingerprinted: a
	 * second one after a HelloRetryRequest differs only as asked */
	if (!d->hello)
		tls_keep_hello(d, p, n, v2, 0);
}

static void tls_server_hello(struct pb_txn_conn *c, struct tls_state *st, int dir,
			     const uint8_t *p, size_t n)
{
	struct tls_dir *d = &st->d[dir];
	struct tls_hello h;
	struct pb_cur ks;

	tls_role(st, dir, TLS_ROLE_SERVER);
	if (tls_hello_read(&h, p, n, 1, 0) < 0) {
		tls_msg(d, 2);
		tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
		return;
	}
	if (h.ext_bad)
		tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
	/* the latest ServerHello is reported: the real one after an HRR */
	tls_keep_hello(d, p, n, 0, 1);
	st->cipher = h.cipher;
	/* an HRR is a ServerHello with a fixed random (RFC 8446 4.1.3): the
	 * client answers with a second ClientHello, all still in clear */
	if (memcmp(h.random, tls_hrr_random, 32) == 0) {
		st->hrr = 1;
		tls_msg(d, TLS_MSG_HRR);
		return;
	}
	tls_msg(d, 2);
	st->sh_real = 1;
	/* the version is in supported_versions since TLS 1.3; the legacy
	 * field says 1.2 (RFC 8446 4.1.3) */
	st->v13 = (uint8_t)tls_is13(tls_supported_version(&h));
	/* TLS 1.3: the key_share's group is the curve (RFC 8446 4.2.8) */
	if (st->v13 && tls_ext_find(&h, 51, &ks) && pb_cur_left(&ks) >= 2) {
		st->curve = pb_cur_be16(&ks);
		st->has_curve = 1;
	}
}

/* Certificate (RFC 5246 7.4.2; RFC 8446 4.4.2 adds a request context and
 * per-certificate extensions).  The DER of each is copied, within caps. */
static void tls_certificates(struct pb_txn_conn *c, struct tls_state *st, int dir,
			     const uint8_t *p, size_t n)
{
	struct tls_dir *d = &st->d[dir];
	struct pb_cur cu, list;
	int v13 = st->sh_real && st->v13;

	pb_cur_init(&cu, p, n);
	/* TLS 1.3 (only seen in clear if keys were never applied): the
	 * certificate_request_context first */
	if (v13)
		pb_cur_skip(&cu, pb_cur_u8(&cu));
	/* the list, with a 24-bit length that must be the rest exactly; a
	 * longer claim is read as far as the message goes */
	list = pb_cur_sub(&cu, pb_cur_be24(&cu));
	if (!pb_cur_ok(&cu) || pb_cur_left(&cu) != 0)
		tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
	/* each entry takes 3 bytes or more, so the loop is bounded by n */
	while (pb_cur_left(&list) >= 3) {
		uint32_t len = pb_cur_be24(&list);
		const uint8_t *der = pb_cur_bytes(&list, len);
		uint8_t *copy;

		/* an entry overrunning the list ends it */
		if (!der) {
			tls_anomaly(c, st, TLS_AN_BAD_HANDSHAKE);
			break;
		}
		/* TLS 1.3: each certificate has its own extensions */
		if (v13)
			pb_cur_skip(&list, pb_cur_be16(&list));
		if (len == 0)
			continue;
		/* within the caps only: the rest is counted, not kept */
		if (d->n_certs >= TLS_MAX_CERTS || len > TLS_CHAIN_MAX - d->chain_bytes) {
			tls_anomaly(c, st, TLS_AN_CHAIN_CAPPED);
			d->chain_capped = 1;
			continue;
		}
		/* a copy: the DER is parsed when the event is written */
		if (!(copy = malloc(len)))
			break;
		memcpy(copy, der, len);
		d->cert[d->n_certs] = copy;
		d->cert_len[d->n_certs++] = len;
		d->chain_bytes += len;
	}
}

/* The suite's name says ECDHE or ECDH_anon: its ServerKeyExchange starts
 * with ECParameters (RFC 8422 5.4). */
static int tls_cipher_ecdhe(unsigned cipher)
{
	const char *nm = tls_lookup(tls_ciphers, TLS_N(tls_ciphers), cipher);

	return nm && (strstr(nm, "_ECDHE_") || strstr(nm, "_ECDH_anon_"));
}

static void tls_server_key_exchange(struct tls_state *st, const uint8_t *p, size_t n)
{
	struct pb_cur cu;

	/* only an (EC)DHE suite's parameters name a curve; DHE gives a prime
	 * and RSA key exchange sends none */
	if (st->has_curve || !tls_cipher_ecdhe(st->cipher))
		return;
	/* ECParameters: curve_type 3 is named_curve, followed by the group
	 * (types 1 and 2, explicit curves, are deprecated and not named) */
	pb_cur_init(&cu, p, n);
	if (pb_cur_u8(&cu) == 3) {
		st->curve = pb_cur_be16(&cu);
		st->has_curve = (uint8_t)pb_cur_ok(&cu);
	}
}

/* CertificateStatus (RFC 6066 8): status_type 1 (ocsp) and an
 * OCSPResponse, whose first field is its responseStatus (RFC 6960
 * 4.2.1): SEQUENCE { ENUMERATED, ... }. */
static void tls_certificate_status(struct tls_dir *d, const uint8_t *p, size_t n)
{
	struct pb_cur cu, der;
	unsigned lb, k;

	pb_cur_init(&cu, p, n);
	/* status_type 1 is ocsp; ocsp_multi (2) carries a list: not read */
	if (pb_cur_u8(&cu) != 1)
		return;
	der = pb_cur_sub(&cu, pb_cur_be24(&cu));
	/* the OCSPResponse SEQUENCE ... */
	if (pb_cur_u8(&der) != 0x30)
		return;
	/* ... and its DER length: short form, or 0x8k and k bytes; the
	 * value itself is not needed, only stepping over it */
	lb = pb_cur_u8(&der);
	if (lb & 0x80) {
		k = lb & 0x7f;
		if (k == 0 || k > 4)
			return;
		pb_cur_skip(&der, k);
	}
	/* responseStatus: ENUMERATED (0x0a) of one byte */
	if (pb_cur_u8(&der) != 0x0a || pb_cur_u8(&der) != 1)
		return;
	k = pb_cur_u8(&der);
	/* kept plus one, so that 0 can mean "none seen" */
	if (pb_cur_ok(&der))
		d->ocsp = (int)k + 1;
}

/*
 * One whole handshake message of a direction (RFC 5246 7.4, RFC 8446 4).
 * Each message also says which side sent it: hellos and key exchanges
 * are one side's only, so the client is known even when the capture
 * started after the SYN.
 */
static void tls_handshake_msg(struct pb_txn_conn *c, struct tls_state *st, int dir,
			      unsigned type, const uint8_t *p, size_t n)
{
	struct tls_dir *d = &st->d[dir];

	/* a ServerHello is listed by tls_server_hello: it may be an HRR */
	if (type != 2)
		tls_msg(d, type);
	switch (type) {
	case 0:  /* hello_request */
	case 14: /* server_hello_done: the end of a TLS <= 1.2 server flight */
		tls_role(st, dir, TLS_ROLE_SERVER);
		break;
	case 1:
		tls_client_hello(c, st, dir, p, n, 0);
		break;
	case 2:
		tls_server_hello(c, st, dir, p, n);
		break;
	case 4:  /* new_session_ticket, in clear before a 1.2 server's CCS */
		tls_role(st, dir, TLS_ROLE_SERVER);
		break;
	case 11:
		tls_certificates(c, st, dir, p, n);
		break;
	case 12:
		/* a key exchange means a full handshake, not a resumption */
		tls_role(st, dir, TLS_ROLE_SERVER);
		d->key_exchanged = 1;
		tls_server_key_exchange(st, p, n);
		break;
	case 13:
		/* the server asks the client for a certificate */
		tls_role(st, dir, TLS_ROLE_SERVER);
		d->cert_requested = 1;
		break;
	case 16:
		tls_role(st, dir, TLS_ROLE_CLIENT);
		d->key_exchanged = 1;
		break;
	case 22:
		/* a stapled OCSP response (RFC 6066 8) */
		tls_role(st, dir, TLS_ROLE_SERVER);
		tls_certificate_status(d, p, n);
		break;
	default: /* certificate_verify, finished, ...: nothing to report */
		break;
	}
}

/* The fragment of a handshake record: messages may span records and
 * records may hold several, so the bytes go through the direction's
 * buffer and each whole message is parsed from there. */
static void tls_handshake_bytes(struct pb_txn_conn *c, struct tls_state *st, int dir,
				const uint8_t *p, size_t n)
{
	struct tls_dir *d = &st->d[dir];
	struct pb_buf *b = &d->hs;

	/* first the rest of a message that was too large to keep, which may
	 * run over many records */
	if (d->hs_skip) {
		size_t k = n < d->hs_skip ? n : d->hs_skip;

		d->hs_skip -= (uint32_t)k;
		p += k;
		n -= k;
	}
	if (n == 0)
		return;
	if (pb_buf_add(b, p, n) < 0) {
		/* cannot happen within TLS_HS_BUF; start over if it does */
		pb_buf_clear(b);
		return;
	}
	/* every turn removes at least the 4-byte header: bounded by b->len */
	for (;;) {
		struct pb_cur cu;
		unsigned type;
		uint32_t len;
		size_t whole;

		/* msg_type (1) and length (3), then the body */
		pb_cur_init(&cu, b->data, b->len);
		type = pb_cur_u8(&cu);
		len = pb_cur_be24(&cu);
		if (!pb_cur_ok(&cu))
			break;
		/* the length is the sender's claim: one over the limit is not
		 * buffered but skipped, however many records it claims */
		if (len > TLS_HS_MAX) {
			/* skip it whole: what is buffered now, the rest later */
			tls_anomaly(c, st, TLS_AN_HANDSHAKE_TOO_LARGE);
			whole = TLS_HS_HDR + (size_t)len;
			if (whole > b->len) {
				d->hs_skip = (uint32_t)(whole - b->len);
				whole = b->len;
			}
		} else {
			const uint8_t *body = pb_cur_bytes(&cu, len);

			/* the rest is in a later record */
			if (!body)
				break;
			tls_handshake_msg(c, st, dir, type, body, len);
			whole = TLS_HS_HDR + (size_t)len;
		}
		/* drop the message; what follows it moves to the front */
		memmove(b->data, b->data + whole, b->len - whole);
		b->len -= whole;
	}
}

/* ------------------------------------------------------------ records */

struct tls_hdr {
	unsigned type, major, minor, len;
};

/* Read a record header at p; 0 when fewer than 5 bytes. */
static int tls_hdr_read(const uint8_t *p, size_t n, struct tls_hdr *h)
{
	struct pb_cur cu;

	pb_cur_init(&cu, p, n);
	h->type = pb_cur_u8(&cu);
	h->major = pb_cur_u8(&cu);
	h->minor = pb_cur_u8(&cu);
	h->len = pb_cur_be16(&cu);
	return pb_cur_ok(&cu);
}

/* A header a TLS peer could send: a known type, version 3.0 to 3.4 (SSL
 * 3.0 to TLS 1.3's legacy 3.3), a length within the limit, and no empty
 * handshake, alert or CCS fragment (RFC 5246 6.2.1). */
static int tls_hdr_ok(const struct tls_hdr *h)
{
	if (h->type < 20 || h->type > 24 || h->major != 3 || h->minor > 4)
		return 0;
	if (h->len > TLS_MAX_FRAGMENT)
		return 0;
	return h->len > 0 || h->type >= 23;
}

/* Stricter, for finding a boundary in the middle of a stream: a CCS is
 * one byte, a cleartext alert two, and no record is empty. */
static int tls_hdr_plausible(const struct tls_hdr *h)
{
	if (!tls_hdr_ok(h) || h->len == 0)
		return 0;
	if (h->type == 20 && h->len != 1)
		return 0;
	return h->type != 21 || h->len >= 2;
}

/*
 * Find a record boundary in p: the first plausible header whose record is
 * followed by another plausible header, or ends exactly where the data
 * does.  1 with *at its offset; 0 when none is confirmed yet, with *at
 * the bytes that can be dropped (up to an unconfirmed candidate, or all
 * but the last 4, which may start a header).
 */
static int tls_resync(const uint8_t *p, size_t n, size_t *at)
{
	struct tls_hdr h, next;
	size_t i, end;

	/* one pass: each offset is looked at once per call */
	for (i = 0; i + TLS_REC_HDR <= n; i++) {
		if (!tls_hdr_read(p + i, n - i, &h) || !tls_hdr_plausible(&h))
			continue;
		/* a segment often ends with a record: that confirms it */
		end = i + TLS_REC_HDR + h.len;
		if (end == n) {
			*at = i;
			return 1;
		}
		/* otherwise the next header must be plausible too: five random
		 * bytes pass one test now and then, two in a row seldom */
		if (end + TLS_REC_HDR <= n) {
			if (tls_hdr_read(p + end, n - end, &next) && tls_hdr_plausible(&next)) {
				*at = i;
				return 1;
			}
			continue;
		}
		/* its end is not here yet: keep it, wait for more, decide then
		 * (the wait is at most one record, TLS_MAX_FRAGMENT bytes) */
		*at = i;
		return 0;
	}
	*at = n > TLS_REC_HDR - 1 ? n - (TLS_REC_HDR - 1) : 0;
	return 0;
}

static void tls_emit(struct pb_txn_conn *c, struct tls_state *st);

/*
 * Both sides have switched to encrypted records: the handshake is done
 * (tls.established), and the event goes out now, as Packetbeat sends it.
 * TLS <= 1.2: both sent ChangeCipherSpec.  TLS 1.3, whose CCS is optional
 * and means nothing: after the ServerHello, each side sent either the
 * compatibility CCS or an encrypted record (the server's encrypted
 * flight, the client's Finished).  Which side goes first does not matter:
 * in a resumed TLS 1.2 handshake the server's CCS comes first.
 */
static void tls_check_established(struct pb_txn_conn *c, struct tls_state *st)
{
	int est;

	if (st->sh_real && st->v13)
		est = st->d[0].done13 && st->d[1].done13;
	else
		est = st->d[0].ccs && st->d[1].ccs;
	if (est) {
		st->established = 1;
		tls_emit(c, st);
	}
}

/* ChangeCipherSpec.  In TLS <= 1.2 it ends the cleartext of its
 * direction.  In TLS 1.3 it is only the middlebox-compatibility record
 * (RFC 8446 D.4), which may come before a second ClientHello or, with
 * early data, right after the first: it ends nothing. */
static void tls_ccs(struct pb_txn_conn *c, struct tls_state *st, int dir)
{
	struct tls_dir *d = &st->d[dir];
	int offered13 = st->d[0].offered13 || st->d[1].offered13;

	tls_msg(d, TLS_MSG_CCS);
	if (st->sh_real && st->v13) {
		/* after a TLS 1.3 ServerHello: this side's keys are in use */
		d->done13 = 1;
	} else if (!st->sh_real && (st->hrr || offered13)) {
		/* before any real ServerHello, with TLS 1.3 offered or an HRR
		 * sent: the compatibility record; the cleartext goes on */
	} else {
		/* TLS <= 1.2 (or nothing known: a capture without hellos):
		 * the next handshake record is the encrypted Finished, and a
		 * half-assembled message can never be completed */
		d->ccs = 1;
		d->enc = 1;
		pb_buf_clear(&d->hs);
		d->hs_skip = 0;
	}
	tls_check_established(c, st);
}

/* Alert (RFC 5246 7.2): level and description, two bytes in clear.  Any
 * other length is an encrypted alert, which says nothing readable. */
static void tls_alert(struct pb_txn_conn *c, struct tls_state *st, int dir,
		      const uint8_t *p, size_t n)
{
	struct tls_dir *d = &st->d[dir];
	struct pb_cur cu;
	unsigned level, desc;

	/* after this side's CCS an alert is encrypted, whatever its size */
	if (n != 2 || d->enc)
		return;
	pb_cur_init(&cu, p, n);
	level = pb_cur_u8(&cu);
	desc = pb_cur_u8(&cu);
	/* kept as sent (an unknown level or description is shown as such) */
	if (d->n_alerts < TLS_MAX_ALERTS) {
		d->alert[d->n_alerts][0] = (uint8_t)level;
		d->alert[d->n_alerts][1] = (uint8_t)desc;
		d->n_alerts++;
	} else {
		tls_anomaly(c, st, TLS_AN_ALERTS_CAPPED);
	}
	/* a fatal alert or a close_notify ends the session (RFC 5246 7.2.1,
	 * 7.2.2); a warning, such as unrecognized_name, does not */
	if (level == 2)
		st->fatal = 1;
	if (level == 2 || desc == 0)
		tls_emit(c, st);
}

/* One whole record of dir, whose first byte is at offset off of what
 * parse() was given. */
static void tls_record(struct pb_txn_conn *c, struct tls_state *st, int dir,
		       unsigned type, const uint8_t *p, size_t n, size_t off)
{
	struct tls_dir *d = &st->d[dir];

	/* the handshake lasts until the last record it needed */
	pb_txn_byte_time(c, dir, off + TLS_REC_HDR + n - 1, &st->end_ns, &st->last_pkt);
	switch (type) {
	case 20:
		tls_ccs(c, st, dir);
		break;
	case 21:
		tls_alert(c, st, dir, p, n);
		break;
	case 22:
		if (!d->enc) {
			tls_handshake_bytes(c, st, dir, p, n);
		} else if (!d->finished) {
			/* after CCS: the Finished, encrypted (RFC 5246 7.4.9) */
			d->finished = 1;
			tls_msg(d, TLS_MSG_FINISHED);
		}
		break;
	case 23:
		/* TLS 1.3 sends every encrypted record as application data: the
		 * server's first one holds EncryptedExtensions, the client's
		 * its Finished (or early data, before the ServerHello) */
		if (st->sh_real && st->v13) {
			if (!d->finished) {
				d->finished = 1;
				tls_msg(d, TLS_MSG_ENCRYPTED);
			}
			d->done13 = 1;
			tls_check_established(c, st);
		}
		break;
	default: /* heartbeat */
		break;
	}
}

/*
 * The first bytes of a direction: an SSLv2-compatible CLIENT-HELLO?  Old
 * clients sent one to reach SSL 2.0 and 3.0 servers alike; what follows
 * from the server is an SSL 3.0/TLS record.  Returns the bytes it took (0:
 * not one, or not known yet, with *more set).
 */
static size_t tls_v2_hello(struct pb_txn_conn *c, struct tls_state *st, int dir,
			   const uint8_t *p, size_t n, int *more)
{
	struct pb_cur cu;
	unsigned b0, len;
	const uint8_t *body;

	*more = 0;
	/* a server does not send one */
	if (st->d[!dir].role == TLS_ROLE_CLIENT)
		return 0;
	pb_cur_init(&cu, p, n);
	b0 = pb_cur_u8(&cu);
	/* no TLS record type has the top bit set: an SSLv2 header does */
	if (!pb_cur_ok(&cu) || !(b0 & 0x80))
		return 0;
	/* a 2-byte header: 15 bits of length, then msg_type 1 */
	len = (b0 & 0x7f) << 8 | pb_cur_u8(&cu);
	if (pb_cur_u8(&cu) != 1 || !pb_cur_ok(&cu)) {
		*more = !pb_cur_ok(&cu);
		return 0;
	}
	/* msg_type, version and three lengths at least */
	if (len < 9)
		return 0;
	/* the whole message, or wait for it (at most 32 KiB) */
	body = pb_cur_bytes(&cu, len - 1);
	if (!body) {
		*more = 1;
		return 0;
	}
	/* anything that does not read as a hello is left to the record
	 * parser, which will call it what it is */
	{
		struct tls_hello h;

		if (tls_hello_read(&h, body, len - 1, 0, 1) < 0)
			return 0;
	}
	pb_txn_byte_time(c, dir, 2 + len - 1, &st->end_ns, &st->last_pkt);
	tls_client_hello(c, st, dir, body, len - 1, 1);
	return 2 + len;
}

/*
 * parse(): the framer.  Whole records are taken from the front of data and
 * handed to tls_record; a record cut by the end of data is left for the
 * engine to give again with more after it (so records may span any number
 * of segments, and nothing of data is kept here).  After the event went
 * out, or after a gap in this direction, everything is consumed unread:
 * the rest of a TLS connection is encrypted.
 */
static size_t tls_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct tls_state *st = c->state;
	struct tls_dir *d;
	size_t off = 0;

	dir &= 1;
	d = &st->d[dir];
	tls_state_init(st);
	if (st->sent || d->dead)
		return len;
	if (len == 0)
		return 0;
	/* the session starts at its first byte, either way */
	if (!st->started) {
		st->started = 1;
		pb_txn_byte_time(c, dir, 0, &st->start_ns, &st->first_pkt);
		st->end_ns = st->start_ns;
		st->last_pkt = st->first_pkt;
	}
	/* activity, for the timeout */
	if (c->now_ns > st->last_ns)
		st->last_ns = c->now_ns;
	if (!d->begun) {
		int more;
		size_t took;

		/* a capture that missed the start may be inside a record */
		if (c->mid_stream[dir]) {
			d->resync = TLS_SYNC_MID;
		} else {
			took = tls_v2_hello(c, st, dir, data, len, &more);
			if (more)
				return 0;
			off = took;
		}
		d->begun = 1;
	}
	while (off < len && !st->sent && !d->dead) {
		const uint8_t *p = data + off;
		size_t left = len - off, skip;
		struct tls_hdr h;
		struct pb_cur cu;
		const uint8_t *frag;

		if (d->resync) {
			int found = tls_resync(p, left, &skip);

			/* bad bytes were noted when met; a late start is noted
			 * when bytes had to be skipped */
			if (skip > 0 && d->resync == TLS_SYNC_MID)
				tls_anomaly(c, st, TLS_AN_MID_STREAM);
			off += skip;
			if (!found)
				break;
			d->resync = TLS_SYNC_NONE;
			continue;
		}
		/* fewer than 5 bytes: the header is in the next segment */
		if (!tls_hdr_read(p, left, &h)) {
			d->partial = 1;
			break;
		}
		if (!tls_hdr_ok(&h)) {
			/* not TLS here: skip to the next plausible record */
			tls_anomaly(c, st, TLS_AN_BAD_RECORD);
			pb_buf_clear(&d->hs);
			d->hs_skip = 0;
			d->resync = TLS_SYNC_BAD;
			continue;
		}
		/* the fragment, whole, or wait for the rest (the header said
		 * at most TLS_MAX_FRAGMENT, so the engine buffers at most that) */
		pb_cur_init(&cu, p, left);
		pb_cur_skip(&cu, TLS_REC_HDR);
		frag = pb_cur_bytes(&cu, h.len);
		if (!frag) {
			d->partial = 1;  /* the record's end is in a later segment */
			break;
		}
		d->partial = 0;
		tls_record(c, st, dir, h.type, frag, h.len, off);
		off += TLS_REC_HDR + h.len;
	}
	/* the event may have gone out inside the loop */
	if (st->sent || d->dead)
		return len;
	if (off == len)
		d->partial = 0;
	return off;
}

/* gap(): bytes of dir were never captured.  Records cannot be framed
 * across a hole (a length may have been in it), and a handshake message
 * would be missing a piece: the direction is not parsed further.  With
 * both directions gone there is nothing more to wait for. */
static void tls_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct tls_state *st = c->state;
	struct tls_dir *d = &st->d[dir & 1];

	(void)n;
	tls_state_init(st);
	if (st->sent || d->dead)
		return;
	/* what follows a hole cannot be placed in the handshake */
	d->dead = 1;
	d->partial = 0;
	pb_buf_clear(&d->hs);
	tls_anomaly(c, st, TLS_AN_GAP);
	if (st->d[!(dir & 1)].dead)
		tls_emit(c, st);
}

/* fin(): either side closing ends the session, as in Packetbeat; a record
 * left half-received is noted. */
static void tls_fin(struct pb_txn_conn *c, int dir)
{
	struct tls_state *st = c->state;

	tls_state_init(st);
	if (st->d[dir & 1].partial)
		tls_anomaly(c, st, TLS_AN_TRUNCATED);
	tls_emit(c, st);
}

/* expire(): a session quiet for transaction_timeout (capture time)
 * before its handshake ended is written as it stands. */
static void tls_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct tls_state *st = c->state;
	int64_t timeout = c->common ? c->common->timeout_ns : PB_TXN_DEF_TIMEOUT_NS;

	if (st->sent || !st->started || now_ns - st->last_ns < timeout)
		return;
	tls_state_init(st);
	tls_anomaly(c, st, TLS_AN_TIMEOUT);
	tls_emit(c, st);
}

/* close(): the connection is gone; write what is pending and free what
 * the state holds.  Safe to call more than once. */
static void tls_close(struct pb_txn_conn *c)
{
	struct tls_state *st = c->state;
	int i;

	tls_state_init(st);
	for (i = 0; i < 2; i++)
		if (st->d[i].partial && !st->sent)
			tls_anomaly(c, st, TLS_AN_TRUNCATED);
	tls_emit(c, st);
	tls_release(st);
}

/* ------------------------------------------------------------ the event */

/* What the writer works from, made by tls_emit for one pb_txn_emit(). */
struct tls_w {
	struct tls_state *st;
	const struct tls_conf *cf;
	int cl;                          /* the client's direction */
	struct tls_hello ch, sh;         /* read from the kept copies */
	int has_ch, has_sh;
	X509 *x[2][TLS_MAX_CERTS];       /* certificates by direction */
	struct pb_buf ja3, ja3s, ja4, ja4r, tmp;
	uint8_t seen[65536 / 8];         /* extension types met, a bitmap */
};

static const struct tls_conf tls_conf_default = { 1, 0, 1, TLS_FP_SHA1 };

static int tls_dir_info(const struct tls_dir *d)
{
	return d->hello || d->n_alerts || d->n_certs;
}

/* The client's direction: from the messages each side sent, else the
 * side not on a configured TLS port, else endpoint 0 (the first sender). */
static int tls_client_dir(const struct pb_txn_conn *c, const struct tls_state *st)
{
	unsigned i;
	int on[2] = { 0, 0 }, e;

	if (st->d[0].role == TLS_ROLE_CLIENT || st->d[1].role == TLS_ROLE_SERVER)
		return 0;
	if (st->d[1].role == TLS_ROLE_CLIENT || st->d[0].role == TLS_ROLE_SERVER)
		return 1;
	for (e = 0; e < 2 && c->common; e++)
		for (i = 0; i < c->common->n_ports; i++)
			if (c->common->ports[i] == c->port[e])
				on[e] = 1;
	return on[0] && !on[1] ? 1 : 0;
}

static void tls_hex(struct pb_buf *b, const uint8_t *p, size_t n, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		pb_buf_addc(b, digits[p[i] >> 4]);
		pb_buf_addc(b, digits[p[i] & 15]);
	}
}

/* A digest of p as hex into b (emptied first); 0, or -1 when the
 * algorithm is not available (MD5 under a FIPS provider). */
static int tls_digest(struct pb_buf *b, const EVP_MD *md, const void *p, size_t n,
		      int upper)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	pb_buf_clear(b);
	if (!md || EVP_Digest(p, n, out, &len, md, NULL) != 1)
		return -1;
	tls_hex(b, out, len, upper);
	return 0;
}

static void tls_json_buf(struct pb_json *j, struct pb_buf *b)
{
	pb_json_str(j, b->data ? b->data : "", b->len);
}

/* A name from a table, or "(unknown:...)" as Packetbeat writes it. */
static void tls_json_name(struct pb_json *j, const char *name, const char *fmt,
			  unsigned v)
{
	char buf[32];
	int n;

	if (name) {
		pb_json_ascii(j, name, strlen(name));
		return;
	}
	n = snprintf(buf, sizeof(buf), fmt, v);
	pb_json_ascii(j, buf, n > 0 ? (size_t)n : 0);
}

/* Handshake message types (IANA TLS HandshakeType), and the records
 * tls_msg adds, as tls.detailed.*_handshake_messages names them. */
static const char *tls_msg_name(unsigned code)
{
	static const struct tls_name names[] = {
		{ 0, "hello_request" }, { 1, "client_hello" }, { 2, "server_hello" },
		{ 3, "hello_verify_request" }, { 4, "new_session_ticket" },
		{ 5, "end_of_early_data" }, { 8, "encrypted_extensions" },
		{ 11, "certificate" }, { 12, "server_key_exchange" },
		{ 13, "certificate_request" }, { 14, "server_hello_done" },
		{ 15, "certificate_verify" }, { 16, "client_key_exchange" },
		{ 20, "finished" }, { 21, "certificate_url" }, { 22, "certificate_status" },
		{ 23, "supplemental_data" }, { 24, "key_update" },
		{ 25, "compressed_certificate" }, { 254, "message_hash" },
		{ TLS_MSG_CCS, "change_cipher_spec" }, { TLS_MSG_HRR, "hello_retry_request" },
		{ TLS_MSG_FINISHED, "finished" }, { TLS_MSG_ENCRYPTED, "encrypted_handshake" },
	};

	return tls_lookup(names, TLS_N(names), code);
}

static const char *tls_comp_name(unsigned v)
{
	return v == 0 ? "NULL" : v == 1 ? "DEFLATE" : v == 64 ? "LZS" : NULL;
}

static const char *tls_point_name(unsigned v)
{
	return v == 0 ? "uncompressed" : v == 1 ? "ansiX962_compressed_prime" :
	       v == 2 ? "ansiX962_compressed_char2" : NULL;
}

/* A version as tls.detailed writes it: "TLS 1.2", "SSL 3.0". */
static int tls_version_text(char *buf, size_t n, unsigned v)
{
	unsigned major = v >> 8, minor = v & 0xff;

	if (major == 3 && minor > 0)
		return snprintf(buf, n, "TLS 1.%u", minor - 1);
	if (major == 3)
		return snprintf(buf, n, "SSL 3.0");
	if (v == 0x0002)
		return snprintf(buf, n, "SSL 2.0");
	return snprintf(buf, n, "(raw %u.%u)", major, minor);
}

/* The next cipher suite of a list: 2 bytes, or an SSLv2 3-byte kind. */
static int tls_suite_next(struct pb_cur *cu, int v2, uint32_t *v)
{
	if (pb_cur_left(cu) < (v2 ? 3u : 2u))
		return 0;
	*v = v2 ? pb_cur_be24(cu) : pb_cur_be16(cu);
	return 1;
}

static void tls_json_cipher(struct pb_json *j, uint32_t v)
{
	size_t i;

	if (v <= 0xffff) {
		tls_json_name(j, tls_lookup(tls_ciphers, TLS_N(tls_ciphers), v),
			      "(unknown:0x%04x)", v);
		return;
	}
	for (i = 0; i < TLS_N(tls_v2_ciphers); i++)
		if (tls_v2_ciphers[i].code == v) {
			pb_json_cstr(j, tls_v2_ciphers[i].name);
			return;
		}
	tls_json_name(j, NULL, "(unknown:0x%06x)", v);
}

/* ---------------------------------------------------------- extensions */

/*
 * The value of extension e as Packetbeat writes it under
 * tls.detailed.*_hello.extensions (written when j is not NULL).  1 when
 * Packetbeat parses this extension and it is well formed, 0 when it goes
 * to _unparsed_ instead.
 */
static int tls_ext_value(struct pb_json *j, const struct tls_ext *e)
{
	struct pb_cur b = e->body, l;
	size_t n = pb_cur_left(&b), pos, lim;
	unsigned v, ll;
	const uint8_t *s;
	char buf[64];
	int k;

	switch (e->type) {
	case 0: /* server_name (RFC 6066 3): host_name entries of a list */
		if (n < 2)
			return 0;
		l = pb_cur_sub(&b, pb_cur_be16(&b));
		if (j)
			pb_json_arr(j);
		while (pb_cur_left(&l) >= 3) {
			unsigned t = pb_cur_u8(&l), nl = pb_cur_be16(&l);

			if (!(s = pb_cur_bytes(&l, nl)))
				break;
			if (t == 0 && j)
				pb_json_str(j, s, nl);
		}
		if (j)
			pb_json_arr_end(j);
		return 1;
	case 1: /* max_fragment_length: 2^(8+v) */
		if (n != 1)
			return 0;
		v = pb_cur_u8(&b);
		if (j) {
			k = v >= 1 && v <= 4 ? snprintf(buf, sizeof(buf), "2^%u", 8 + v) :
					       snprintf(buf, sizeof(buf), "(unknown:%u)", v);
			pb_json_ascii(j, buf, (size_t)k);
		}
		return 1;
	case 2: /* client_certificate_url and truncated_hmac are empty */
	case 4:
		if (j) {
			k = n ? snprintf(buf, sizeof(buf), "(expected empty: found %zu bytes)", n) : 0;
			pb_json_ascii(j, buf, (size_t)k);
		}
		return 1;
	case 5: /* status_request: a server's is empty */
		if (n == 0) {
			if (j) {
				pb_json_obj(j);
				pb_json_key(j, "response");
				pb_json_bool(j, 1);
				pb_json_obj_end(j);
			}
			return 1;
		}
		v = pb_cur_u8(&b);
		ll = pb_cur_be16(&b);
		pb_cur_skip(&b, ll);
		k = pb_cur_be16(&b);
		if (!pb_cur_ok(&b))
			return 0;
		if (j) {
			pb_json_obj(j);
			pb_json_key(j, "type");
			tls_json_name(j, v == 1 ? "ocsp" : NULL, "%u", v);
			pb_json_key(j, "responder_id_list_length");
			pb_json_u64(j, ll);
			pb_json_key(j, "request_extensions");
			pb_json_u64(j, (uint64_t)k);
			pb_json_obj_end(j);
		}
		return 1;
	case 9: /* cert_type: a counted list (client) or one type (server) */
		lim = n;
		pos = 0;
		if (lim > 1) {
			v = pb_cur_u8(&b);
			pos = 1;
			if (v + 1 < lim)
				lim = v + 1;
		}
		if (!j)
			return 1;
		pb_json_arr(j);
		for (; pos < lim; pos++) {
			v = pb_cur_u8(&b);
			tls_json_name(j, v == 0 ? "X.509" : v == 1 ? "OpenPGP" :
				      v == 2 ? "RawPubKey" : NULL, "(unknown:%u)", v);
		}
		pb_json_arr_end(j);
		return 1;
	case 10: /* supported_groups: a 2-byte length that must fit exactly */
	case 13: /* signature_algorithms: the same */
		if (n < 2 || pb_cur_be16(&b) + 2u != n)
			return 0;
		if (!j)
			return 1;
		pb_json_arr(j);
		while (pb_cur_left(&b) >= 2) {
			v = pb_cur_be16(&b);
			if (e->type == 13)
				tls_json_name(j, tls_lookup(tls_sigs, TLS_N(tls_sigs), v),
					      "(unknown:0x%04x)", v);
			else if (!tls_grease(v))
				tls_json_name(j, tls_lookup(tls_groups, TLS_N(tls_groups), v),
					      "(unknown:0x%04x)", v);
		}
		pb_json_arr_end(j);
		return 1;
	case 11: /* ec_point_formats: a 1-byte length that must fit exactly */
		if (n < 1 || pb_cur_u8(&b) + 1u != n)
			return 0;
		if (!j)
			return 1;
		pb_json_arr(j);
		while (pb_cur_left(&b) >= 1) {
			v = pb_cur_u8(&b);
			tls_json_name(j, tls_point_name(v), "(unknown:0x%02x)", v);
		}
		pb_json_arr_end(j);
		return 1;
	case 12: /* srp: the user name */
		ll = pb_cur_u8(&b);
		if (!(s = pb_cur_bytes(&b, ll)))
			return 0;
		if (j)
			pb_json_str(j, s, ll);
		return 1;
	case 16: /* ALPN (RFC 7301 3.1): length-prefixed protocol names */
		if (n < 2 || pb_cur_be16(&b) + 2u != n)
			return 0;
		l = b;
		while (pb_cur_left(&l) > 0)
			if (!pb_cur_bytes(&l, pb_cur_u8(&l)))
				return 0;
		if (!j)
			return 1;
		pb_json_arr(j);
		while (pb_cur_left(&b) > 0) {
			ll = pb_cur_u8(&b);
			s = pb_cur_bytes(&b, ll);
			pb_json_str(j, s, ll);
		}
		pb_json_arr_end(j);
		return 1;
	case 35: /* session_ticket: its size, or "" for "I take tickets" */
		if (j) {
			k = n ? snprintf(buf, sizeof(buf), "(%zu bytes)", n) : 0;
			pb_json_ascii(j, buf, (size_t)k);
		}
		return 1;
	case 43: /* supported_versions: the selected one, or a list */
		if (n == 2) {
			v = pb_cur_be16(&b);
			if (j) {
				k = tls_version_text(buf, sizeof(buf), v);
				pb_json_ascii(j, buf, (size_t)k);
			}
			return 1;
		}
		if (n < 3)
			return 0;
		ll = pb_cur_u8(&b);
		if (1 + ll > n || ll % 2 || ll == 0)
			return 0;
		if (!j)
			return 1;
		pb_json_arr(j);
		for (pos = 0; pos < ll / 2; pos++) {
			v = pb_cur_be16(&b);
			if (tls_grease(v))
				continue;
			k = tls_version_text(buf, sizeof(buf), v);
			pb_json_ascii(j, buf, (size_t)k);
		}
		pb_json_arr_end(j);
		return 1;
	default:
		return 0;
	}
}

static int tls_seen(struct tls_w *w, unsigned type)
{
	int was = (w->seen[type >> 3] >> (type & 7)) & 1;

	w->seen[type >> 3] |= (uint8_t)(1u << (type & 7));
	return was;
}

/* The extensions object: the parsed ones in the order sent, then the
 * others in _unparsed_ (a repeated type goes there too, so no key is
 * written twice).  GREASE extensions are left out.  Two passes over the
 * block: the first writes the parsed ones and counts the rest, the
 * second, only when there is a rest, lists it. */
static void tls_write_exts(struct tls_w *w, struct pb_json *j, const struct tls_hello *h)
{
	struct pb_cur it;
	struct tls_ext e;
	unsigned unparsed = 0, pass;
	char buf[16];
	int k;

	pb_json_obj(j);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!unparsed)
				break;
			pb_json_key(j, "_unparsed_");
			pb_json_arr(j);
		}
		memset(w->seen, 0, sizeof(w->seen));
		tls_ext_start(&it, h);
		while (tls_ext_next(&it, &e)) {
			int parsed;

			if (tls_grease(e.type))
				continue;
			parsed = !tls_seen(w, e.type) && tls_ext_value(NULL, &e);
			if (pass == 0 && parsed) {
				const char *label = tls_lookup(tls_ext_names,
							       TLS_N(tls_ext_names), e.type);

				pb_json_keyn(j, label, strlen(label));
				tls_ext_value(j, &e);
			} else if (pass == 0) {
				unparsed++;
			} else if (!parsed) {
				const char *label = tls_lookup(tls_ext_names,
							       TLS_N(tls_ext_names), e.type);

				if (label) {
					pb_json_ascii(j, label, strlen(label));
				} else {
					k = snprintf(buf, sizeof(buf), "%u", e.type);
					pb_json_ascii(j, buf, (size_t)k);
				}
			}
		}
		if (pass == 1)
			pb_json_arr_end(j);
	}
	pb_json_obj_end(j);
}

/* tls.detailed.client_hello / server_hello. */
static void tls_write_hello(struct tls_w *w, struct pb_json *j, const struct tls_hello *h)
{
	struct pb_cur cu;
	char buf[16];
	int k;

	pb_json_obj(j);
	pb_json_key(j, "version");
	k = snprintf(buf, sizeof(buf), "%u.%u", h->version >> 8, h->version & 0xffu);
	pb_json_ascii(j, buf, (size_t)k);
	if (h->random_len) {
		pb_buf_clear(&w->tmp);
		tls_hex(&w->tmp, h->random, h->random_len, 0);
		pb_json_key(j, "random");
		tls_json_buf(j, &w->tmp);
	}
	if (h->sid_len) {
		pb_buf_clear(&w->tmp);
		tls_hex(&w->tmp, h->sid, h->sid_len, 0);
		pb_json_key(j, "session_id");
		tls_json_buf(j, &w->tmp);
	}
	if (h->v2) {
		pb_json_key(j, "sslv2");
		pb_json_bool(j, 1);
	}
	if (h->server) {
		pb_json_key(j, "selected_compression_method");
		tls_json_name(j, tls_comp_name(h->comp_sel), "(unknown:0x%02x)", h->comp_sel);
	} else if (h->comp_len) {
		pb_json_key(j, "supported_compression_methods");
		pb_json_arr(j);
		pb_cur_init(&cu, h->comp, h->comp_len);
		while (pb_cur_left(&cu) > 0) {
			unsigned v = pb_cur_u8(&cu);

			tls_json_name(j, tls_comp_name(v), "(unknown:0x%02x)", v);
		}
		pb_json_arr_end(j);
	}
	if (h->ext_len) {
		pb_json_key(j, "extensions");
		tls_write_exts(w, j, h);
	}
	pb_json_obj_end(j);
}

/* -------------------------------------------------------- fingerprints */

/* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePoint-
 * Formats, decimal values joined by '-', GREASE left out; the hash is
 * the MD5 of that string.  JA3S: SSLVersion,Cipher,Extensions. */
static void tls_ja3(struct pb_buf *b, const struct tls_hello *h)
{
	struct pb_cur cu, it, l;
	struct tls_ext e;
	const char *sep = "";
	uint32_t v;

	/* the hello's version field (771 for TLS 1.3 too) */
	pb_buf_addf(b, "%u,", h->version);
	if (h->server) {
		pb_buf_addf(b, "%u", h->cipher);
	} else {
		/* the suites in the order sent; SSLv2 kinds are left out */
		pb_cur_init(&cu, h->suites ? h->suites : (const uint8_t *)"", h->suites_len);
		while (tls_suite_next(&cu, h->v2, &v))
			if (v <= 0xffff && !tls_grease(v)) {
				pb_buf_addf(b, "%s%u", sep, v);
				sep = "-";
			}
	}
	/* every extension type in the order sent, repeats included */
	pb_buf_addc(b, ',');
	sep = "";
	tls_ext_start(&it, h);
	while (tls_ext_next(&it, &e))
		if (!tls_grease(e.type)) {
			pb_buf_addf(b, "%s%u", sep, e.type);
			sep = "-";
		}
	if (h->server)
		return;
	/* the groups (JA3 still says "elliptic curves") as listed, and the
	 * point formats; a list longer than its extension is read as far
	 * as the extension goes */
	pb_buf_addc(b, ',');
	sep = "";
	if (tls_ext_find(h, 10, &l)) {
		l = pb_cur_sub(&l, pb_cur_be16(&l));
		while (pb_cur_left(&l) >= 2)
			if (!tls_grease(v = pb_cur_be16(&l))) {
				pb_buf_addf(b, "%s%u", sep, v);
				sep = "-";
			}
	}
	pb_buf_addc(b, ',');
	sep = "";
	if (tls_ext_find(h, 11, &l)) {
		l = pb_cur_sub(&l, pb_cur_u8(&l));
		while (pb_cur_left(&l) >= 1) {
			pb_buf_addf(b, "%s%u", sep, pb_cur_u8(&l));
			sep = "-";
		}
	}
}

static int tls_u16_cmp(const void *a, const void *b)
{
	unsigned x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return x < y ? -1 : x > y;
}

static int tls_alnum(unsigned ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* "002f,0035,..." of n values into b. */
static void tls_hex_list(struct pb_buf *b, const uint16_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pb_buf_addf(b, "%s%04x", i ? "," : "", v[i]);
}

/* The first 12 hex digits of SHA-256 of s, or 000000000000 when s is
 * empty (JA4: "no values" is shown as zeros, not the hash of nothing). */
static void tls_ja4_hash(struct pb_buf *out, struct pb_buf *tmp, const struct pb_buf *s)
{
	if (s->len == 0 || tls_digest(tmp, EVP_sha256(), s->data, s->len, 0) < 0 ||
	    tmp->len < 12) {
		pb_buf_adds(out, "000000000000");
		return;
	}
	pb_buf_add(out, tmp->data, 12);
}

/*
 * JA4 (FoxIO technical_details/JA4.md) of a ClientHello, and its raw
 * sorted form JA4_r.  a: "t", the version (highest of supported_versions,
 * else the hello's), "d" with SNI or "i", the cipher and extension counts
 * (two digits, at most 99), the first and last characters of the first
 * ALPN value ("00" without one; hex digits when not alphanumeric).  b:
 * SHA-256 of the sorted cipher list.  c: SHA-256 of the sorted extension
 * list without SNI and ALPN, then "_" and the signature algorithms in
 * the order sent.  GREASE is left out everywhere.
 */
static void tls_ja4(struct tls_w *w, const struct tls_hello *h)
{
	static const char hexd[] = "0123456789abcdef";
	struct pb_cur cu, it, l;
	struct tls_ext e;
	uint16_t *cs = NULL, *xs = NULL;
	size_t ncs = 0, nxs = 0, next = 0;
	struct pb_buf clist, xlist;
	const char *vs;
	unsigned ver = tls_supported_version(h);
	char alpn[2] = { '0', '0' }, a[16];
	uint32_t v;
	int sni = 0;

	/* the lists' sizes bound them: a suite takes 2 bytes or more, an
	 * extension 4, and a hello is at most TLS_HS_MAX bytes */
	cs = malloc((h->suites_len / 2 + 1) * sizeof(*cs));
	xs = malloc((h->ext_len / 4 + 1) * sizeof(*xs));
	if (!cs || !xs)
		goto out;
	/* the suites, without GREASE; SSLv2 kinds have no 4-digit code */
	pb_cur_init(&cu, h->suites ? h->suites : (const uint8_t *)"", h->suites_len);
	while (tls_suite_next(&cu, h->v2, &v))
		if (v <= 0xffff && !tls_grease(v))
			cs[ncs++] = (uint16_t)v;
	/* the extensions: all count, SNI and ALPN stay out of the hash */
	tls_ext_start(&it, h);
	while (tls_ext_next(&it, &e)) {
		if (tls_grease(e.type))
			continue;
		next++;
		if (e.type == 0)
			sni = 1;
		if (e.type != 0 && e.type != 16)
			xs[nxs++] = e.type;
	}
	if (tls_ext_find(h, 16, &l)) {
		/* the first protocol of the list: its first and last bytes */
		struct pb_cur name;
		unsigned n, first, last;

		pb_cur_skip(&l, 2);
		n = pb_cur_u8(&l);
		name = pb_cur_sub(&l, n);
		first = pb_cur_u8(&name);
		pb_cur_skip(&name, n > 2 ? n - 2 : 0);
		last = n > 1 ? pb_cur_u8(&name) : first;
		/* an empty or cut-short value counts as none */
		if (n > 0 && pb_cur_ok(&name)) {
			if (tls_alnum(first) && tls_alnum(last)) {
				alpn[0] = (char)first;
				alpn[1] = (char)last;
			} else {
				/* the first and last hex digits of the value */
				alpn[0] = hexd[first >> 4];
				alpn[1] = hexd[last & 15];
			}
		}
	}
	/* the version: supported_versions' highest, else the hello's */
	if (!ver)
		ver = h->version;
	vs = ver == 0x0304 ? "13" : ver == 0x0303 ? "12" : ver == 0x0302 ? "11" :
	     ver == 0x0301 ? "10" : ver == 0x0300 ? "s3" : ver == 0x0002 ? "s2" :
	     ver == 0xfeff ? "d1" : ver == 0xfefd ? "d2" : ver == 0xfefc ? "d3" : "00";
	snprintf(a, sizeof(a), "t%s%c%02u%02u%c%c", vs, sni ? 'd' : 'i',
		 (unsigned)(ncs > 99 ? 99 : ncs), (unsigned)(next > 99 ? 99 : next),
		 alpn[0], alpn[1]);
	/* b and c hash sorted lists: the order a client sends them in is
	 * left to JA4_o, which pbtools does not write */
	qsort(cs, ncs, sizeof(*cs), tls_u16_cmp);
	qsort(xs, nxs, sizeof(*xs), tls_u16_cmp);
	pb_buf_init(&clist, TLS_SCRATCH_MAX);
	pb_buf_init(&xlist, TLS_SCRATCH_MAX);
	tls_hex_list(&clist, cs, ncs);
	tls_hex_list(&xlist, xs, nxs);
	/* the signature algorithms, in order, after the sorted extensions */
	if (nxs && tls_ext_find(h, 13, &l)) {
		const char *sep = "_";

		l = pb_cur_sub(&l, pb_cur_be16(&l));
		while (pb_cur_left(&l) >= 2)
			if (!tls_grease(v = pb_cur_be16(&l))) {
				pb_buf_addf(&xlist, "%s%04x", sep, v);
				sep = ",";
			}
	}
	/* JA4 = a_b_c; JA4_r = a_ciphers_extensions[_signatures] */
	pb_buf_adds(&w->ja4, a);
	pb_buf_addc(&w->ja4, '_');
	tls_ja4_hash(&w->ja4, &w->tmp, &clist);
	pb_buf_addc(&w->ja4, '_');
	if (nxs)
		tls_ja4_hash(&w->ja4, &w->tmp, &xlist);
	else
		pb_buf_adds(&w->ja4, "000000000000");
	pb_buf_adds(&w->ja4r, a);
	pb_buf_addc(&w->ja4r, '_');
	pb_buf_add(&w->ja4r, clist.data ? clist.data : "", clist.len);
	pb_buf_addc(&w->ja4r, '_');
	pb_buf_add(&w->ja4r, xlist.data ? xlist.data : "", xlist.len);
	pb_buf_release(&clist);
	pb_buf_release(&xlist);
out:
	free(cs);
	free(xs);
}

/* --------------------------------------------------------- certificates */

/* A name attribute's value as UTF-8 (OPENSSL_free it); its length, or -1. */
static int tls_entry_utf8(const X509_NAME_ENTRY *e, unsigned char **out)
{
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(e);

	*out = NULL;
	return s ? ASN1_STRING_to_UTF8(out, s) : -1;
}

/* RFC 4514 escaping as Go's pkix.Name.String() does it. */
static void tls_dn_escape(struct pb_buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned ch = s[i];
		int esc = ch == ',' || ch == '+' || ch == '"' || ch == '\\' || ch == '<' ||
			  ch == '>' || ch == ';' || (ch == ' ' && (i == 0 || i == n - 1)) ||
			  (ch == '#' && i == 0);

		if (esc)
			pb_buf_addc(b, '\\');
		pb_buf_addc(b, (char)ch);
	}
}

/* The attributes Go's crypto/x509 sorts into fields, in the order its
 * Name.String() writes them (the reverse of ToRDNSequence); CN and
 * SERIALNUMBER keep only their last value. */
static const struct {
	int nid;
	const char *key;
	int last;
} tls_dn_attrs[] = {
	{ NID_serialNumber, "SERIALNUMBER", 1 },
	{ NID_commonName, "CN", 1 },
	{ NID_organizationalUnitName, "OU", 0 },
	{ NID_organizationName, "O", 0 },
	{ NID_postalCode, "POSTALCODE", 0 },
	{ NID_streetAddress, "STREET", 0 },
	{ NID_localityName, "L", 0 },
	{ NID_stateOrProvinceName, "ST", 0 },
	{ NID_countryName, "C", 0 },
};

static int tls_dn_known(int nid)
{
	size_t i;

	for (i = 0; i < TLS_N(tls_dn_attrs); i++)
		if (tls_dn_attrs[i].nid == nid)
			return 1;
	return 0;
}

/* A value Go would marshal as a PrintableString (else UTF8String). */
static int tls_printable(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!tls_alnum(s[i]) && !strchr(" '()+,-./:=?", s[i] ? s[i] : 'x'))
			return 0;
	return 1;
}

/*
 * A distinguished name as Packetbeat writes tls.*.subject and issuer (Go's
 * pkix.Name.String()): "CN=...,OU=a+OU=b,O=...,POSTALCODE=...,STREET=...,
 * L=...,ST=...,C=...", then other attributes as dotted OID=#hex of their
 * value's DER, last first.
 */
static void tls_dn(struct pb_buf *b, const X509_NAME *nm)
{
	int n = X509_NAME_entry_count(nm), i, first = 1;
	size_t a;

	pb_buf_clear(b);
	/* Go regroups the attributes it knows by type, whatever their order
	 * in the certificate: all OUs form one RDN ("OU=a+OU=b") */
	for (a = 0; a < TLS_N(tls_dn_attrs); a++) {
		int last = -1, group = 0;

		/* CN and SERIALNUMBER show only the last value Go kept */
		for (i = 0; i < n; i++)
			if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(nm, i))) ==
			    tls_dn_attrs[a].nid)
				last = i;
		for (i = 0; i < n && last >= 0; i++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
			unsigned char *u;
			int len;

			if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != tls_dn_attrs[a].nid ||
			    (tls_dn_attrs[a].last && i != last))
				continue;
			if ((len = tls_entry_utf8(e, &u)) < 0)
				continue;
			/* an empty CN or serial number is left out, as in Go */
			if (!(tls_dn_attrs[a].last && len == 0)) {
				pb_buf_adds(b, group ? "+" : first ? "" : ",");
				pb_buf_addf(b, "%s=", tls_dn_attrs[a].key);
				tls_dn_escape(b, u, (size_t)len);
				first = 0;
				group = 1;
			}
			OPENSSL_free(u);
		}
	}
	/* the others (emailAddress, ...) come last, in reverse order, each
	 * as its dotted OID and the DER Go would marshal its string to */
	for (i = n - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
		const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
		unsigned char *u, hdr[6];
		char oid[128];
		int len, h = 0, k;

		if (tls_dn_known(OBJ_obj2nid(o)) || (len = tls_entry_utf8(e, &u)) < 0)
			continue;
		if (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0)
			oid[0] = '\0';
		/* PrintableString or UTF8String, then a DER length: short
		 * form, or 0x80 + the count of length bytes and those bytes */
		hdr[h++] = tls_printable(u, (size_t)len) ? 0x13 : 0x0c;
		if (len < 0x80) {
			hdr[h++] = (unsigned char)len;
		} else {
			k = len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
			hdr[h++] = (unsigned char)(0x80 + k);
			while (k-- > 0)
				hdr[h++] = (unsigned char)(len >> (8 * k));
		}
		pb_buf_addf(b, "%s%s=#", first ? "" : ",", oid);
		tls_hex(b, hdr, (size_t)h, 0);
		tls_hex(b, u, (size_t)len, 0);
		first = 0;
		OPENSSL_free(u);
	}
}

/* tls.*.x509.subject / issuer: Packetbeat's fields, several values of
 * one attribute joined by a space, CN and serial number the last one. */
static void tls_name_obj(struct tls_w *w, struct pb_json *j, const X509_NAME *nm)
{
	static const struct {
		const char *key;
		int nid;
	} f[] = {
		{ "common_name", NID_commonName },
		{ "country", NID_countryName },
		{ "distinguished_name", NID_undef },
		{ "locality", NID_localityName },
		{ "organization", NID_organizationName },
		{ "organizational_unit", NID_organizationalUnitName },
		{ "postal_code", NID_postalCode },
		{ "serial_number", NID_serialNumber },
		{ "state_or_province", NID_stateOrProvinceName },
		{ "street_address", NID_streetAddress },
	};
	int n = X509_NAME_entry_count(nm), i;
	size_t k;

	pb_json_obj(j);
	for (k = 0; k < TLS_N(f); k++) {
		int last_only = f[k].nid == NID_commonName || f[k].nid == NID_serialNumber;

		pb_buf_clear(&w->tmp);
		if (f[k].nid == NID_undef) {
			tls_dn(&w->tmp, nm);
		} else {
			for (i = 0; i < n; i++) {
				const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
				unsigned char *u;
				int len;

				if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != f[k].nid ||
				    (len = tls_entry_utf8(e, &u)) < 0)
					continue;
				if (last_only)
					pb_buf_clear(&w->tmp);
				else if (w->tmp.len)
					pb_buf_addc(&w->tmp, ' ');
				pb_buf_add(&w->tmp, u, (size_t)len);
				OPENSSL_free(u);
			}
		}
		if (w->tmp.len) {
			pb_json_keyn(j, f[k].key, strlen(f[k].key));
			tls_json_buf(j, &w->tmp);
		}
	}
	pb_json_obj_end(j);
}

/* RFC 3339 with milliseconds, as Packetbeat writes certificate times. */
static int tls_cert_time(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void tls_json_time(struct pb_json *j, const char *key, const ASN1_TIME *t)
{
	char buf[40];
	int n = tls_cert_time(t, buf, sizeof(buf));

	if (n > 0 && (size_t)n < sizeof(buf)) {
		pb_json_keyn(j, key, strlen(key));
		pb_json_ascii(j, buf, (size_t)n);
	}
}

/* Go's names of signature algorithms (x509.SignatureAlgorithm.String()),
 * else OpenSSL's short name, else the dotted OID. */
static const char *tls_sig_alg(const X509 *x, char *buf, size_t n)
{
	int nid = X509_get_signature_nid(x), md = NID_undef;
	const X509_ALGOR *alg = NULL;

	switch (nid) {
	case NID_md2WithRSAEncryption: return "MD2-RSA";
	case NID_md5WithRSAEncryption: return "MD5-RSA";
	case NID_sha1WithRSAEncryption: case NID_sha1WithRSA: return "SHA1-RSA";
	case NID_sha256WithRSAEncryption: return "SHA256-RSA";
	case NID_sha384WithRSAEncryption: return "SHA384-RSA";
	case NID_sha512WithRSAEncryption: return "SHA512-RSA";
	case NID_dsaWithSHA1: return "DSA-SHA1";
	case NID_dsa_with_SHA256: return "DSA-SHA256";
	case NID_ecdsa_with_SHA1: return "ECDSA-SHA1";
	case NID_ecdsa_with_SHA256: return "ECDSA-SHA256";
	case NID_ecdsa_with_SHA384: return "ECDSA-SHA384";
	case NID_ecdsa_with_SHA512: return "ECDSA-SHA512";
	case NID_ED25519: return "Ed25519";
	case NID_rsassaPss:
		/* the hash is in the parameters */
		if (X509_get_signature_info((X509 *)x, &md, NULL, NULL, NULL) == 1) {
			if (md == NID_sha256)
				return "SHA256-RSAPSS";
			if (md == NID_sha384)
				return "SHA384-RSAPSS";
			if (md == NID_sha512)
				return "SHA512-RSAPSS";
		}
		break;
	default:
		break;
	}
	if (nid != NID_undef && OBJ_nid2sn(nid))
		return OBJ_nid2sn(nid);
	X509_get0_signature(NULL, &alg, x);
	if (alg && OBJ_obj2txt(buf, (int)n, alg->algorithm, 1) > 0)
		return buf;
	return "unknown";
}

/* The public key's algorithm as Go names it, and its size in bits (RSA
 * modulus, DSA prime, EC group order; 0 when it has none). */
static const char *tls_key_alg(const X509 *x, int *bits, char *buf, size_t n)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	ASN1_OBJECT *o = NULL;
	int id;

	*bits = 0;
	if (pk) {
		id = EVP_PKEY_base_id(pk);
		if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA ||
		    id == EVP_PKEY_EC)
			*bits = EVP_PKEY_bits(pk);
		switch (id) {
		case EVP_PKEY_RSA: case EVP_PKEY_RSA_PSS: return "RSA";
		case EVP_PKEY_DSA: return "DSA";
		case EVP_PKEY_EC: return "ECDSA";
		case EVP_PKEY_ED25519: return "Ed25519";
		default: break;
		}
	}
	/* a key libcrypto cannot load: name its algorithm */
	if (X509_PUBKEY_get0_param(&o, NULL, NULL, NULL, X509_get_X509_PUBKEY(x)) == 1 && o) {
		id = OBJ_obj2nid(o);
		if (id != NID_undef && OBJ_nid2sn(id))
			return OBJ_nid2sn(id);
		if (OBJ_obj2txt(buf, (int)n, o, 1) > 0)
			return buf;
	}
	return "unknown";
}

/* Subject alternative names as Go lists them: DNS names, e-mail
 * addresses, then IP addresses. */
static void tls_alt_names(struct pb_json *j, const X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, n, pass, any = 0;

	if (!gens)
		return;
	n = sk_GENERAL_NAME_num(gens);
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < n; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			const ASN1_STRING *s;
			const unsigned char *v;
			char ip[48];
			size_t len;

			if (pass == 0 && g->type == GEN_DNS)
				s = g->d.dNSName;
			else if (pass == 1 && g->type == GEN_EMAIL)
				s = g->d.rfc822Name;
			else if (pass == 2 && g->type == GEN_IPADD)
				s = g->d.iPAddress;
			else
				continue;
			if (!s)
				continue;
			v = ASN1_STRING_get0_data(s);
			len = (size_t)ASN1_STRING_length(s);
			if (pass == 2) {
				/* 4 or 16 bytes; an IPv4-mapped IPv6 address prints
				 * as IPv4, as in Go; another length is no address */
				if (len == 16 && !memcmp(v, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
					len = pb_format_ip(ip, v + 12, 4);
				else if (len == 4 || len == 16)
					len = pb_format_ip(ip, v, (int)len);
				else
					continue;
				v = (const unsigned char *)ip;
			}
			if (!any++) {
				pb_json_key(j, "alternative_names");
				pb_json_arr(j);
			}
			pb_json_str(j, v, len);
		}
	if (any)
		pb_json_arr_end(j);
	GENERAL_NAMES_free(gens);
}

/* One certificate as tls.*.x509 and tls.detailed.*_certificate_chain
 * hold it: Packetbeat's fields, in alphabetical order as it writes them. */
static void tls_x509_obj(struct tls_w *w, struct pb_json *j, const X509 *x)
{
	char buf[128];
	const char *s;
	int bits;
	ASN1_INTEGER *serial = (ASN1_INTEGER *)X509_get0_serialNumber(x);
	BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
	/* upper-case hex without leading zeros, as ECS asks and Packetbeat
	 * writes it (Go's big.Int in base 16) */
	char *dec = bn ? BN_bn2hex(bn) : NULL;

	pb_json_obj(j);
	tls_alt_names(j, x);
	pb_json_key(j, "issuer");
	tls_name_obj(w, j, X509_get_issuer_name(x));
	tls_json_time(j, "not_after", X509_get0_notAfter(x));
	tls_json_time(j, "not_before", X509_get0_notBefore(x));
	s = tls_key_alg(x, &bits, buf, sizeof(buf));
	pb_json_key(j, "public_key_algorithm");
	pb_json_cstr(j, s);
	if (bits > 0) {
		pb_json_key(j, "public_key_size");
		pb_json_u64(j, (uint64_t)bits);
	}
	if (dec) {
		char *h = dec + (*dec == '-'), *z = h;

		while (z[0] == '0' && z[1])
			z++;  /* BN_bn2hex writes whole bytes */
		if (z != h)
			memmove(h, z, strlen(z) + 1);
		pb_json_key(j, "serial_number");
		pb_json_cstr(j, dec);
	}
	pb_json_key(j, "signature_algorithm");
	pb_json_cstr(j, tls_sig_alg(x, buf, sizeof(buf)));
	pb_json_key(j, "subject");
	tls_name_obj(w, j, X509_get_subject_name(x));
	pb_json_key(j, "version_number");
	pb_json_i64(j, (int64_t)X509_get_version(x) + 1);
	pb_json_obj_end(j);
	OPENSSL_free(dec);
	BN_free(bn);
}

/* The chain in PEM, as include_raw_certificates asks. */
static void tls_pem(struct pb_buf *b, const uint8_t *der, size_t n)
{
	unsigned char line[72];
	size_t off;
	int k;

	pb_buf_clear(b);
	pb_buf_adds(b, "-----BEGIN CERTIFICATE-----\n");
	for (off = 0; off < n; off += 48) {
		/* 48 bytes make a 64-character line */
		k = EVP_EncodeBlock(line, der + off, (int)(n - off < 48 ? n - off : 48));
		pb_buf_add(b, line, (size_t)k);
		pb_buf_addc(b, '\n');
	}
	pb_buf_adds(b, "-----END CERTIFICATE-----\n");
}

/* tls.client.* or tls.server.* from one side's certificates. */
static void tls_write_certs(struct tls_w *w, struct pb_json *j, int dir)
{
	const struct tls_dir *d = &w->st->d[dir];
	const struct tls_conf *cf = w->cf;
	const X509 *leaf = w->x[dir][0];
	static const struct {
		unsigned bit;
		const char *key;
	} fp[] = { { TLS_FP_MD5, "md5" }, { TLS_FP_SHA1, "sha1" }, { TLS_FP_SHA256, "sha256" } };
	size_t k;
	unsigned i;

	if (!d->n_certs)
		return;
	if (cf->fingerprints) {
		pb_json_key(j, "hash");
		pb_json_obj(j);
		for (k = 0; k < TLS_N(fp); k++) {
			const EVP_MD *md = fp[k].bit == TLS_FP_MD5 ? EVP_md5() :
					   fp[k].bit == TLS_FP_SHA1 ? EVP_sha1() : EVP_sha256();

			if (!(cf->fingerprints & fp[k].bit) ||
			    tls_digest(&w->tmp, md, d->cert[0], d->cert_len[0], 1) < 0)
				continue;
			pb_json_keyn(j, fp[k].key, strlen(fp[k].key));
			tls_json_buf(j, &w->tmp);
		}
		pb_json_obj_end(j);
	}
	if (leaf) {
		tls_dn(&w->tmp, X509_get_issuer_name(leaf));
		pb_json_key(j, "issuer");
		tls_json_buf(j, &w->tmp);
		tls_json_time(j, "not_after", X509_get0_notAfter(leaf));
		tls_json_time(j, "not_before", X509_get0_notBefore(leaf));
		tls_dn(&w->tmp, X509_get_subject_name(leaf));
		pb_json_key(j, "subject");
		tls_json_buf(j, &w->tmp);
	}
	if (cf->include_raw_certificates) {
		pb_json_key(j, "certificate_chain");
		pb_json_arr(j);
		for (i = 0; i < d->n_certs; i++) {
			tls_pem(&w->tmp, d->cert[i], d->cert_len[i]);
			tls_json_buf(j, &w->tmp);
		}
		pb_json_arr_end(j);
	}
	if (cf->include_detailed_fields && cf->send_certificates && leaf) {
		pb_json_key(j, "x509");
		tls_x509_obj(w, j, leaf);
	}
}

/* tls.detailed.*_certificate_chain: the certificates after the leaf. */
static void tls_write_chain(struct tls_w *w, struct pb_json *j, int dir, const char *key)
{
	const struct tls_dir *d = &w->st->d[dir];
	unsigned i, any = 0;

	for (i = 1; i < d->n_certs; i++) {
		if (!w->x[dir][i])
			continue;
		if (!any++) {
			pb_json_keyn(j, key, strlen(key));
			pb_json_arr(j);
		}
		tls_x509_obj(w, j, w->x[dir][i]);
	}
	if (any)
		pb_json_arr_end(j);
}

/* -------------------------------------------------------------- writer */

/* The version in use: the ServerHello's supported_versions, else its
 * version, else the ClientHello's; 0 when no hello was seen. */
static unsigned tls_session_version(const struct tls_w *w)
{
	unsigned v;

	if (w->has_sh) {
		v = tls_supported_version(&w->sh);
		return v ? v : w->sh.version;
	}
	return w->has_ch ? w->ch.version : 0;
}

/* Resumed?  TLS 1.3: the server accepted a pre-shared key (from a
 * ticket).  Earlier: no key exchange, and the server echoed the client's
 * session id or answered its ticket (Packetbeat's rule); by ticket when
 * the client offered one, else by id. */
static int tls_resumed(const struct tls_w *w, const char **method)
{
	const struct tls_state *st = w->st;
	struct pb_cur b;
	int sid, ticket;

	if (!w->has_sh)
		return 0;
	if (st->sh_real && st->v13) {
		*method = "ticket";
		return tls_ext_find(&w->sh, 41, &b);
	}
	if (!w->has_ch || st->d[0].key_exchanged || st->d[1].key_exchanged)
		return 0;
	sid = w->ch.sid_len && w->ch.sid_len == w->sh.sid_len &&
	      !memcmp(w->ch.sid, w->sh.sid, w->ch.sid_len);
	/* a client offering a ticket and resumed used it: a server taking a
	 * ticket echoes the session id the client sent with it (RFC 5077,
	 * section 3.4) and may not answer with the extension at all */
	ticket = tls_ext_find(&w->ch, 35, &b) && pb_cur_left(&b) > 0;
	*method = ticket ? "ticket" : "id";
	return sid || (ticket && tls_ext_find(&w->sh, 35, &b));
}

static void tls_write_alerts(struct tls_w *w, struct pb_json *j)
{
	const struct tls_state *st = w->st;
	unsigned i, pass, any = st->d[0].n_alerts + st->d[1].n_alerts;
	int dir, s;

	/* alert_types: the names; alerts: objects as Packetbeat writes them */
	if (!any)
		return;
	/* the client's alerts first, as Packetbeat lists them */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			pb_json_key(j, "alert_types");
		else
			pb_json_key(j, "alerts");
		pb_json_arr(j);
		for (s = 0; s < 2; s++) {
			dir = s == 0 ? w->cl : !w->cl;
			for (i = 0; i < st->d[dir].n_alerts; i++) {
				unsigned level = st->d[dir].alert[i][0], desc = st->d[dir].alert[i][1];
				const char *name = tls_lookup(tls_alert_names, TLS_N(tls_alert_names), desc);

				if (pass == 0) {
					tls_json_name(j, name, "(unknown:0x%02x)", desc);
					continue;
				}
				pb_json_obj(j);
				pb_json_key(j, "code");
				pb_json_u64(j, desc);
				pb_json_key(j, "severity");
				tls_json_name(j, level == 1 ? "warning" : level == 2 ? "fatal" : NULL,
					      "(unknown:0x%02x)", level);
				pb_json_key(j, "source");
				pb_json_ascii(j, s == 0 ? "client" : "server", 6);
				pb_json_key(j, "type");
				tls_json_name(j, name, "(unknown:0x%02x)", desc);
				pb_json_obj_end(j);
			}
		}
		pb_json_arr_end(j);
	}
}

/* What a side sent in clear, and the first encrypted record after. */
static void tls_write_msgs(struct tls_w *w, struct pb_json *j, int dir, const char *key)
{
	const struct tls_dir *d = &w->st->d[dir];
	unsigned i;

	if (!d->n_msgs)
		return;
	pb_json_keyn(j, key, strlen(key));
	pb_json_arr(j);
	for (i = 0; i < d->n_msgs; i++)
		tls_json_name(j, tls_msg_name(d->msgs[i]), "(unknown:%u)", d->msgs[i]);
	pb_json_arr_end(j);
}

static void tls_write_detailed(struct tls_w *w, struct pb_json *j, unsigned ver,
			       int resumed, const char *method)
{
	static const char *const ocsp[] = {
		"successful", "malformedRequest", "internalError", "tryLater", NULL,
		"sigRequired", "unauthorized",
	};
	const struct tls_state *st = w->st;
	int sv = !w->cl;
	char buf[32];
	int k;

	pb_json_key(j, "detailed");
	pb_json_obj(j);
	if (ver) {
		k = tls_version_text(buf, sizeof(buf), ver);
		pb_json_key(j, "version");
		pb_json_ascii(j, buf, (size_t)k);
	}
	if (w->has_ch) {
		pb_json_key(j, "client_hello");
		tls_write_hello(w, j, &w->ch);
	}
	if (w->has_sh) {
		pb_json_key(j, "server_hello");
		tls_write_hello(w, j, &w->sh);
	}
	if (st->hrr) {
		pb_json_key(j, "hello_retry_request");
		pb_json_bool(j, 1);
	}
	pb_json_key(j, "client_certificate_requested");
	pb_json_bool(j, st->d[sv].cert_requested);
	if (resumed) {
		pb_json_key(j, "resumption_method");
		pb_json_cstr(j, method);
	}
	if (st->d[sv].ocsp) {
		unsigned v = (unsigned)st->d[sv].ocsp - 1;

		pb_json_key(j, "ocsp_response");
		tls_json_name(j, v < TLS_N(ocsp) ? ocsp[v] : NULL, "%u", v);
	}
	tls_write_alerts(w, j);
	tls_write_msgs(w, j, w->cl, "client_handshake_messages");
	tls_write_msgs(w, j, sv, "server_handshake_messages");
	if (w->cf->send_certificates) {
		tls_write_chain(w, j, sv, "server_certificate_chain");
		tls_write_chain(w, j, w->cl, "client_certificate_chain");
	}
	if (w->ja3.len) {
		pb_json_key(j, "ja3_string");
		tls_json_buf(j, &w->ja3);
	}
	if (w->ja3s.len) {
		pb_json_key(j, "ja3s_string");
		tls_json_buf(j, &w->ja3s);
	}
	if (w->ja4r.len) {
		pb_json_key(j, "ja4_r");
		tls_json_buf(j, &w->ja4r);
	}
	pb_json_obj_end(j);
}

/* The event's "tls" object (pb_txn.write). */
static void tls_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	struct tls_w *w = arg;
	const struct tls_state *st = w->st;
	int cl = w->cl, sv = !cl, resumed;
	unsigned ver = tls_session_version(w);
	const char *method = "id";
	char buf[32];
	int k;

	(void)t;
	resumed = tls_resumed(w, &method);
	pb_json_key(j, "tls");
	pb_json_obj(j);
	/* ECS: tls.version "1.2" with tls.version_protocol "tls", SSL 3.0 as
	 * "3.0" with "ssl"; nothing when no hello said a version */
	if (ver) {
		unsigned major = ver >> 8, minor = ver & 0xff;
		const char *proto = major == 3 && minor > 0 ? "tls" :
				    major == 3 || ver == 0x0002 ? "ssl" : "unknown";

		k = major == 3 && minor > 0 ? snprintf(buf, sizeof(buf), "1.%u", minor - 1) :
		    major == 3 ? snprintf(buf, sizeof(buf), "3.0") :
		    ver == 0x0002 ? snprintf(buf, sizeof(buf), "2.0") :
		    snprintf(buf, sizeof(buf), "%u.%u", major, minor);
		pb_json_key(j, "version");
		pb_json_ascii(j, buf, (size_t)k);
		pb_json_key(j, "version_protocol");
		pb_json_cstr(j, proto);
	}
	/* both written even when false, as Packetbeat does */
	pb_json_key(j, "established");
	pb_json_bool(j, st->established);
	pb_json_key(j, "resumed");
	pb_json_bool(j, resumed);
	/* the suite selected by the (last) ServerHello */
	if (w->has_sh) {
		pb_json_key(j, "cipher");
		tls_json_cipher(j, w->sh.cipher);
	}
	if (st->has_curve) {
		pb_json_key(j, "curve");
		tls_json_name(j, tls_lookup(tls_groups, TLS_N(tls_groups), st->curve),
			      "(unknown:0x%04x)", st->curve);
	}
	if (w->has_sh) {
		struct pb_cur b;
		const uint8_t *s;
		unsigned n;

		/* the protocol the server picked: the first (only) ALPN name */
		if (tls_ext_find(&w->sh, 16, &b)) {
			pb_cur_skip(&b, 2);
			n = pb_cur_u8(&b);
			if ((s = pb_cur_bytes(&b, n)) != NULL) {
				pb_json_key(j, "next_protocol");
				pb_json_str(j, s, n);
			}
		}
	}
	/* tls.client: what the client offered, and its certificate */
	if (w->has_ch || st->d[cl].n_certs) {
		pb_json_key(j, "client");
		pb_json_obj(j);
		if (st->sni_len) {
			pb_json_key(j, "server_name");
			pb_json_str(j, st->sni, st->sni_len);
		}
		if (w->has_ch) {
			struct pb_cur cu;
			uint32_t v;
			int any = 0;

			if (tls_digest(&w->tmp, EVP_md5(), w->ja3.data, w->ja3.len, 0) == 0) {
				pb_json_key(j, "ja3");
				tls_json_buf(j, &w->tmp);
			}
			if (w->ja4.len) {
				pb_json_key(j, "ja4");
				tls_json_buf(j, &w->ja4);
			}
			pb_cur_init(&cu, w->ch.suites ? w->ch.suites : (const uint8_t *)"",
				    w->ch.suites_len);
			while (tls_suite_next(&cu, w->ch.v2, &v)) {
				if (tls_grease(v))
					continue;
				if (!any++) {
					pb_json_key(j, "supported_ciphers");
					pb_json_arr(j);
				}
				tls_json_cipher(j, v);
			}
			if (any)
				pb_json_arr_end(j);
		}
		tls_write_certs(w, j, cl);
		pb_json_obj_end(j);
	}
	/* tls.server: JA3S and the server's certificate */
	if (w->has_sh || st->d[sv].n_certs) {
		pb_json_key(j, "server");
		pb_json_obj(j);
		if (w->has_sh &&
		    tls_digest(&w->tmp, EVP_md5(), w->ja3s.data, w->ja3s.len, 0) == 0) {
			pb_json_key(j, "ja3s");
			tls_json_buf(j, &w->tmp);
		}
		tls_write_certs(w, j, sv);
		pb_json_obj_end(j);
	}
	if (w->cf->include_detailed_fields)
		tls_write_detailed(w, j, ver, resumed, method);
	pb_json_obj_end(j);
}

/* The kept hello of a kind (client or server), preferring the side that
 * plays that role; 0 when there is none or it no longer reads. */
static int tls_pick_hello(struct tls_state *st, int prefer, int server,
			  struct tls_hello *h)
{
	int i, dir;

	for (i = 0; i < 2; i++) {
		const struct tls_dir *d;

		dir = i == 0 ? prefer : !prefer;
		d = &st->d[dir];
		if (d->hello && d->hello_server == server &&
		    tls_hello_read(h, d->hello, d->hello_len, server, d->hello_v2) == 0)
			return 1;
	}
	return 0;
}

/* Hand the session to the engine, once: on establishment, a fatal alert
 * or close_notify, FIN, gaps on both sides, timeout or close.  A
 * connection that showed no hello, alert or certificate gives nothing. */
static void tls_emit(struct pb_txn_conn *c, struct tls_state *st)
{
	struct tls_w *w;
	struct pb_txn t;
	struct pb_cur b, l;
	unsigned i, k;
	int dir;

	/* once per connection: what follows is ignored */
	if (st->sent)
		return;
	st->sent = 1;
	/* bytes that never made a hello, alert or certificate: no event,
	 * as in Packetbeat (a port-443 connection that is not TLS) */
	if (!tls_dir_info(&st->d[0]) && !tls_dir_info(&st->d[1]))
		goto out;
	/* the writer's scratch lives only for this call */
	if (!(w = calloc(1, sizeof(*w))))
		goto out;
	w->st = st;
	w->cf = c->conf ? (const struct tls_conf *)c->conf : &tls_conf_default;
	w->cl = tls_client_dir(c, st);
	pb_buf_init(&w->ja3, TLS_SCRATCH_MAX);
	pb_buf_init(&w->ja3s, TLS_SCRATCH_MAX);
	pb_buf_init(&w->ja4, TLS_SCRATCH_MAX);
	pb_buf_init(&w->ja4r, TLS_SCRATCH_MAX);
	pb_buf_init(&w->tmp, TLS_SCRATCH_MAX);
	/* the hellos are read again from their copies; fingerprints and
	 * the domain are worked out once, here */
	w->has_ch = tls_pick_hello(st, w->cl, 0, &w->ch);
	w->has_sh = tls_pick_hello(st, !w->cl, 1, &w->sh);
	if (w->has_ch) {
		tls_ja3(&w->ja3, &w->ch);
		tls_ja4(w, &w->ch);
		/* the first host_name of server_name is the session's domain */
		if (tls_ext_find(&w->ch, 0, &b)) {
			l = pb_cur_sub(&b, pb_cur_be16(&b));
			while (pb_cur_left(&l) >= 3) {
				unsigned type = pb_cur_u8(&l), n = pb_cur_be16(&l);
				const uint8_t *s = pb_cur_bytes(&l, n);

				if (!s)
					break;
				if (type != 0)
					continue;
				st->sni_len = n < TLS_SNI_MAX ? n : TLS_SNI_MAX;
				memcpy(st->sni, s, st->sni_len);
				st->sni[st->sni_len] = '\0';
				break;
			}
		}
	}
	if (w->has_sh)
		tls_ja3(&w->ja3s, &w->sh);
	/* certificates are read here, once, from the kept DER */
	for (dir = 0; dir < 2; dir++)
		for (k = 0; k < st->d[dir].n_certs; k++) {
			const unsigned char *q = st->d[dir].cert[k];

			w->x[dir][k] = d2i_X509(NULL, &q, (long)st->d[dir].cert_len[k]);
			if (!w->x[dir][k])
				tls_anomaly(c, st, TLS_AN_BAD_CERTIFICATE);
		}

	/* the common fields: a request (the client's side) and a response
	 * (the server's), no byte counts (Packetbeat writes none for TLS),
	 * the handshake's time, status, domain and notes */
	memset(&t, 0, sizeof(t));
	t.client = (uint8_t)w->cl;
	t.has_request = (uint8_t)tls_dir_info(&st->d[w->cl]);
	t.has_response = (uint8_t)tls_dir_info(&st->d[!w->cl]);
	t.no_bytes = 1;
	t.start_ns = st->start_ns;
	t.end_ns = st->end_ns;
	t.first_pkt = st->first_pkt;
	t.last_pkt = st->last_pkt;
	t.status = st->established && !st->fatal ? "OK" : "Error";
	if (st->sni_len && st->sni[0]) {
		t.server_domain = st->sni;
		pb_txn_host(&t, st->sni);
	}
	for (i = 0; i < st->n_anom; i++)
		pb_txn_note(&t, tls_an_msg[st->anom[i]]);
	t.write = tls_write;
	t.arg = w;
	pb_txn_emit(c, &t);

	for (dir = 0; dir < 2; dir++)
		for (k = 0; k < TLS_MAX_CERTS; k++)
			X509_free(w->x[dir][k]);
	pb_buf_release(&w->ja3);
	pb_buf_release(&w->ja3s);
	pb_buf_release(&w->ja4);
	pb_buf_release(&w->ja4r);
	pb_buf_release(&w->tmp);
	free(w);
out:
	/* nothing more is parsed: what the session kept can go now */
	tls_release(st);
}

/* ------------------------------------------------------------ protocol */

static const uint16_t tls_ports[] = { 443, 993, 995, 5223, 8443, 8883, 9243 };

/* the options of its own (pb_proto.keys) */
static const char *const tls_keys[] = {
	"send_certificates",
	"include_raw_certificates",
	"include_detailed_fields",
	"fingerprints",
	NULL
};

const struct pb_proto pb_proto_tls = {
	.name = "tls",
	.transports = PB_TP_TCP,
	.ports = tls_ports,
	.n_ports = sizeof(tls_ports) / sizeof(tls_ports[0]),
	.conf_size = sizeof(struct tls_conf),
	.conf_init = tls_conf_init,
	.conf_load = tls_conf_load,
	.state_size = sizeof(struct tls_state),
	.parse = tls_parse,
	.gap = tls_gap,
	.fin = tls_fin,
	.expire = tls_expire,
	.close = tls_close,
	.keys = tls_keys,
};
