/*
 * flow_record.h - the flow event pb-flows writes (pb-ndjson(5)).
 */
#ifndef PB_FLOW_RECORD_H
#define PB_FLOW_RECORD_H

#include "flow/flow.h"
#include "util/buf.h"

struct pb_flow_record_opts {
	uint16_t cid_seed;   /* Community ID seed */
};

/* Append one flow event and a newline to out: the report of f made at
 * when_ns for the reason why. */
void pb_flow_record(struct pb_buf *out, const struct pb_flow *f, int64_t when_ns,
		    enum pb_flow_why why, const struct pb_flow_record_opts *o);

#endif
