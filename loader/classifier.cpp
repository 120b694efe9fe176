// Builds the equivalence-class tables. Every field value maps to the set
// of rules it can match (its class); pairs of classes map to the class of
// their intersection; the last stage maps to the lowest rule index in the
// intersection, i.e. the first match. Only non-empty intersections are
// stored: a lookup miss means "no rule can match". Rules that match
// everything are kept out of the tables (catchall) so that one "drop log"
// at the end cannot multiply every table by every other.
#include "classifier.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace fw {
namespace {

constexpr size_t kMaxCombineEntries = FW_COMBINE_MAX_ENTRIES; // one generation's table at most
constexpr size_t kMaxAddrEntries = 4 * FW_MAX_RULES + 64;

using Bits = std::vector<uint64_t>;

uint64_t bits_hash(const uint64_t *b, size_t words)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < words; i++)
		h = (h ^ b[i]) * 1099511628211ull ^ (h >> 29);
	return h;
}

bool bits_empty(const uint64_t *b, size_t words)
{
	return std::all_of(b, b + words, [](uint64_t w) { return w == 0; });
}

// The distinct rule sets of one dimension; ids are dense from 0. All sets
// live in one arena: tens of thousands of small allocations (and their
// page faults) were most of the compile time.
struct ClassSet {
	size_t words = 1;
	std::vector<uint64_t> arena;
	std::unordered_map<uint64_t, uint32_t> head; // hash -> first id with it
	std::vector<uint32_t> next;                  // next id with the same hash

	explicit ClassSet(size_t w) : words(w) {}
	size_t size() const { return next.size(); }
	const uint64_t *set(uint32_t id) const { return arena.data() + (size_t)id * words; }

	uint32_t intern(const uint64_t *b)
	{
		uint64_t h = bits_hash(b, words);
		auto it = head.find(h);
		uint32_t first = it == head.end() ? UINT32_MAX : it->second;
		for (uint32_t id = first; id != UINT32_MAX; id = next[id])
			if (std::equal(b, b + words, set(id)))
				return id;
		uint32_t id = (uint32_t)size();
		arena.insert(arena.end(), b, b + words);
		next.push_back(first);
		head[h] = id;
		return id;
	}
	uint32_t intern(const Bits &b) { return intern(b.data()); }
	// Room for n classes at once: a 10,000-port table grows to ~12 MB,
	// and growing by doubling copied it and faulted fresh pages in for
	// each copy (a quarter of a 10,000-rule re-apply).
	void reserve(size_t n)
	{
		arena.reserve(n * words);
		next.reserve(n);
		head.reserve(n);
	}
};

// One chain's rules as the tables see them.
struct ChainRules {
	uint8_t chain;
	uint32_t base;                   // rule index of the chain's first rule
	std::vector<const Rule *> rules; // those before the first catch-all
	size_t words;

	ClassSet classes() const { return ClassSet(words); }
	Bits empty() const { return Bits(words, 0); }
	Bits where(const std::function<bool(const Rule &)> &pred) const
	{
		Bits b = empty();
		for (size_t i = 0; i < rules.size(); i++)
			if (pred(*rules[i]))
				b[i / 64] |= 1ull << (i % 64);
		return b;
	}
};

void bits_or(Bits &a, const uint64_t *b)
{
	for (size_t i = 0; i < a.size(); i++)
		a[i] |= b[i];
}

// --- field dimensions -------------------------------------------------------

