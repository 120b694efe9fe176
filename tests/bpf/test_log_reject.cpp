// Log events (ring buffer, shared token bucket) and reject answers (TCP RST,
// ICMP/ICMPv6 port unreachable) built by the XDP program.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <thread>
#include <time.h>

#include <bpf/libbpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// Drains fw_log_rb: every event waiting, in order.
std::vector<fw_log_event> drain_log(Harness &h)
{
	std::vector<fw_log_event> out;
	int fd = h.runtime().map_fd("fw_log_rb");
	REQUIRE(fd >= 0);
	auto cb = [](void *ctx, void *data, size_t size) -> int {
		if (size >= sizeof(fw_log_event))
			static_cast<std::vector<fw_log_event> *>(ctx)->push_back(
				*static_cast<fw_log_event *>(data));
		return 0;
	};
	struct ring_buffer *rb = ring_buffer__new(fd, cb, &out, nullptr);
	REQUIRE(rb != nullptr);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return out;
}

uint64_t monotonic_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void put32(std::vector<uint8_t> &b, size_t off, uint32_t v)
{
	b[off] = (uint8_t)(v >> 24), b[off + 1] = (uint8_t)(v >> 16);
	b[off + 2] = (uint8_t)(v >> 8), b[off + 3] = (uint8_t)v;
}

uint32_t get32(const std::vector<uint8_t> &b, size_t off)
{
	return (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 | b[off + 3];
}

// A TCP segment with chosen seq/ack/flags and payload length.
Packet tcp_seg(const std::string &src, const std::string &dst, uint16_t sport, uint16_t dport,
	       uint8_t flags, uint32_t seq, uint32_t ack, size_t payload = 0)
{
	auto h = Packet::ports_header(sport, dport, 20 + payload);
	put32(h, 4, seq);
	put32(h, 8, ack);
	h[12] = 5 << 4;
	h[13] = flags;
	h[14] = 0xff, h[15] = 0xff;
	for (size_t i = 0; i < payload; i++)
		h[20 + i] = (uint8_t)i;
	return Packet::ip(src, dst, 6, h);
}

bool macs_swapped(const Packet &in, const Packet &out)
{
	return std::equal(in.bytes.begin(), in.bytes.begin() + 6, out.bytes.begin() + 6) &&
	       std::equal(in.bytes.begin() + 6, in.bytes.begin() + 12, out.bytes.begin());
}

const char *kLogRules = R"({ "policy": {"input": "accept", "forward": "accept"},
  "log": {"limit": "10/second", "burst": 5},
  "input": [
    {"action": "accept", "proto": "udp", "dport": 7},
    {"action": "drop", "proto": "udp", "dport": 9, "log": true, "comment": "discard"},
    {"action": "reject", "proto": "tcp", "dport": 23, "log": true}
  ],
  "forward": [
    {"action": "accept", "in": "vlan1", "out": "vlan2", "proto": "tcp", "dport": 80, "log": true, "comment": "web"}
  ] })";

} // namespace

