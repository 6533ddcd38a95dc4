/*
 * txn_record.h - one transaction event (pb-ndjson(5), "Transaction
 * events"): the common fields from the connection and the transaction,
 * then the protocol's own.
 */
#ifndef PB_TXN_RECORD_H
#define PB_TXN_RECORD_H

#include <stdint.h>

#include "proto/proto.h"
#include "util/buf.h"

struct pb_txn_record_opts {
	uint16_t cid_seed;           /* Community ID seed */
};

/* Append the event of t on connection c to out, with its newline. */
void pb_txn_record(struct pb_buf *out, const struct pb_txn_conn *c,
		   const struct pb_txn *t, const struct pb_txn_record_opts *o);

#endif