ClassSet iface_dim(const ChainRules &cr, bool out, const IfindexOf &ifindex_of, uint8_t dir,
		   std::vector<IfaceEntry> &entries, uint32_t &default_class)
{
	ClassSet cs = cr.classes();
	auto field = [out](const Rule &r) -> const std::optional<std::string> & { return out ? r.out : r.in; };
	Bits wildcard = cr.where([&](const Rule &r) { return !field(r); });
	default_class = cs.intern(wildcard);
	std::map<std::string, Bits> named;
	for (size_t i = 0; i < cr.rules.size(); i++) {
		const auto &f = field(*cr.rules[i]);
		if (!f)
			continue;
		auto [it, fresh] = named.try_emplace(*f, wildcard);
		it->second[i / 64] |= 1ull << (i % 64);
	}
	for (auto &[name, bits] : named) {
		// An interface that does not exist (yet) has no index to match:
		// its rules match nothing until it appears and the watcher
		// compiles the ruleset again (docs/watch.md).
		uint32_t ifindex = ifindex_of(name);
		if (!ifindex)
			continue;
		entries.push_back({ifindex, cr.chain, dir, cs.intern(bits)});
	}
	return cs;
}

Prefix masked(const Prefix &p, int len)
{
	Prefix q = p;
	q.len = len;
	for (int i = 0; i < 16; i++) {
		int bits = std::clamp(len - i * 8, 0, 8);
		q.addr[i] &= bits == 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
	}
	return q;
}

struct PrefixKey {
	int family, len;
	std::array<uint8_t, 16> addr;
	bool operator<(const PrefixKey &o) const
	{
		return std::tie(family, len, addr) < std::tie(o.family, o.len, o.addr);
	}
};

// One LPM entry per distinct prefix (plus /0 per family): the set of an
// address is that of its longest matching prefix, because the rule prefixes
// that contain an address are exactly the ancestors of that longest one.
ClassSet addr_dim(const ChainRules &cr, bool dst, uint8_t dir, std::vector<AddrEntry> &entries)
{
	ClassSet cs = cr.classes();
	auto field = [dst](const Rule &r) -> const std::optional<Prefix> & { return dst ? r.daddr : r.saddr; };
	Bits wildcard = cr.where([&](const Rule &r) { return !field(r); });
	std::map<PrefixKey, Bits> exact; // rules per exact prefix
	for (size_t i = 0; i < cr.rules.size(); i++) {
		const auto &f = field(*cr.rules[i]);
		if (!f)
			continue;
		auto [it, fresh] = exact.try_emplace(PrefixKey{f->family, f->len, f->addr}, cr.empty());
		it->second[i / 64] |= 1ull << (i % 64);
	}
	for (int family : {4, 6}) {
		int maxlen = family == 4 ? 32 : 128;
		std::map<PrefixKey, bool> points; // every rule prefix of the family, and /0
		points[PrefixKey{family, 0, {}}] = true;
		for (auto &[k, _] : exact)
			if (k.family == family)
				points[k] = true;
		for (auto &[k, _] : points) {
			Bits set = wildcard;
			Prefix p;
			p.family = family;
			p.addr = k.addr;
			for (int len = k.len; len >= 0; len--) {
				Prefix anc = masked(p, len);
				auto it = exact.find(PrefixKey{family, len, anc.addr});
				if (it != exact.end())
					bits_or(set, it->second.data());
			}
			entries.push_back({cr.chain, (uint8_t)family, dir, (uint8_t)k.len, k.addr, cs.intern(set)});
		}
		(void)maxlen;
	}
	return cs;
}

ClassSet proto_dim(const ChainRules &cr, std::vector<uint32_t> &table)
{
	ClassSet cs = cr.classes();
	Bits wildcard = cr.where([](const Rule &r) { return !r.proto; });
	std::vector<Bits> per(256, wildcard);
	for (size_t i = 0; i < cr.rules.size(); i++)
		if (cr.rules[i]->proto)
			per[*cr.rules[i]->proto][i / 64] |= 1ull << (i % 64);
	table.assign(256, 0);
	for (int p = 0; p < 256; p++)
		table[p] = cs.intern(per[p]);
	return cs;
}