TEST_CASE("a log rule's event lands in the ring buffer with its fields")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kLogRules);
	drain_log(h);
	uint64_t ev0 = h.stat(FW_STAT_LOG_EVENTS).packets;

	uint64_t t0 = monotonic_ns();
	Packet in = Packet::udp("192.0.2.2", "192.0.2.1", 4444, 9);
	CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
	Packet fwd = Packet::tcp("10.1.0.2", "198.51.100.7", 40000, 80);
	CHECK(h.xdp(fwd, "vlan1").action == XDP_PASS);
	Packet v6 = Packet::udp("2001:db8::2", "2001:db8::1", 4444, 9);
	CHECK(h.xdp(v6, "vlan2").action == XDP_DROP);
	// Policy verdicts and rules without log are never logged.
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 4444, 7), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 4444, 8), "vlan2").action == XDP_PASS);
	uint64_t t1 = monotonic_ns();

	auto ev = drain_log(h);
	REQUIRE(ev.size() == 3);
	CHECK(h.stat(FW_STAT_LOG_EVENTS).packets == ev0 + 3);

	const fw_log_event &a = ev[0];
	CHECK(a.chain == FW_CHAIN_INPUT);
	CHECK(a.position == 2);
	CHECK(a.verdict == FW_VERDICT_DROP);
	CHECK(a.in_ifindex == h.ifindex("vlan2"));
	CHECK(a.out_ifindex == 0);
	CHECK(a.family == 4);
	CHECK(a.proto == 17);
	CHECK(a.sport == 4444);
	CHECK(a.dport == 9);
	CHECK(a.len == in.bytes.size() - 14);
	CHECK(memcmp(a.saddr, Packet::addr(4, "192.0.2.2").data(), 4) == 0);
	CHECK(memcmp(a.daddr, Packet::addr(4, "192.0.2.1").data(), 4) == 0);
	CHECK(a.ktime_ns >= t0);
	CHECK(a.ktime_ns <= t1);

	const fw_log_event &b = ev[1];
	CHECK(b.chain == FW_CHAIN_FORWARD);
	CHECK(b.position == 1);
	CHECK(b.verdict == FW_VERDICT_ACCEPT);
	CHECK(b.in_ifindex == h.ifindex("vlan1"));
	CHECK(b.out_ifindex == h.ifindex("vlan2"));
	CHECK(b.proto == 6);
	CHECK(b.dport == 80);

	const fw_log_event &c = ev[2];
	CHECK(c.family == 6);
	CHECK(memcmp(c.saddr, Packet::addr(6, "2001:db8::2").data(), 16) == 0);
	CHECK(memcmp(c.daddr, Packet::addr(6, "2001:db8::1").data(), 16) == 0);
}

TEST_CASE("one shared bucket: a burst gets `burst` events, a paced flood limit + burst")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kLogRules); // a fresh load: a full bucket
	ClockGuard clock;
	drain_log(h);
	Packet p = Packet::udp("192.0.2.2", "192.0.2.1", 4444, 9);
	// The test clock (bpf/lib/clock.h) stands still unless moved: every
	// count below is exact.
	const uint64_t ms = 1000000, t0 = 1000000 * ms;
	h.clock_set(t0);

	// 50 at the same instant: the burst (5) and nothing more.
	uint64_t ev0 = h.stat(FW_STAT_LOG_EVENTS).packets, sup0 = h.stat(FW_STAT_LOG_SUPPRESSED).packets;
	for (int i = 0; i < 50; i++)
		h.xdp(p, "vlan2");
	uint64_t ev = h.stat(FW_STAT_LOG_EVENTS).packets - ev0;
	uint64_t sup = h.stat(FW_STAT_LOG_SUPPRESSED).packets - sup0;
	CHECK(ev == 5);
	CHECK(sup == 45);
	auto events = drain_log(h);
	REQUIRE(events.size() == 5);
	CHECK(events[0].ktime_ns == t0); // log timestamps read the same clock

	// One second later the bucket is full again; then 50 packets 20 ms
	// apart under 10/second: the burst, then one per 100 ms while the
	// 980 ms last (GCRA: 5 + 9).
	ev0 = h.stat(FW_STAT_LOG_EVENTS).packets, sup0 = h.stat(FW_STAT_LOG_SUPPRESSED).packets;
	for (int i = 0; i < 50; i++) {
		h.clock_set(t0 + 1000 * ms + (uint64_t)i * 20 * ms);
		h.xdp(p, "vlan2");
	}
	ev = h.stat(FW_STAT_LOG_EVENTS).packets - ev0;
	sup = h.stat(FW_STAT_LOG_SUPPRESSED).packets - sup0;
	CHECK(ev == 14);
	CHECK(sup == 36);
	CHECK(drain_log(h).size() == ev);
	// The rule's own counter counts every packet, logged or not.
	CHECK(h.rule("input", 2).packets == 100);
}

