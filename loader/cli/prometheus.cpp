// `fwctl stats --prometheus`: the Prometheus text exposition format (0.0.4).
// Every counter is a `_total` counter family; the connection table's fill
// and capacity and the maps' memory are gauges. Rule counters carry the
// labels chain, position, action and comment, so a dashboard keeps a rule's
// series across re-applies as long as its position does not move.
#include <sstream>

#include "conntrack.h"
#include "stats_export.h"

namespace fw::cli {

namespace {

using nlohmann::json;

// Label values escape backslash, double quote and newline (the format's
// only escapes).
std::string escape(const std::string &v)
{
	std::string out;
	for (char c : v) {
		if (c == '\\')
			out += "\\\\";
		else if (c == '"')
			out += "\\\"";
		else if (c == '\n')
			out += "\\n";
		else
			out += c;
	}
	return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
public:
	// Starts a metric family: HELP and TYPE once, before its samples.
	void family(const std::string &name, const char *type, const std::string &help)
	{
		out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
	}
	void sample(const std::string &name, const Labels &labels, uint64_t value)
	{
		out_ << name;
		if (!labels.empty()) {
			out_ << "{";
			for (size_t i = 0; i < labels.size(); i++)
				out_ << (i ? "," : "") << labels[i].first << "=\"" << escape(labels[i].second) << "\"";
			out_ << "}";
		}
		out_ << " " << value << "\n";
	}
	std::string text() const { return out_.str(); }

private:
	std::ostringstream out_;
};

uint64_t u(const json &j, const char *k)
{
	return j.at(k).get<uint64_t>();
}

void rules(Exposition &x, const json &s)
{
	for (const char *what : {"packets", "bytes"}) {
		std::string name = std::string("fwctl_rule_") + what + "_total";
		x.family(name, "counter",
			 std::string(what) + " the rule matched (bytes: IP packet lengths), by chain and position");
		for (const char *chain : {"input", "forward"})
			for (auto &r : s["chains"][chain]["rules"])
				x.sample(name,
					 {{"chain", chain},
					  {"position", std::to_string(r["position"].get<int>())},
					  {"action", r["action"].get<std::string>()},
					  {"comment", r["comment"].get<std::string>()}},
					 u(r, what));
	}
	for (const char *what : {"packets", "bytes"}) {
		std::string name = std::string("fwctl_policy_") + what + "_total";
		x.family(name, "counter", std::string(what) + " that met the chain's policy");
		for (const char *chain : {"input", "forward"}) {
			const json &c = s["chains"][chain];
			x.sample(name, {{"chain", chain}, {"policy", c["policy"].get<std::string>()}},
				 u(c, (std::string("policy_") + what).c_str()));
		}
	}
}

void nat(Exposition &x, const json &s)
{
	for (const char *kind : {"nat", "port-forward"})
		for (const char *what : {"packets", "bytes"}) {
			std::string base = std::string(kind) == "nat" ? "fwctl_nat_" : "fwctl_port_forward_";
			std::string name = base + what + "_total";
			x.family(name, "counter",
				 std::string(what) + " of connections the " + kind + " rule translated, by position");
			for (auto &e : s[kind])
				x.sample(name,
					 {{"position", std::to_string(e["position"].get<int>())},
					  {"comment", e.value("comment", "")}},
					 u(e, what));
		}
}

void state(Exposition &x, const json &s)
{
	const json &st = s["state"];
	x.family("fwctl_state_packets_total", "counter",
		 "packets the connection table decided before the chains, by state");
	for (const char *k : {"established", "related", "invalid"})
		x.sample("fwctl_state_packets_total", {{"state", k}}, u(st[k], "packets"));
	x.family("fwctl_state_bytes_total", "counter", "bytes the connection table decided, by state");
	for (const char *k : {"established", "related", "invalid"})
		x.sample("fwctl_state_bytes_total", {{"state", k}}, u(st[k], "bytes"));
	x.family("fwctl_conntrack_new_total", "counter", "connections the table recorded");
	x.sample("fwctl_conntrack_new_total", {}, u(st, "new"));
	x.family("fwctl_conntrack_table_full_total", "counter", "new connections that could not be stored");
	x.sample("fwctl_conntrack_table_full_total", {}, u(st, "table_full"));
	x.family("fwctl_log_events_total", "counter", "log events queued for `fwctl log`");
	x.sample("fwctl_log_events_total", {}, u(s["log"], "events"));
	x.family("fwctl_log_suppressed_total", "counter",
		 "log events dropped: over the log limit or the ring buffer full");
	x.sample("fwctl_log_suppressed_total", {}, u(s["log"], "suppressed"));
	x.family("fwctl_other_packets_total", "counter",
		 "packets decided outside the chains (malformed, neighbour discovery, fast path, ...)");
	for (auto &[k, v] : s["other"].items())
		x.sample("fwctl_other_packets_total", {{"what", k}}, v.is_object() ? u(v, "packets") : v.get<uint64_t>());
}

void table_and_memory(Exposition &x, const Runtime &rt, const AppliedState &st)
{
	x.family("fwctl_conntrack_connections", "gauge", "live connections in the table");
	x.sample("fwctl_conntrack_connections", {}, conntrack_list(rt).size());
	x.family("fwctl_conntrack_capacity", "gauge", "connections the table holds (conntrack.max-connections)");
	x.sample("fwctl_conntrack_capacity", {}, rt.ct_capacity());
	x.family("fwctl_map_memory_bytes", "gauge", "kernel memory of each pinned map");
	for (auto &m : rt.map_memory())
		x.sample("fwctl_map_memory_bytes", {{"map", m.name}, {"type", m.type}}, m.bytes);
	x.family("fwctl_ruleset_applied_timestamp_seconds", "gauge", "when the running ruleset was applied");
	x.sample("fwctl_ruleset_applied_timestamp_seconds", {{"hash", st.hash}}, st.applied_ns / 1000000000ull);
}

} // namespace

std::string prometheus_text(const Runtime &rt, const AppliedState &st)
{
	json s = stats_json(rt, st);
	Exposition x;
	rules(x, s);
	nat(x, s);
	state(x, s);
	table_and_memory(x, rt, st);
	return x.text();
}

} // namespace fw::cli