// Sweeps the port line once: the set changes only where a range starts or
// ends (one past its last port), so each segment's set is interned once.
// The edges are a sorted list, not a slot per port: two 65,537-slot tables
// per dimension were most of the time of compiling a small ruleset.
ClassSet port_dim(const ChainRules &cr, bool dst, std::vector<uint32_t> &table)
{
	ClassSet cs = cr.classes();
	auto field = [dst](const Rule &r) -> const std::optional<PortRange> & { return dst ? r.dport : r.sport; };
	Bits wildcard = cr.where([&](const Rule &r) { return !field(r); });
	struct Edge {
		uint32_t port;
		size_t rule;
		bool start;
	};
	std::vector<Edge> edges;
	for (size_t i = 0; i < cr.rules.size(); i++)
		if (const auto &f = field(*cr.rules[i])) {
			edges.push_back({f->lo, i, true});
			edges.push_back({f->hi + 1u, i, false});
		}
	std::sort(edges.begin(), edges.end(), [](const Edge &a, const Edge &b) { return a.port < b.port; });
	cs.reserve(edges.size() + 2); // a class at most per edge, the wildcard, the empty set
	Bits cur = wildcard;
	table.assign(FW_PORT_SLOTS, 0);
	uint32_t cls = cs.intern(cur);
	size_t next = 0;
	for (uint32_t port = 0; port < 65536; port++) {
		if (next < edges.size() && edges[next].port == port) {
			// A rule has one range per field: its bit is set exactly
			// from its start edge to its end edge.
			for (; next < edges.size() && edges[next].port == port; next++) {
				size_t i = edges[next].rule;
				if (edges[next].start)
					cur[i / 64] |= 1ull << (i % 64);
				else
					cur[i / 64] &= ~(1ull << (i % 64));
			}
			cls = cs.intern(cur);
		}
		table[port] = cls;
	}
	table[FW_NO_PORT] = cs.intern(wildcard); // ICMP, ESP...: only port-less rules
	return cs;
}

// --- combining -----------------------------------------------------------

// Emits (a, b) -> class of (A[a] & B[b]) for every non-empty intersection.
// With final set, the value is the first rule's index instead.
ClassSet combine(const ChainRules &cr, const ClassSet &A, const ClassSet &B, uint8_t stage,
		 bool final, std::vector<CombineEntry> &out)
{
	ClassSet C = cr.classes();
	size_t n = cr.rules.size(), words = cr.words;
	std::vector<std::vector<uint32_t>> inv(n); // rule -> B classes holding it
	size_t nonempty_b = 0;
	for (uint32_t b = 0; b < B.size(); b++) {
		const uint64_t *s = B.set(b);
		if (bits_empty(s, words))
			continue;
		nonempty_b++;
		for (size_t w = 0; w < words; w++)
			for (uint64_t x = s[w]; x; x &= x - 1)
				inv[w * 64 + __builtin_ctzll(x)].push_back(b);
	}
	std::vector<uint32_t> mark(B.size(), UINT32_MAX), cand;
	Bits tmp(words);
	for (uint32_t a = 0; a < A.size(); a++) {
		const uint64_t *s = A.set(a);
		cand.clear();
		for (size_t w = 0; w < words && cand.size() < nonempty_b; w++)
			for (uint64_t x = s[w]; x && cand.size() < nonempty_b; x &= x - 1)
				for (uint32_t b : inv[w * 64 + __builtin_ctzll(x)])
					if (mark[b] != a) {
						mark[b] = a;
						cand.push_back(b);
					}
		for (uint32_t b : cand) {
			const uint64_t *t = B.set(b);
			uint32_t value;
			if (final) {
				value = FW_RULE_NONE;
				for (size_t w = 0; w < words; w++)
					if (uint64_t x = s[w] & t[w]) {
						value = cr.base + (uint32_t)(w * 64 + __builtin_ctzll(x));
						break;
					}
			} else {
				for (size_t w = 0; w < words; w++)
					tmp[w] = s[w] & t[w];
				value = C.intern(tmp);
			}
			out.push_back({cr.chain, stage, a, b, value});
			if (out.size() > kMaxCombineEntries)
				throw CompileError("the ruleset needs more than " +
						   std::to_string(kMaxCombineEntries) +
						   " classifier entries; split wide rules (many addresses crossed "
						   "with many ports) or merge rules into ranges and prefixes");
		}
	}
	return C;
}

