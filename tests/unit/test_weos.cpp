// fwctl import/export weos: the seed's WeOS sessions, verbatim, and the
// syntax around them (docs/weos.md).
#include <doctest/doctest.h>

#include <string>

#include "ruleset.h"
#include "weos.h"

using namespace fw;

namespace {

// The seed's blocks, copied verbatim from seed/ipsec-through-a-firewall.txt
// (each block is one line there: the web page joined the session's lines).
const std::string seed_alice = R"seed(alice:/#> configure alice:/config/#> ip firewall alice:/config/ip/firewall/#> input accept in vlan2 dport 500 proto udp comment "IKE" alice:/config/ip/firewall/#> input accept in vlan2 proto esp comment "IPsec ESP" alice:/config/ip/firewall/#> leave Configuration activated. Remember "copy run start" to save to flash (NVRAM). alice:/#> copy run start)seed";
const std::string seed_bob = R"seed(bob:/#> configure bob:/config/#> ip firewall bob:/config/ip/firewall/#> input accept in vlan2 proto esp comment "IPsec ESP" bob:/config/ip/firewall/#> input accept saddr 10.1.0.0/16 proto icmp comment "IPsec ESP" bob:/config/ip/firewall/#> leave Configuration activated. Remember "copy run start" to save to flash (NVRAM). bob:/#> copy run start)seed";
const std::string seed_alice_show_tunnel = R"seed(alice:/#> show tunnel ipsec ID DESCRIPTION STATUS TIME (since last rekey) 1 ipsec1 Up(Installed) 0 Days 0 Hours 2 Mins 10 Secs)seed";
const std::string seed_alice_ping = R"seed(alice:/#> ping 10.2.0.1 Press Ctrl-C to abort PING 10.2.0.1 (10.2.0.1) 56(84) bytes of data. 64 bytes from 10.2.0.1: icmp_seq=1 ttl=64 time=0.645 ms 64 bytes from 10.2.0.1: icmp_seq=2 ttl=64 time=0.412 ms 64 bytes from 10.2.0.1: icmp_seq=3 ttl=64 time=0.490 ms ^C --- 10.2.0.1 ping statistics --- 3 packets transmitted, 3 received, 0% packet loss, time 2035ms rtt min/avg/max/mdev = 0.412/0.515/0.645/0.096 ms alice:/#>)seed";
const std::string seed_fw = R"seed(fw:/#> configure fw:/config/#> ip firewall fw:/config/ip/firewall/#> forward accept in vlan1 out vlan2 fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 dport 500 proto udp fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 dport 4500 proto udp fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 proto esp fw:/config/ip/firewall/#> nat out vlan2 fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 dport 500 proto udp fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 dport 4500 proto udp fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 proto esp fw:/config/ip/firewall/#> leave Configuration activated. Remember "copy run start" to save to flash (NVRAM). fw:/#> copy run start)seed";
// The troubleshooting block; the seed file ends with one more line, "WeOS",
// left over from the web page.
const std::string seed_troubleshooting = R"seed(fw:/config/ip/firewall/#> log limit 100/minute fw:/config/ip/firewall/#> forward drop log comment "catch-all log" fw:/#> show ip firewall conntrack)seed";
const std::string seed_troubleshooting_tail = R"seed(fw:/config/ip/firewall/#> log limit 100/minute fw:/config/ip/firewall/#> forward drop log comment "catch-all log" fw:/#> show ip firewall conntrack
WeOS)seed";

Prefix P(const char *text)
{
	auto p = prefix_parse(text);
	REQUIRE(p);
	return *p;
}

Ruleset import_ok(const std::string &text)
{
	CheckResult res = weos_import(text);
	for (const auto &e : res.errors)
		INFO("line " << e.line << " column " << e.column << ": " << e.message);
	CHECK(res.errors.empty());
	REQUIRE(res.ruleset);
	return *res.ruleset;
}

