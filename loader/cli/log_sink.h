// Where `fwctl log` writes an event: a text line or a JSON object on stdout,
// or the systemd journal with one field per attribute (`--journal`).
#pragma once

#include <cstdint>
#include <string>

namespace fw::cli {

// One log event, resolved to names (interfaces, protocol, comment).
struct LogRecord {
	std::string time; // ISO 8601 UTC with milliseconds
	std::string chain, comment, verdict, in, out; // out: "" when unknown (input chain)
	std::string src, dst, proto;                  // proto: a name, or the number as text
	bool proto_is_number = false;
	bool has_ports = false;
	uint32_t position = 0, len = 0;
	uint16_t sport = 0, dport = 0;
};

// `TIME CHAIN POSITION ["COMMENT"] VERDICT in=IF [out=IF] src=A dst=A proto=P [sport=N dport=N] len=N`
std::string log_text_line(const LogRecord &r);
// One JSON object (cli.md's shape, plus len).
std::string log_json_line(const LogRecord &r);
// The journal's one-line MESSAGE, in the manner of an nftables log prefix
// line: `fwctl forward 5 "catch-all log" drop: IN=vlan2 OUT=vlan1 SRC=... DST=... LEN=.. PROTO=UDP SPT=.. DPT=..`
std::string log_journal_message(const LogRecord &r);
// Sends the event to the journal (sd_journal_sendv) with the FWCTL_* fields
// (docs/ops.md); returns 0 or a negative errno.
int log_journal_send(const LogRecord &r, const std::string &pin_dir);

} // namespace fw::cli
