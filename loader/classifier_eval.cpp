// See classifier_eval.h. classifier_eval() follows bpf/lib/classify.h line
// for line; keep them in step (the datapath tests compare the two on the
// loaded maps, so a drift shows up there).
#include "classifier_eval.h"

#include <cstring>

namespace fw {
namespace {

// --- the linear reference ---------------------------------------------------

bool prefix_has(const Prefix &pre, uint8_t family, const std::array<uint8_t, 16> &addr)
{
	if (pre.family != family)
		return false; // one rule is one address family
	for (int bit = 0; bit < pre.len; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
		if ((pre.addr[bit / 8] & mask) != (addr[bit / 8] & mask))
			return false;
	}
	return true;
}

bool port_in(const std::optional<PortRange> &range, const ClassifierPacket &p, uint16_t port)
{
	// A port rule never matches a packet without ports (ICMP, ESP, ...).
	return !range || (p.has_ports && range->lo <= port && port <= range->hi);
}

bool iface_is(const std::optional<std::string> &name, uint32_t ifindex, const IfindexOf &ifindex_of)
{
	return !name || (ifindex != 0 && ifindex_of(*name) == ifindex);
}

} // namespace

bool classifier_rule_matches(const Rule &r, const ClassifierPacket &p, const IfindexOf &ifindex_of)
{
	return iface_is(r.in, p.in_ifindex, ifindex_of) && iface_is(r.out, p.out_ifindex, ifindex_of) &&
	       (!r.saddr || prefix_has(*r.saddr, p.family, p.saddr)) &&
	       (!r.daddr || prefix_has(*r.daddr, p.family, p.daddr)) && (!r.proto || *r.proto == p.proto) &&
	       port_in(r.sport, p, p.sport) && port_in(r.dport, p, p.dport);
}

namespace {

// --- the image ----------------------------------------------------------------

template <class K> std::vector<uint8_t> key_bytes(const K &k)
{
	const uint8_t *b = reinterpret_cast<const uint8_t *>(&k);
	return std::vector<uint8_t>(b, b + sizeof k);
}

// The bytes after prefixlen agree on the first `bits` bits.
bool lpm_prefix_equal(const fw_addr_key &a, const fw_addr_key &b, uint32_t bits)
{
	const uint8_t *x = reinterpret_cast<const uint8_t *>(&a) + 4;
	const uint8_t *y = reinterpret_cast<const uint8_t *>(&b) + 4;
	for (uint32_t i = 0; i < bits; i++) {
		uint8_t mask = (uint8_t)(0x80 >> (i % 8));
		if ((x[i / 8] & mask) != (y[i / 8] & mask))
			return false;
	}
	return true;
}

// The kernel's LPM trie: the longest entry whose prefix covers the key.
const uint32_t *lpm_lookup(const ClassifierImage &img, const fw_addr_key &k)
{
	const std::pair<fw_addr_key, uint32_t> *best = nullptr;
	for (auto &e : img.addr)
		if (e.first.prefixlen <= k.prefixlen && lpm_prefix_equal(e.first, k, e.first.prefixlen) &&
		    (!best || e.first.prefixlen > best->first.prefixlen))
			best = &e;
	return best ? &best->second : nullptr;
}

void lpm_update(ClassifierImage &img, const fw_addr_key &k, uint32_t value)
{
	for (auto &e : img.addr)
		if (e.first.prefixlen == k.prefixlen && lpm_prefix_equal(e.first, k, k.prefixlen)) {
			e.second = value;
			return;
		}
	img.addr.emplace_back(k, value);
}

template <class K> void drop_generation(std::map<std::vector<uint8_t>, uint32_t> &m, uint8_t gen)
{
	std::erase_if(m, [gen](const auto &kv) {
		K k;
		memcpy(&k, kv.first.data(), sizeof k);
		return k.gen == gen;
	});
}

const uint32_t *find(const std::map<std::vector<uint8_t>, uint32_t> &m, const std::vector<uint8_t> &k)
{
	auto it = m.find(k);
	return it == m.end() ? nullptr : &it->second;
}

// --- the walk: bpf/lib/classify.h -------------------------------------------

uint32_t combine(const ClassifierImage &img, uint32_t a, uint32_t b, uint8_t gen, uint8_t chain,
		 uint8_t stage)
{
	fw_combine_key k{a, b, gen, chain, stage, 0};
	const uint32_t *v = find(img.combine, key_bytes(k));
	return v ? *v : FW_CLASS_NONE;
}

uint32_t iface_class(const ClassifierImage &img, const fw_gen_cfg &cfg, uint32_t ifindex, uint8_t gen,
		     uint8_t chain, uint8_t dir)
{
	fw_iface_key k{ifindex, gen, chain, dir, 0};
	const uint32_t *v = find(img.iface, key_bytes(k));
	return v ? *v : cfg.iface_default_class[chain & 1][dir & 1];
}

uint32_t addr_class(const ClassifierImage &img, const std::array<uint8_t, 16> &addr, uint8_t family,
		    uint8_t gen, uint8_t chain, uint8_t dir)
{
	fw_addr_key k{};
	k.prefixlen = 32u + (family == 4 ? 32u : 128u);
	k.gen = gen;
	k.chain = chain;
	k.family = family;
	k.dir = dir;
	memcpy(k.addr, addr.data(), 16);
	const uint32_t *v = lpm_lookup(img, k);
	return v ? *v : FW_CLASS_NONE;
}

uint32_t array_class(const std::vector<uint32_t> &arr, uint32_t idx)
{
	return idx < arr.size() ? arr[idx] : FW_CLASS_NONE;
}

} // namespace

uint32_t classifier_first_match(const Ruleset &rs, Chain chain, const ClassifierPacket &p,
				const IfindexOf &ifindex_of)
{
	uint32_t base = chain == Chain::input ? 0 : (uint32_t)rs.input.size();
	const auto &rules = rs.rules(chain);
	for (size_t i = 0; i < rules.size(); i++)
		if (classifier_rule_matches(rules[i], p, ifindex_of))
			return base + (uint32_t)i;
	return FW_RULE_NONE;
}

// As the runtime's apply writes a generation (loader/apply.cpp:
// write_classifier, write_port_and_proto_classes, gen_config).
void ClassifierImage::write(const CompiledTables &t, uint8_t gen)
{
	drop_generation<fw_iface_key>(iface, gen);
	drop_generation<fw_combine_key>(combine, gen);
	std::erase_if(addr, [gen](const auto &e) { return e.first.gen == gen; });
	for (auto &e : t.ifaces)
		iface[key_bytes(fw_iface_key{e.ifindex, gen, e.chain, e.dir, 0})] = e.cls;
	for (auto &e : t.addrs) {
		fw_addr_key k{};
		k.prefixlen = 32u + e.len;
		k.gen = gen;
		k.chain = e.chain;
		k.family = e.family;
		k.dir = e.dir;
		memcpy(k.addr, e.addr.data(), 16);
		lpm_update(*this, k, e.cls);
	}
	for (auto &e : t.combines)
		combine[key_bytes(fw_combine_key{e.a, e.b, gen, e.chain, e.stage, 0})] = e.value;
	for (uint32_t c = 0; c < FW_CHAINS; c++) {
		for (uint32_t d = 0; d < 2; d++)
			for (uint32_t i = 0; i < FW_PORT_SLOTS; i++)
				port[fw_port_index(gen, c, d, i)] = t.ports[c][d][i];
		for (uint32_t i = 0; i < 256; i++)
			proto[(gen * FW_CHAINS + c) * 256 + i] = t.protos[c][i];
	}
	fw_gen_cfg &g = cfg[gen & 1];
	g = fw_gen_cfg{};
	for (int c = 0; c < FW_CHAINS; c++) {
		g.catchall[c] = t.catchall[c];
		if (t.ab_constant[c]) {
			g.flags |= FW_CFG_F_CONST_AB << c;
			g.const_ab[c] = t.const_ab[c];
		}
		g.iface_default_class[c][0] = t.iface_default_class[c][0];
		g.iface_default_class[c][1] = t.iface_default_class[c][1];
	}
}

uint32_t classifier_eval(const ClassifierImage &img, uint8_t gen, uint8_t chain, const ClassifierPacket &p)
{
	const fw_gen_cfg &cfg = img.cfg[gen & 1];
	uint32_t catchall = cfg.catchall[chain & 1], d;
	uint32_t sport_slot = p.has_ports ? p.sport : FW_NO_PORT;
	uint32_t dport_slot = p.has_ports ? p.dport : FW_NO_PORT;

	if (cfg.flags & (FW_CFG_F_CONST_AB << (chain & 1))) {
		d = cfg.const_ab[chain & 1];
		if (d == FW_CLASS_NONE)
			return catchall;
	} else {
		uint32_t in_c = iface_class(img, cfg, p.in_ifindex, gen, chain, FW_DIR_SRC);
		uint32_t out_c = iface_class(img, cfg, p.out_ifindex, gen, chain, FW_DIR_DST);
		uint32_t a = combine(img, in_c, out_c, gen, chain, FW_STAGE_IFACES);
		if (a == FW_CLASS_NONE)
			return catchall;
		uint32_t s_c = addr_class(img, p.saddr, p.family, gen, chain, FW_DIR_SRC);
		uint32_t d_c = addr_class(img, p.daddr, p.family, gen, chain, FW_DIR_DST);
		uint32_t b = combine(img, s_c, d_c, gen, chain, FW_STAGE_ADDRS);
		if (b == FW_CLASS_NONE)
			return catchall;
		d = combine(img, a, b, gen, chain, FW_STAGE_AB);
		if (d == FW_CLASS_NONE)
			return catchall;
	}
	uint32_t proto_c = array_class(img.proto, (gen * FW_CHAINS + chain) * 256u + p.proto);
	uint32_t sp_c = array_class(img.port, fw_port_index(gen, chain, FW_DIR_SRC, sport_slot));
	uint32_t c = combine(img, proto_c, sp_c, gen, chain, FW_STAGE_PROTO_SPORT);
	if (c == FW_CLASS_NONE)
		return catchall;
	uint32_t dp_c = array_class(img.port, fw_port_index(gen, chain, FW_DIR_DST, dport_slot));
	uint32_t e = combine(img, c, dp_c, gen, chain, FW_STAGE_C_DPORT);
	if (e == FW_CLASS_NONE)
		return catchall;
	uint32_t rule = combine(img, d, e, gen, chain, FW_STAGE_FINAL);
	return rule < catchall ? rule : catchall;
}

} // namespace fw