// The single error of importing `text`.
CheckError import_error(const std::string &text)
{
	CheckResult res = weos_import(text);
	CHECK_FALSE(res.ruleset);
	REQUIRE(res.errors.size() == 1);
	CHECK(res.errors[0].pointer == "");
	return res.errors[0];
}

Rule rule(Action a)
{
	Rule r;
	r.action = a;
	return r;
}

// Scenario 1, Alice.
Ruleset alice_expected()
{
	Ruleset r; // the block sets no policy: both stay at the default (accept)
	Rule ike = rule(Action::accept);
	ike.in = "vlan2";
	ike.dport = PortRange{500, 500};
	ike.proto = 17;
	ike.comment = "IKE";
	Rule esp = rule(Action::accept);
	esp.in = "vlan2";
	esp.proto = 50;
	esp.comment = "IPsec ESP";
	r.input = {ike, esp};
	return r;
}

// Scenario 2, the intermediate firewall.
Ruleset fw_expected()
{
	Ruleset r;
	Rule lan = rule(Action::accept);
	lan.in = "vlan1";
	lan.out = "vlan2";
	r.forward.push_back(lan);
	for (uint16_t port : {500, 4500}) {
		Rule u = rule(Action::accept);
		u.in = "vlan2";
		u.out = "vlan1";
		u.dport = PortRange{port, port};
		u.proto = 17;
		r.forward.push_back(u);
	}
	Rule esp = rule(Action::accept);
	esp.in = "vlan2";
	esp.out = "vlan1";
	esp.proto = 50;
	r.forward.push_back(esp);
	NatRule nat;
	nat.out = "vlan2";
	r.nat = {nat};
	for (uint16_t port : {500, 4500}) {
		PortForward f;
		f.in = "vlan2";
		f.to_daddr = P("192.168.1.2");
		f.dport = PortRange{port, port};
		f.proto = 17;
		r.port_forward.push_back(f);
	}
	PortForward esp_fwd;
	esp_fwd.in = "vlan2";
	esp_fwd.to_daddr = P("192.168.1.2");
	esp_fwd.proto = 50;
	r.port_forward.push_back(esp_fwd);
	return r;
}

Ruleset troubleshooting_expected()
{
	Ruleset r;
	r.log_set = true;
	r.log.rate = 100;
	r.log.unit = "minute";
	Rule all = rule(Action::drop);
	all.log = true;
	all.comment = "catch-all log";
	r.forward = {all};
	return r;
}

void check_round_trip(const Ruleset &r)
{
	std::string text = weos_export(r);
	INFO(text);
	CHECK(import_ok(text) == r);
	CHECK(weos_export(import_ok(text)) == text);
}

} // namespace

TEST_SUITE("weos import: the seed's sessions, verbatim")
{
	TEST_CASE("scenario 1, Alice")
	{
		CHECK(import_ok(seed_alice) == alice_expected());
	}

	TEST_CASE("scenario 1, Bob")
	{
		Ruleset expected;
		Rule esp = rule(Action::accept);
		esp.in = "vlan2";
		esp.proto = 50;
		esp.comment = "IPsec ESP";
		Rule icmp = rule(Action::accept);
		icmp.saddr = P("10.1.0.0/16");
		icmp.proto = 1;
		icmp.comment = "IPsec ESP"; // sic: the seed reuses the comment
		expected.input = {esp, icmp};
		CHECK(import_ok(seed_bob) == expected);
	}

	TEST_CASE("scenario 2, the intermediate firewall")
	{
		CHECK(import_ok(seed_fw) == fw_expected());
	}

	TEST_CASE("troubleshooting: log limit, a catch-all drop that logs, a show command")
	{
		CHECK(import_ok(seed_troubleshooting) == troubleshooting_expected());
		// The "WeOS" line after it is taken as the output of `show`.
		CHECK(import_ok(seed_troubleshooting_tail) == troubleshooting_expected());
	}

	TEST_CASE("the verification commands change nothing")
	{
		CHECK(import_ok(seed_alice_show_tunnel) == Ruleset{});
		CHECK(import_ok(seed_alice_ping) == Ruleset{});
		CHECK(import_ok(seed_alice_show_tunnel + "\n" + seed_alice_ping) == Ruleset{});
	}

	TEST_CASE("scenario 2, troubleshooting and both policies in one session")
	{
		std::string session = seed_fw + "\nfw:/#> configure fw:/config/#> ip firewall\n"
						"fw:/config/ip/firewall/#> input policy drop\n"
						"fw:/config/ip/firewall/#> forward policy drop\n" +
				      seed_troubleshooting_tail;
		Ruleset expected = fw_expected();
		expected.policy_input = expected.policy_forward = Action::drop;
		expected.log_set = true;
		expected.log.rate = 100;
		expected.log.unit = "minute";
		expected.forward.push_back(troubleshooting_expected().forward[0]);
		CHECK(import_ok(session) == expected);
	}
}