// bpf_spin_lock orders the CPUs' updates, not their clocks: a CPU reads its
// time before taking the lock, so the one that gets the lock second may
// hold the older timestamp. That must make it stricter, never refill the
// bucket (the rate-change reset once read an older "now" as a new rate).
TEST_CASE("token bucket: an out-of-order timestamp from a racing CPU hands out no fresh burst")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kLogRules);
	ClockGuard clock;
	drain_log(h);
	Packet p = Packet::udp("192.0.2.2", "192.0.2.1", 4444, 9);
	const uint64_t ms = 1000000, t = 1000000 * ms;
	auto logged = [&] {
		uint64_t ev0 = h.stat(FW_STAT_LOG_EVENTS).packets;
		h.xdp(p, "vlan2");
		return h.stat(FW_STAT_LOG_EVENTS).packets - ev0;
	};

	// CPU B (time t) empties the bucket.
	h.clock_set(t);
	for (int i = 0; i < 5; i++)
		CHECK(logged() == 1);
	CHECK(logged() == 0);
	// CPU A read its clock up to one interval earlier and reaches the lock
	// only now: nothing for it, and still nothing for B afterwards.
	for (uint64_t behind : {(uint64_t)1, (uint64_t)1000, 50 * ms, 99 * ms, 100 * ms}) {
		CAPTURE(behind);
		h.clock_set(t - behind);
		CHECK(logged() == 0);
		h.clock_set(t);
		CHECK(logged() == 0);
	}
	// Time goes on: one token per 100 ms, as before the race.
	h.clock_set(t + 100 * ms);
	CHECK(logged() == 1);
	CHECK(logged() == 0);
	h.clock_set(t + 100 * ms - 1); // and once more from behind
	CHECK(logged() == 0);
	drain_log(h);

	// A re-apply with a faster rate still starts that rate's bucket full.
	h.apply(std::string(kLogRules).replace(std::string(kLogRules).find("10/second"), 9, "50/second"));
	int n = 0;
	for (int i = 0; i < 10; i++)
		n += (int)logged();
	CHECK(n == 5);
	drain_log(h);
}

TEST_CASE("reject TCP: a RST the sender accepts")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kLogRules);
	uint64_t sent0 = h.stat(FW_STAT_REJECT_SENT).packets;

	SUBCASE("SYN: RST|ACK, seq 0, ack = seq + 1")
	{
		Packet in = tcp_seg("192.0.2.2", "192.0.2.1", 40000, 23, 0x02, 0x11223344, 0);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		REQUIRE(out.bytes.size() == 14 + 20 + 20);
		CHECK(macs_swapped(in, out));
		CHECK(out.src() == "192.0.2.1");
		CHECK(out.dst() == "192.0.2.2");
		CHECK(out.proto() == 6);
		CHECK(out.sport() == 23);
		CHECK(out.dport() == 40000);
		CHECK(out.bytes[out.l4 + 13] == 0x14); // RST|ACK
		CHECK(get32(out.bytes, out.l4 + 4) == 0);
		CHECK(get32(out.bytes, out.l4 + 8) == 0x11223345);
		CHECK((out.bytes[16] << 8 | out.bytes[17]) == 40); // tot_len
		CHECK(out.ipv4_checksum_ok());
		CHECK(out.l4_checksum_ok());
		CHECK(h.stat(FW_STAT_REJECT_SENT).packets == sent0 + 1);
	}
	SUBCASE("data without ACK: ack = seq + payload; FIN counts one")
	{
		Packet in = tcp_seg("192.0.2.2", "192.0.2.1", 40000, 23, 0x01, 1000, 0, 10);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		CHECK(get32(out.bytes, out.l4 + 8) == 1011);
		CHECK(out.l4_checksum_ok());
	}
	SUBCASE("a segment with ACK: RST with seq = its ack, no ACK flag")
	{
		Packet in = tcp_seg("192.0.2.2", "192.0.2.1", 40000, 23, 0x18, 5000, 0xdeadbeef, 100);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		REQUIRE(out.bytes.size() == 54);
		CHECK(out.bytes[out.l4 + 13] == 0x04);
		CHECK(get32(out.bytes, out.l4 + 4) == 0xdeadbeef);
		CHECK(get32(out.bytes, out.l4 + 8) == 0);
		CHECK(out.ipv4_checksum_ok());
		CHECK(out.l4_checksum_ok());
	}
	SUBCASE("a RST is never answered")
	{
		Packet in = tcp_seg("192.0.2.2", "192.0.2.1", 40000, 23, 0x04, 1, 0);
		CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
		CHECK(h.stat(FW_STAT_REJECT_SENT).packets == sent0);
	}
	SUBCASE("IPv6")
	{
		Packet in = tcp_seg("2001:db8::2", "2001:db8::1", 40000, 23, 0x02, 7, 0);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		REQUIRE(out.bytes.size() == 14 + 40 + 20);
		CHECK(macs_swapped(in, out));
		CHECK(out.src() == "2001:db8::1");
		CHECK(out.dst() == "2001:db8::2");
		CHECK(out.proto() == 6);
		CHECK(out.bytes[out.l4 + 13] == 0x14);
		CHECK(get32(out.bytes, out.l4 + 8) == 8);
		CHECK(out.l4_checksum_ok());
	}
}

