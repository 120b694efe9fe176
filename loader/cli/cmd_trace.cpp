// trace: the decision path of packets matching filters (bpf/lib/trace.h).
// Turns tracing on in fw_trace_cfg with a lease it renews every second,
// prints each event, and turns it off on exit (or the lease runs out a few
// seconds after a killed tracer). One tracer per pin dir at a time.
#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>
#include <net/if.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "commands.h"

namespace fw::cli {

namespace {

using nlohmann::json;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

uint64_t clock_ns(clockid_t id)
{
	struct timespec ts {};
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

constexpr uint64_t kLeaseNs = 5000000000ull; // renewed every second

struct Filters {
	std::string in, saddr, daddr, proto;
	int dport = -1;
	unsigned count = 0; // 0: until stopped
	bool json = false;
};

void set_prefix(const std::string &text, const char *opt, uint8_t *addr, uint8_t *mask, uint8_t &family)
{
	std::string why;
	auto p = prefix_parse(text, &why);
	if (!p)
		throw InputError(std::string(opt) + " " + text + ": " + (why.empty() ? "not an address or prefix" : why));
	if (family && family != p->family)
		throw InputError("--saddr and --daddr name different address families");
	family = (uint8_t)p->family;
	for (int i = 0; i < p->len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (int i = 0; i < 16; i++)
		addr[i] = p->addr[i] & mask[i];
}

fw_trace_cfg build_cfg(const Filters &f)
{
	fw_trace_cfg c{};
	if (!f.in.empty()) {
		c.in_ifindex = if_nametoindex(f.in.c_str());
		if (!c.in_ifindex)
			throw InputError("--in " + f.in + ": no such interface in this network namespace");
	}
	if (!f.saddr.empty())
		set_prefix(f.saddr, "--saddr", c.saddr, c.smask, c.family);
	if (!f.daddr.empty())
		set_prefix(f.daddr, "--daddr", c.daddr, c.dmask, c.family);
	if (!f.proto.empty()) {
		auto p = proto_from_name(f.proto);
		if (!p && !f.proto.empty() && f.proto.find_first_not_of("0123456789") == std::string::npos &&
		    std::stoi(f.proto) < 256)
			p = (uint8_t)std::stoi(f.proto);
		if (!p)
			throw InputError("--proto " + f.proto + ": not a protocol name or number (tcp, udp, icmp, ...)");
		c.proto = *p;
		c.match_proto = 1;
	}
	if (f.dport >= 0) {
		c.dport = (uint16_t)f.dport;
		c.match_dport = 1;
	}
	return c;
}

const char *ct_name(uint8_t ct)
{
	static const char *n[] = {"new", "established", "related", "invalid"};
	return ct < 4 ? n[ct] : "?";
}

const char *verdict_name(uint8_t v)
{
	return v == FW_VERDICT_ACCEPT ? "accept" : v == FW_VERDICT_REJECT ? "reject" : "drop";
}

const char *xdp_name(uint32_t a)
{
	switch (a) {
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "XDP_ABORTED";
	}
}

std::string fast_text(const fw_trace_event &e)
{
	static const char *fib[] = {"routed", "blackhole route", "unreachable route", "prohibited route",
				    "not forwarded (local delivery or no route)", "forwarding disabled",
				    "unsupported route (lwt)", "no neighbour entry yet", "needs fragmenting",
				    "no source address"};
	switch (e.fast) {
	case FW_TRACE_FAST_TAKEN:
		return "taken (bpf_redirect)";
	case FW_TRACE_FAST_OFF:
		return "not taken: the ruleset has no \"fastpath\": true";
	case FW_TRACE_FAST_FIRST_NAT:
		return "not taken: first packet of a connection when NAT rules exist (TC egress translates it)";
	case FW_TRACE_FAST_SHAPE:
		return "not taken: VLAN-tagged, a fragment, or a short transport header";
	case FW_TRACE_FAST_TTL:
		return "not taken: TTL/hop limit <= 1 (the stack answers time exceeded)";
	case FW_TRACE_FAST_IPSEC:
		return "not taken: IPsec (IKE, NAT-T, ESP, AH) always takes the stack";
	case FW_TRACE_FAST_MULTI:
		return "not taken: broadcast or multicast";
	case FW_TRACE_FAST_FIB:
		return std::string("not taken: ") + (e.fib_rc < 10 ? fib[e.fib_rc] : "FIB lookup failed");
	case FW_TRACE_FAST_OUT_DEV:
		return "not taken: the egress device cannot transmit XDP frames";
	case FW_TRACE_FAST_CSUM:
		return "not taken: transport checksum not verified (possibly unfinished by a local stack)";
	case FW_TRACE_FAST_NAT:
		return "not taken: the source rewrite failed";
	case FW_TRACE_FAST_TUN:
		return "not taken: a TUN device (no link layer to redirect from)";
	default:
		return "not offered (not an accepted forwarded packet)";
	}
}

std::string endpoint(const fw_tuple &t, bool src)
{
	char buf[INET6_ADDRSTRLEN] = {};
	inet_ntop(t.family == 6 ? AF_INET6 : AF_INET, src ? t.saddr : t.daddr, buf, sizeof buf);
	std::string a = t.family == 6 ? "[" + std::string(buf) + "]" : buf;
	if (proto_has_ports(t.proto))
		a += ":" + std::to_string(src ? t.sport : t.dport);
	return t.family == 6 && !proto_has_ports(t.proto) ? buf : a;
}

// What NAT did or will do to this packet, from its connection's entry.
json nat_json(const fw_trace_event &e)
{
	if (!e.ct_found || !e.ct_nat)
		return nullptr;
	const fw_tuple &o = e.ct_other;
	if (e.ct_dir == FW_CT_DIR_ORIG) { // o is the reply tuple
		json j = json::array();
		if (e.ct_nat & FW_CT_NAT_DNAT)
			j.push_back({{"kind", "port-forward"}, {"to", endpoint(o, true)}});
		if (e.ct_nat & FW_CT_NAT_SNAT)
			j.push_back({{"kind", "masquerade"}, {"to", endpoint(o, false)}});
		return j;
	}
	json j = json::array(); // a reply: o is the original tuple
	if (e.ct_nat & FW_CT_NAT_SNAT)
		j.push_back({{"kind", "reply of masquerade"}, {"to", endpoint(o, true)}});
	if (e.ct_nat & FW_CT_NAT_DNAT)
		j.push_back({{"kind", "reply of port-forward"}, {"from", endpoint(o, false)}});
	return j;
}

std::string ifname(uint32_t i)
{
	char b[IF_NAMESIZE] = {};
	return i == 0 ? "" : if_indextoname(i, b) ? b : "if" + std::to_string(i);
}

class Tracer {
public:
	Tracer(Runtime &rt, const Filters &f) : rt_(rt), f_(f)
	{
		auto st = rt.applied();
		if (st)
			ruleset_ = st->ruleset_json();
		offset_ns_ = (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_MONOTONIC);
	}

	json event_json(const fw_trace_event &e) const
	{
		json j = {{"time", iso_time_utc((uint64_t)((int64_t)e.ktime_ns + offset_ns_))},
			  {"in", ifname(e.in_ifindex)},
			  {"src", endpoint(e.orig, true)},
			  {"dst", endpoint(e.orig, false)},
			  {"proto", proto_name(e.orig.proto)},
			  {"len", e.len}};
		if (e.out_ifindex)
			j["out"] = ifname(e.out_ifindex);
		j["chain"] = e.chain == FW_CHAIN_INPUT ? "input" : e.chain == FW_CHAIN_FORWARD ? "forward" : "";
		j["state"] = ct_name(e.ct);
		static const char *by[] = {"", "neighbour-discovery", "conntrack", "rule", "policy", "fragment", "nat-failed"};
		j["decided_by"] = e.by < 7 ? by[e.by] : "?";
		if (e.by == FW_TRACE_BY_RULE) {
			j["position"] = e.position;
			j["comment"] = comment(e.chain, e.position);
		}
		j["verdict"] = e.by == FW_TRACE_BY_FRAGMENT ? (e.xdp_action == XDP_DROP ? "drop" : "accept")
							    : verdict_name(e.verdict);
		j["nat"] = nat_json(e);
		j["fastpath"] = {{"taken", e.fast == FW_TRACE_FAST_TAKEN}, {"why", fast_text(e)}};
		j["xdp"] = xdp_name(e.xdp_action);
		return j;
	}

	static std::string text(const json &j)
	{
		std::string s = j["time"].get<std::string>() + " in=" + j["in"].get<std::string>();
		if (j.contains("out"))
			s += " out=" + j["out"].get<std::string>();
		s += " " + j["proto"].get<std::string>() + " " + j["src"].get<std::string>() + " -> " +
		     j["dst"].get<std::string>() + " len=" + std::to_string(j["len"].get<uint32_t>());
		if (!j["chain"].get<std::string>().empty())
			s += "\n  chain " + j["chain"].get<std::string>();
		s += "\n  state " + j["state"].get<std::string>();
		std::string by = j["decided_by"];
		if (by == "rule") {
			s += "\n  rule " + std::to_string(j["position"].get<uint32_t>());
			if (!j["comment"].get<std::string>().empty())
				s += " \"" + j["comment"].get<std::string>() + "\"";
		} else if (!by.empty())
			s += "\n  " + by;
		s += ": " + j["verdict"].get<std::string>();
		if (j["nat"].is_array())
			for (auto &n : j["nat"])
				s += "\n  nat " + n["kind"].get<std::string>() + " " +
				     (n.contains("to") ? "to " + n["to"].get<std::string>()
						       : "from " + n["from"].get<std::string>());
		s += "\n  fast path " + j["fastpath"]["why"].get<std::string>();
		s += "\n  " + j["xdp"].get<std::string>();
		return s;
	}

	void print(const fw_trace_event &e)
	{
		json j = event_json(e);
		std::cout << (f_.json ? j.dump() : text(j)) << std::endl;
		printed_++;
	}
	unsigned printed() const { return printed_; }

private:
	Runtime &rt_;
	const Filters &f_;
	json ruleset_;
	int64_t offset_ns_ = 0;
	unsigned printed_ = 0;

	std::string comment(uint8_t chain, uint32_t pos) const
	{
		const char *k = chain == FW_CHAIN_INPUT ? "input" : "forward";
		if (!ruleset_.contains(k) || pos < 1 || pos > ruleset_[k].size())
			return "";
		return ruleset_[k][pos - 1].value("comment", "");
	}
};

int on_event(void *ctx, void *data, size_t size)
{
	auto *t = static_cast<Tracer *>(ctx);
	if (size < sizeof(fw_trace_event))
		return 0;
	fw_trace_event e;
	memcpy(&e, data, sizeof e);
	t->print(e);
	return 0;
}

void run_trace(Runtime &rt, const Filters &f)
{
	int cfg_fd = rt.map_fd("fw_trace_cfg"), rb_fd = rt.map_fd("fw_trace_rb");
	if (cfg_fd < 0 || rb_fd < 0)
		throw SystemError("the running datapath predates `fwctl trace`: re-apply with this fwctl");
	fw_trace_cfg cfg = build_cfg(f), cur{};
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(cfg_fd, &zero, &cur) == 0 && cur.on && cur.lease_ns > clock_ns(CLOCK_MONOTONIC))
		throw SystemError("another `fwctl trace` is running on " + rt.pin_dir() + " (one at a time)");
	Tracer tracer(rt, f);
	struct ring_buffer *rb = ring_buffer__new(rb_fd, on_event, &tracer, nullptr);
	if (!rb)
		throw SystemError(errno_message("cannot read the trace ring buffer", errno));
	ring_buffer__consume(rb); // leftovers of an earlier tracer
	auto arm = [&](bool on) {
		cfg.on = on;
		cfg.lease_ns = on ? clock_ns(CLOCK_MONOTONIC) + kLeaseNs : 0;
		return bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
	};
	if (arm(true) != 0) {
		ring_buffer__free(rb);
		throw SystemError(errno_message("cannot turn tracing on", errno));
	}
	while (!g_stop && (!f.count || tracer.printed() < f.count)) {
		struct epoll_event ev {};
		int n = epoll_wait(ring_buffer__epoll_fd(rb), &ev, 1, 1000);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0)
			ring_buffer__consume(rb);
		arm(true); // renew the lease
	}
	arm(false);
	ring_buffer__free(rb);
}

} // namespace

void register_trace_command(CLI::App &app, Context &ctx)
{
	static Filters f;
	auto *t = app.add_subcommand("trace", "print the decision path of packets matching the filters");
	t->add_option("--in", f.in, "arriving on this interface");
	t->add_option("--saddr", f.saddr, "source address or prefix");
	t->add_option("--daddr", f.daddr, "destination address or prefix");
	t->add_option("--proto", f.proto, "protocol name or number");
	t->add_option("--dport", f.dport, "destination port (as it arrived)")->check(CLI::Range(0, 65535));
	t->add_option("--count", f.count, "stop after N packets (default: until stopped)");
	t->add_flag("--json", f.json, "one JSON object per packet");
	t->callback([&ctx] {
		build_cfg(f); // bad filters are exit 2 before anything else
		if (geteuid() != 0)
			throw SystemError("tracing changes the datapath's settings and needs root (run it with sudo)");
		Runtime rt(ctx.pin_dir);
		if (!rt.loaded())
			throw SystemError("nothing is applied at " + ctx.pin_dir + " (run `fwctl apply FILE`)");
		struct sigaction sa {};
		sa.sa_handler = on_signal; // no SA_RESTART: epoll_wait returns EINTR
		sigaction(SIGINT, &sa, nullptr);
		sigaction(SIGTERM, &sa, nullptr);
		sigaction(SIGHUP, &sa, nullptr);
		signal(SIGPIPE, SIG_IGN);
		run_trace(rt, f);
	});
}

} // namespace fw::cli