TEST_SUITE("weos import: the checker agrees")
{
	// What `fwctl import weos` does with the result: check it as JSON.
	Ruleset checked(const Ruleset &r)
	{
		CheckResult res = ruleset_check_json(ruleset_to_json(r), [](const std::string &) { return true; });
		for (const auto &e : res.errors)
			INFO(e.pointer << ": " << e.message);
		CHECK(res.errors.empty());
		REQUIRE(res.ruleset);
		return *res.ruleset;
	}

	TEST_CASE("the seed's rulesets pass the checker unchanged")
	{
		for (const std::string *s : {&seed_alice, &seed_bob, &seed_fw, &seed_troubleshooting}) {
			Ruleset r = import_ok(*s);
			CHECK(checked(r) == r);
		}
	}

	TEST_CASE("scenario 2 with troubleshooting and policies is the rules-format example")
	{
		auto example = nlohmann::json::parse(R"({
		  "version": 1,
		  "policy": { "input": "drop", "forward": "drop" },
		  "log": { "limit": "100/minute" },
		  "forward": [
		    { "action": "accept", "in": "vlan1", "out": "vlan2" },
		    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 500 },
		    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 4500 },
		    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "esp" },
		    { "action": "drop", "log": true, "comment": "catch-all log" }
		  ],
		  "nat": [ { "out": "vlan2" } ],
		  "port-forward": [
		    { "in": "vlan2", "proto": "udp", "dport": 500,  "to-daddr": "192.168.1.2" },
		    { "in": "vlan2", "proto": "udp", "dport": 4500, "to-daddr": "192.168.1.2" },
		    { "in": "vlan2", "proto": "esp", "to-daddr": "192.168.1.2" }
		  ]
		})");
		CheckResult res = ruleset_check_json(example, [](const std::string &) { return true; });
		REQUIRE(res.ruleset);
		std::string session = seed_fw + "\nfw:/#> configure fw:/config/#> ip firewall\n"
						"fw:/config/ip/firewall/#> input policy drop\n"
						"fw:/config/ip/firewall/#> forward policy drop\n" +
				      seed_troubleshooting_tail;
		CHECK(import_ok(session) == *res.ruleset);
		CHECK(import_ok(weos_export(*res.ruleset)) == *res.ruleset);
	}
}