void compile_chain(const Ruleset &rs, Chain chain, uint32_t base, const IfindexOf &ifindex_of,
		   CompiledTables &t)
{
	uint8_t c = chain == Chain::input ? FW_CHAIN_INPUT : FW_CHAIN_FORWARD;
	const auto &rules = rs.rules(chain);
	ChainRules cr{c, base, {}, 0};
	for (size_t i = 0; i < rules.size(); i++) {
		const Rule &r = rules[i];
		uint8_t action = r.action == Action::accept ? FW_VERDICT_ACCEPT
				 : r.action == Action::drop ? FW_VERDICT_DROP
							    : FW_VERDICT_REJECT;
		t.rules.push_back(fw_rule{action, (uint8_t)(r.log ? FW_RULE_F_LOG : 0), c, 0,
					  (uint32_t)(i + 1), 0, 0});
		if (t.catchall[c] != FW_RULE_NONE)
			continue; // shadowed by the catch-all: never matches
		if (r.matches_everything())
			t.catchall[c] = base + (uint32_t)i;
		else
			cr.rules.push_back(&r);
	}
	cr.words = std::max<size_t>(1, (cr.rules.size() + 63) / 64);

	ClassSet in = iface_dim(cr, false, ifindex_of, FW_DIR_SRC, t.ifaces, t.iface_default_class[c][0]);
	ClassSet out = iface_dim(cr, true, ifindex_of, FW_DIR_DST, t.ifaces, t.iface_default_class[c][1]);
	ClassSet saddr = addr_dim(cr, false, FW_DIR_SRC, t.addrs);
	ClassSet daddr = addr_dim(cr, true, FW_DIR_DST, t.addrs);
	ClassSet proto = proto_dim(cr, t.protos[c]);
	ClassSet sport = port_dim(cr, false, t.ports[c][FW_DIR_SRC]);
	ClassSet dport = port_dim(cr, true, t.ports[c][FW_DIR_DST]);
	if (t.addrs.size() > kMaxAddrEntries)
		throw CompileError("too many distinct address prefixes");

	ClassSet A = combine(cr, in, out, FW_STAGE_IFACES, false, t.combines);
	ClassSet B = combine(cr, saddr, daddr, FW_STAGE_ADDRS, false, t.combines);
	ClassSet C = combine(cr, proto, sport, FW_STAGE_PROTO_SPORT, false, t.combines);
	ClassSet D = combine(cr, A, B, FW_STAGE_AB, false, t.combines);
	// One class per dimension means no rule of the chain uses it (a named
	// interface or any prefix adds a second). Then A, B and D each have at
	// most one class, the same for every packet: D's only class, or none
	// when the intersection is empty.
	if (in.size() == 1 && out.size() == 1 && saddr.size() == 1 && daddr.size() == 1) {
		t.ab_constant[c] = true;
		t.const_ab[c] = D.size() == 1 ? 0 : FW_CLASS_NONE;
	}
	ClassSet E = combine(cr, C, dport, FW_STAGE_C_DPORT, false, t.combines);
	combine(cr, D, E, FW_STAGE_FINAL, true, t.combines);
}

} // namespace

CompiledTables classifier_compile(const Ruleset &rs, const IfindexOf &ifindex_of)
{
	if (rs.input.size() + rs.forward.size() > FW_MAX_RULES)
		throw CompileError("the ruleset has " + std::to_string(rs.input.size() + rs.forward.size()) +
				   " rules; at most " + std::to_string(FW_MAX_RULES) + " fit");
	CompiledTables t;
	compile_chain(rs, Chain::input, 0, ifindex_of, t);
	compile_chain(rs, Chain::forward, (uint32_t)rs.input.size(), ifindex_of, t);
	return t;
}

} // namespace fw