TEST_CASE("reject UDP: ICMP / ICMPv6 port unreachable quoting header + 8 bytes")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"input": [
	    {"action": "reject", "proto": "udp", "dport": 9999},
	    {"action": "reject", "proto": "icmp"}],
	  "forward": [{"action": "reject", "in": "vlan1", "proto": "udp"}]})");

	SUBCASE("IPv4")
	{
		Packet in = Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999, 100);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		REQUIRE(out.bytes.size() == 14 + 20 + 8 + 20 + 8);
		CHECK(macs_swapped(in, out));
		CHECK(out.src() == "192.0.2.1");
		CHECK(out.dst() == "192.0.2.2");
		CHECK(out.proto() == 1);
		CHECK(out.bytes[out.l4] == 3);     // destination unreachable
		CHECK(out.bytes[out.l4 + 1] == 3); // port unreachable
		CHECK(std::equal(in.bytes.begin() + 14, in.bytes.begin() + 14 + 28, out.bytes.begin() + out.l4 + 8));
		CHECK(out.ipv4_checksum_ok());
		CHECK(out.l4_checksum_ok());
	}
	SUBCASE("IPv6")
	{
		Packet in = Packet::udp("2001:db8::2", "2001:db8::1", 5555, 9999, 100);
		auto r = h.xdp(in, "vlan2");
		REQUIRE(r.answered());
		Packet out = r.packet();
		REQUIRE(out.bytes.size() == 14 + 40 + 8 + 40 + 8);
		CHECK(macs_swapped(in, out));
		CHECK(out.src() == "2001:db8::1");
		CHECK(out.dst() == "2001:db8::2");
		CHECK(out.proto() == 58);
		CHECK((out.bytes[18] << 8 | out.bytes[19]) == 8 + 48); // payload length
		CHECK(out.bytes[out.l4] == 1);
		CHECK(out.bytes[out.l4 + 1] == 4);
		CHECK(std::equal(in.bytes.begin() + 14, in.bytes.begin() + 14 + 48, out.bytes.begin() + out.l4 + 8));
		CHECK(out.l4_checksum_ok());
	}
	SUBCASE("forwarded: the answer comes from the destination it was sent to")
	{
		Packet in = Packet::udp("10.1.0.2", "198.51.100.7", 5555, 53);
		auto r = h.xdp(in, "vlan1");
		REQUIRE(r.answered());
		Packet out = r.packet();
		CHECK(out.src() == "198.51.100.7");
		CHECK(out.dst() == "10.1.0.2");
		CHECK(out.l4_checksum_ok());
	}
	SUBCASE("an ICMP error is not answered; an echo request is")
	{
		Packet err = Packet::icmp("192.0.2.2", "192.0.2.1", 3, 3, 0, std::vector<uint8_t>(28, 0));
		CHECK(h.xdp(err, "vlan2").action == XDP_DROP);
		Packet echo = Packet::icmp("192.0.2.2", "192.0.2.1", 8);
		auto r = h.xdp(echo, "vlan2");
		REQUIRE(r.answered());
		CHECK(r.packet().l4_checksum_ok());
	}
	SUBCASE("broadcast is not answered")
	{
		CHECK(h.xdp(Packet::udp("192.0.2.2", "255.255.255.255", 5555, 9999), "vlan2").action == XDP_DROP);
	}
}