TEST_SUITE("weos import: syntax")
{
	TEST_CASE("a script is one command per line, framed or not")
	{
		std::string bare = "input accept in vlan2 dport 500 proto udp comment \"IKE\"\n"
				   "input accept in vlan2 proto esp comment \"IPsec ESP\"\n";
		CHECK(import_ok(bare) == alice_expected());
		CHECK(import_ok("configure\nip firewall\n" + bare + "leave\ncopy run start\n") == alice_expected());
		CHECK(import_ok("configure\r\nip\r\nfirewall\r\n" + bare + "end\r\nend\r\nend\r\n") == alice_expected());
		// Blank lines, comments and what `leave` prints are skipped.
		CHECK(import_ok("# Alice\n\n  " + bare + "! done\nleave\n"
				"Configuration activated. Remember \"copy run start\" to save to flash (NVRAM).\n") ==
		      alice_expected());
	}

	TEST_CASE("a session pasted line by line, output included")
	{
		std::string session = "alice:/#> configure\n"
				      "alice:/config/#> ip firewall\n"
				      "alice:/config/ip/firewall/#> input accept in vlan2 dport 500 proto udp comment \"IKE\"\n"
				      "alice:/config/ip/firewall/#>   input accept in vlan2 proto esp comment \"IPsec ESP\"\n"
				      "alice:/config/ip/firewall/#>\n"
				      "alice:/config/ip/firewall/#> leave\n"
				      "Configuration activated. Remember \"copy run start\" to save to flash (NVRAM).\n"
				      "alice:/#> show ip firewall\n"
				      "Some table\n  of rules\n"
				      "alice:/#> copy run start\n"
				      "alice:/#> \n";
		CHECK(import_ok(session) == alice_expected());
	}

	TEST_CASE("prompts: any host name, with or without a space after them")
	{
		Ruleset r = import_ok("router-7.example:/config/ip/firewall/#>input accept in vlan2 proto esp "
				      "router-7.example:/config/ip/firewall/#>\tforward drop\n");
		CHECK(r.input.size() == 1);
		CHECK(r.forward.size() == 1);
		// A path the importer does not know is a context it does not import.
		CheckError e = import_error("fw:/config/tunnel/ipsec-1/#> input accept");
		CHECK(e.column == 30);
	}

	TEST_CASE("words after the action come in any order")
	{
		Ruleset a = import_ok("input accept in vlan2 dport 500 proto udp comment \"IKE\"");
		Ruleset b = import_ok("input accept comment IKE proto udp dport 500 in vlan2");
		CHECK(a == b);
		CHECK(a.input.size() == 1);
	}

	TEST_CASE("policies: CHAIN policy P and policy CHAIN P")
	{
		Ruleset r = import_ok("input policy drop\nforward policy drop\n");
		CHECK(r.policy_input == Action::drop);
		CHECK(r.policy_forward == Action::drop);
		r = import_ok("policy input drop\npolicy forward accept\n");
		CHECK(r.policy_input == Action::drop);
		CHECK(r.policy_forward == Action::accept);
		CHECK(r.input.empty());
	}

	TEST_CASE("ports, ranges, addresses, protocols, actions")
	{
		Ruleset r = import_ok("forward reject in lan out wan saddr 10.0.0.0/8 daddr 192.0.2.1 sport 1024-65535 "
				      "dport 8000:8080 proto tcp log\n"
				      "input drop saddr 2001:db8::/32 proto icmpv6\n"
				      "input accept proto 99\n"
				      "input accept proto UDP dport 53\n");
		REQUIRE(r.forward.size() == 1);
		const Rule &f = r.forward[0];
		CHECK(f.action == Action::reject);
		CHECK(f.in == "lan");
		CHECK(f.out == "wan");
		CHECK(f.saddr == P("10.0.0.0/8"));
		CHECK(f.daddr == P("192.0.2.1"));
		CHECK(f.sport == PortRange{1024, 65535});
		CHECK(f.dport == PortRange{8000, 8080});
		CHECK(f.proto == 6);
		CHECK(f.log);
		REQUIRE(r.input.size() == 3);
		CHECK(r.input[0].saddr == P("2001:db8::/32"));
		CHECK(r.input[0].proto == 58);
		CHECK(r.input[1].proto == 99);
		CHECK(r.input[2].proto == 17);
	}

	TEST_CASE("nat and port-forward options")
	{
		Ruleset r = import_ok("nat out wan saddr 10.1.0.0/16 to 203.0.113.1 exempt 10.2.0.0/16 exempt 10.3.0.0/16\n"
				      "port-forward in wan daddr 203.0.113.1 to-daddr 10.1.0.5 to-dport 8080 dport 80 "
				      "proto tcp comment \"web\"\n");
		REQUIRE(r.nat.size() == 1);
		CHECK(r.nat[0].out == "wan");
		CHECK(r.nat[0].saddr == P("10.1.0.0/16"));
		CHECK(r.nat[0].to == P("203.0.113.1"));
		CHECK(r.nat[0].exempt == std::vector<Prefix>{P("10.2.0.0/16"), P("10.3.0.0/16")});
		REQUIRE(r.port_forward.size() == 1);
		const PortForward &f = r.port_forward[0];
		CHECK(f.in == "wan");
		CHECK(f.daddr == P("203.0.113.1"));
		CHECK(f.to_daddr == P("10.1.0.5"));
		CHECK(f.to_dport == 8080);
		CHECK(f.dport == PortRange{80, 80});
		CHECK(f.proto == 6);
		CHECK(f.comment == "web");
	}

	TEST_CASE("log limit and burst; interfaces; fastpath")
	{
		Ruleset r = import_ok("log limit 5/second burst 20\ninterfaces vlan1 vlan2\ninterfaces vlan3\nfastpath\n");
		CHECK(r.fastpath);
		CHECK_FALSE(import_ok("fastpath off\n").fastpath);
		CHECK(import_ok("fastpath on\n").fastpath);
		CHECK(import_ok("log limit 5/second\n").fastpath); // on by default
		CHECK(r.log_set);
		CHECK(r.log.rate == 5);
		CHECK(r.log.unit == "second");
		CHECK(r.log.burst == 20);
		CHECK(r.interfaces == std::vector<std::string>{"vlan1", "vlan2", "vlan3"});
		r = import_ok("log limit 3/hour\n");
		CHECK(r.log.burst == 5);
		CHECK(r.log.unit == "hour");
	}

	TEST_CASE("conntrack max-connections")
	{
		Ruleset r = import_ok("conntrack max-connections 1000000\n");
		CHECK(r.ct_max_connections == 1000000u);
		CHECK(!import_ok("fastpath\n").ct_max_connections);
		CheckError e = import_error("conntrack max-connections 10\n");
		CHECK(e.message.find("`10` is not a connection table size") != std::string::npos);
		e = import_error("conntrack\n");
		CHECK(e.message.find("needs max-connections") != std::string::npos);
		e = import_error("conntrack max-conns 5000\n");
		CHECK(e.message.find("expected max-connections") != std::string::npos);
	}

	TEST_CASE("quoted strings take backslash escapes")
	{
		Ruleset r = import_ok(R"(input accept comment "say \"hi\" \\ a#\>b")");
		REQUIRE(r.input.size() == 1);
		CHECK(r.input[0].comment == R"(say "hi" \ a#>b)");
	}
}

TEST_SUITE("weos import: errors name the line and the column")
{
	TEST_CASE("an unknown word in a rule")
	{
		CheckError e = import_error("input accept in vlan2\ninput accept in vlan2 dprot 500 proto udp\n");
		CHECK(e.line == 2);
		CHECK(e.column == 23);
		CHECK(e.message.find("`dprot`") != std::string::npos);
		CHECK(e.message.find("dport") != std::string::npos);
	}

	TEST_CASE("in a session the column is the one on the pasted line")
	{
		// The seed's Alice block with a typo in its second rule.
		std::string text = seed_alice;
		auto at = text.find("proto esp");
		REQUIRE(at != std::string::npos);
		text.replace(at, 9, "proto esq");
		CheckError e = import_error(text);
		CHECK(e.line == 1);
		CHECK(e.column == int(at) + 7);
		CHECK(e.message.find("`esq` is not a protocol") != std::string::npos);
	}

	TEST_CASE("bad values")
	{
		CheckError e = import_error("input accept dport 70000 proto udp");
		CHECK(e.column == 20);
		CHECK(e.message.find("not a port (1-65535)") != std::string::npos);
		CHECK(import_error("input accept dport 600-500 proto udp").column == 20);
		CHECK(import_error("input accept saddr 10.1.0.0/33").column == 20);
		e = import_error("input accept saddr 10.1.0.1/16");
		CHECK(e.column == 20);
		CHECK(e.message.find("10.1.0.0/16") != std::string::npos); // the checker's hint
		CHECK(import_error("input accept proto 300").column == 20);
		CHECK(import_error("input accept comment \"" + std::string(65, 'x') + "\"").column == 22);
		CHECK(import_error("log limit 100/fortnight").column == 11);
		CHECK(import_error("log limit 0/second").column == 11);
		CHECK(import_error("log").column == 1);
		CHECK(import_error("input bless in vlan2").column == 7);
		CHECK(import_error("input").column == 1);
		CHECK(import_error("input policy reject").column == 14);
	}

	TEST_CASE("rules that cannot be")
	{
		CheckError e = import_error("input accept in vlan2 out vlan1");
		CHECK(e.column == 23);
		CHECK(e.message.find("only valid in the forward chain") != std::string::npos);
		e = import_error("forward accept dport 500");
		CHECK(e.column == 16);
		CHECK(e.message.find("proto udp") != std::string::npos);
		CHECK(import_error("forward accept proto esp sport 1").column == 26);
		CHECK(import_error("forward accept saddr 10.0.0.0/8 daddr ::1").column == 33);
		CHECK(import_error("forward accept in a in b").column == 21);
		CHECK(import_error("forward accept comment").column == 16);
	}

	TEST_CASE("nat and port-forward")
	{
		CHECK(import_error("nat saddr 10.0.0.0/8").column == 1);
		CHECK(import_error("nat out wan to 10.0.0.0/8").column == 16);
		CHECK(import_error("nat out wan to 2001:db8::1").column == 16);
		CheckError e = import_error("port-forward in vlan2 dport 500 proto udp");
		CHECK(e.column == 1);
		CHECK(e.message.find("to-daddr") != std::string::npos);
		CHECK(import_error("port-forward in vlan2 to-daddr 192.168.1.2 proto udp").column == 1);
		CHECK(import_error("port-forward in vlan2 to-daddr 192.168.1.2 dport 500 proto esp").column == 44);
		CHECK(import_error("port-forward in vlan2 to-daddr 2001:db8::2 proto esp").column == 32);
	}

	TEST_CASE("policy without its chain")
	{
		CheckError e = import_error("policy drop");
		CHECK(e.column == 8);
		CHECK(e.message.find("input policy drop") != std::string::npos);
	}

	TEST_CASE("an unterminated string")
	{
		CheckError e = import_error("input accept\ninput accept comment \"IKE\ninput drop\n");
		CHECK(e.line == 2);
		CHECK(e.column == 22);
	}

	TEST_CASE("commands outside the firewall context")
	{
		// After `leave`, a firewall command is at the top level.
		CheckError e = import_error("configure\nip firewall\ninput accept\nleave\nforward drop\n");
		CHECK(e.line == 5);
		CHECK(e.column == 1);
		CHECK(e.message.find("ip firewall") != std::string::npos);
		// In a session the prompt tells the context.
		e = import_error("fw:/#> configure fw:/config/#> forward drop");
		CHECK(e.column == 32);
		e = import_error("fw:/config/#> ip route 0.0.0.0/0 192.0.2.1");
		CHECK(e.column == 18);
		e = import_error("bogus");
		CHECK(e.message.find("not a command fwctl imports") != std::string::npos);
		e = import_error("configure\nip firewall\ninput accept\nabort\n");
		CHECK(e.line == 4);
		CHECK(import_error("configure now").column == 11);
	}

	TEST_CASE("text after a command that prints nothing")
	{
		// WeOS's answer to a refused command must not pass for output.
		CheckError e = import_error("fw:/config/ip/firewall/#> forward accept proto udp\n"
					    "   Invalid argument\n"
					    "fw:/config/ip/firewall/#> leave\n");
		CHECK(e.line == 2);
		CHECK(e.column == 4);
		CHECK(e.message.find("forward") != std::string::npos);
		// A session starts with a prompt.
		e = import_error("input accept\nfw:/#> show ip firewall\n");
		CHECK(e.line == 1);
	}

	TEST_CASE("every error is reported; columns count characters")
	{
		CheckResult res = weos_import("input accept comment \"é\" bogus\nforward drop dport 1\ninput accept\n");
		CHECK_FALSE(res.ruleset);
		REQUIRE(res.errors.size() == 2);
		CHECK(res.errors[0].line == 1);
		CHECK(res.errors[0].column == 26);
		CHECK(res.errors[1].line == 2);
		CHECK(res.errors[1].column == 14);
	}
}