TEST_CASE("rejects are rate-limited: over the bucket a silent drop")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"input": [{"action": "reject", "proto": "udp", "dport": 9999}]})");
	ClockGuard clock;
	h.clock_set(1000000000000ull); // one instant: the burst exactly
	uint64_t s0 = h.stat(FW_STAT_REJECT_SENT).packets, l0 = h.stat(FW_STAT_REJECT_LIMITED).packets;
	int tx = 0, drop = 0;
	for (int i = 0; i < 80; i++) {
		auto r = h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999), "vlan2");
		tx += r.answered();
		drop += r.action == XDP_DROP;
	}
	uint64_t sent = h.stat(FW_STAT_REJECT_SENT).packets - s0;
	uint64_t limited = h.stat(FW_STAT_REJECT_LIMITED).packets - l0;
	CHECK(tx + drop == 80);
	CHECK(sent == (uint64_t)tx);
	CHECK(limited == (uint64_t)drop);
	CHECK(sent == 50); // the burst; then 100/second
	CHECK(limited == 30);
	// 10 ms later: one more.
	h.clock_advance(10000000);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999), "vlan2").answered());
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999), "vlan2").action == XDP_DROP);
}

TEST_CASE("reject answers leave through TC: XDP passes them up noted, TC ingress sends each once and leaves others alone")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"input": [{"action": "reject", "proto": "udp", "dport": 9999}]})");
	auto r = h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999), "vlan2");
	// Native XDP on a veth whose peer has no NAPI cannot XDP_TX: the answer
	// goes up, noted in fw_reject_sent for fw_tc_ingress.
	CHECK(r.action == XDP_PASS);
	REQUIRE(r.answered());
	CHECK(r.packet().src() == "192.0.2.1");
	CHECK(r.packet().dst() == "192.0.2.2");
	// TC ingress sees the answer as another host's frame, finds its note and
	// sends it back out of vlan2, once: the note is taken.
	Packet answer;
	answer.bytes = r.out;
	auto sent = h.tc_ingress(answer, "vlan2");
	CHECK(sent.action == TC_ACT_REDIRECT);
	CHECK(h.tc_ingress(answer, "vlan2").action == TC_ACT_UNSPEC);
	// The same answer by another interface: not noted there.
	auto again = h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9999), "vlan2");
	REQUIRE(again.answered());
	Packet answer2;
	answer2.bytes = again.out;
	CHECK(h.tc_ingress(answer2, "lan1").action == TC_ACT_UNSPEC);
	CHECK(h.tc_ingress(answer2, "vlan2").action == TC_ACT_REDIRECT);
	// Any other packet meets TC ingress without a note: next program,
	// untouched.
	auto t = h.tc_ingress(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9998), "vlan2");
	CHECK(t.action == TC_ACT_UNSPEC);
	auto plain = h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 5555, 9998), "vlan2");
	CHECK(plain.action == XDP_PASS);
	CHECK_FALSE(plain.answered());
}