TEST_SUITE("weos export")
{
	TEST_CASE("scenario 2 as commands")
	{
		Ruleset r = fw_expected();
		r.policy_input = r.policy_forward = Action::drop;
		r.log_set = true;
		r.log.rate = 100;
		r.log.unit = "minute";
		r.forward.push_back(troubleshooting_expected().forward[0]);
		CHECK(weos_export(r) == "configure\n"
					"ip firewall\n"
					"input policy drop\n"
					"forward policy drop\n"
					"log limit 100/minute\n"
					"forward accept in vlan1 out vlan2\n"
					"forward accept in vlan2 out vlan1 dport 500 proto udp\n"
					"forward accept in vlan2 out vlan1 dport 4500 proto udp\n"
					"forward accept in vlan2 out vlan1 proto esp\n"
					"forward drop log comment \"catch-all log\"\n"
					"nat out vlan2\n"
					"port-forward in vlan2 to-daddr 192.168.1.2 dport 500 proto udp\n"
					"port-forward in vlan2 to-daddr 192.168.1.2 dport 4500 proto udp\n"
					"port-forward in vlan2 to-daddr 192.168.1.2 proto esp\n"
					"leave\n");
		check_round_trip(r);
	}

	TEST_CASE("the seed's rulesets round-trip")
	{
		for (const std::string *s : {&seed_alice, &seed_bob, &seed_fw, &seed_troubleshooting})
			check_round_trip(import_ok(*s));
		check_round_trip(Ruleset{});
	}

	TEST_CASE("every field round-trips")
	{
		Ruleset r;
		r.interfaces = std::vector<std::string>{"vlan1", "vlan2"};
		r.fastpath = false; // not the default: must round-trip
		r.ct_max_connections = 1000000;
		r.policy_input = Action::drop;
		r.log_set = true;
		r.log.rate = 7;
		r.log.unit = "hour";
		r.log.burst = 11;
		Rule a = rule(Action::reject);
		a.in = "eth0";
		a.saddr = P("2001:db8::/48");
		a.daddr = P("2001:db8:1::1");
		a.sport = PortRange{1, 1023};
		a.dport = PortRange{22, 22};
		a.proto = 6;
		a.log = true;
		a.comment = "quote \" backslash \\ prompt a:/b#> tab\tnewline\nend";
		r.input.push_back(a);
		Rule b = rule(Action::drop);
		b.proto = 99;
		b.comment = "#>";
		r.input.push_back(b);
		Rule c = rule(Action::accept);
		c.in = "lan";
		c.out = "wan";
		c.proto = 132;
		c.dport = PortRange{9000, 9100};
		r.forward.push_back(c);
		NatRule n;
		n.out = "wan";
		n.saddr = P("10.0.0.0/8");
		n.to = P("203.0.113.7");
		n.exempt = {P("10.2.0.0/16"), P("10.3.0.0/16")};
		r.nat.push_back(n);
		NatRule n2;
		n2.out = "wan2";
		r.nat.push_back(n2);
		PortForward f;
		f.in = "wan";
		f.daddr = P("203.0.113.7");
		f.to_daddr = P("10.0.0.5");
		f.to_dport = 8443;
		f.dport = PortRange{443, 443};
		f.proto = 6;
		f.comment = "https";
		r.port_forward.push_back(f);
		check_round_trip(r);

		// A log object with the default values is kept too.
		Ruleset l;
		l.log_set = true;
		check_round_trip(l);
		Ruleset none;
		none.interfaces = std::vector<std::string>{};
		check_round_trip(none);
	}
}
