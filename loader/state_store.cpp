#include "state_store.h"

#include <algorithm>
#include <cstring>

#include <bpf/bpf.h>
#include <zlib.h>

#include "bpf_map.h"
#include "errors.h"
#include "fw/abi.h"

namespace fw {

namespace {

constexpr uint32_t kMetaMagic = 0x66776d31; // "fwm1"
constexpr uint32_t kMetaChunks = 128;
constexpr size_t kMetaChunkSize = 16384;

// [magic, compressed length] then the zlib stream of the JSON text.
std::vector<uint8_t> compress_text(const std::string &text)
{
	uLongf clen = compressBound(text.size());
	std::vector<uint8_t> buf(8 + clen);
	// Fastest level: a 6.7 MB ruleset compresses to 275 kB instead of 246
	// kB (2 MB fit), in two thirds of the time.
	if (compress2(buf.data() + 8, &clen, (const Bytef *)text.data(), text.size(), Z_BEST_SPEED) != Z_OK)
		throw SystemError("cannot compress the applied state");
	buf.resize(8 + clen);
	uint32_t hdr[2] = {kMetaMagic, (uint32_t)clen};
	memcpy(buf.data(), hdr, 8);
	return buf;
}

std::optional<std::string> uncompress_text(const uint8_t *data, size_t len)
{
	std::string text(1 << 20, '\0');
	for (;;) {
		uLongf out = text.size();
		int rc = uncompress((Bytef *)text.data(), &out, data, len);
		if (rc == Z_BUF_ERROR) {
			text.resize(text.size() * 4);
			continue;
		}
		if (rc != Z_OK)
			return std::nullopt;
		text.resize(out);
		return text;
	}
}

} // namespace

nlohmann::json AppliedState::to_json() const
{
	return {{"format", kStateFormat},
		{"abi", FW_ABI_VERSION},
		{"ruleset", ruleset_to_json(ruleset)},
		{"hash", hash},
		{"applied_at", applied_at},
		{"applied_ns", applied_ns},
		{"elf_hash", elf_hash},
		{"slots",
		 {{"input", slots_input}, {"forward", slots_forward}, {"nat", slots_nat}, {"port-forward", slots_pf}}},
		{"extra", extra}};
}

AppliedState AppliedState::from_json(const nlohmann::json &j)
{
	int format = j.value("format", 1);
	if (format < 1 || format > kStateFormat)
		throw InputError("applied state of format " + std::to_string(format) + " (this fwctl reads up to " +
				 std::to_string(kStateFormat) + ")");
	AppliedState s;
	s.ruleset = ruleset_from_canonical_json(j.at("ruleset"));
	s.hash = j.at("hash");
	s.applied_at = j.at("applied_at");
	s.applied_ns = j.value("applied_ns", 0ull);
	s.elf_hash = j.value("elf_hash", "");
	s.abi = j.value("abi", 0);
	const auto &sl = j.at("slots");
	s.slots_input = sl.at("input").get<std::vector<uint32_t>>();
	s.slots_forward = sl.at("forward").get<std::vector<uint32_t>>();
	s.slots_nat = sl.at("nat").get<std::vector<uint32_t>>();
	s.slots_pf = sl.at("port-forward").get<std::vector<uint32_t>>();
	s.extra = j.value("extra", nlohmann::json::object());
	return s;
}

Ruleset ruleset_from_canonical_json(const nlohmann::json &j)
{
	CheckResult r = ruleset_check_json(j, [](const std::string &) { return true; });
	if (!r.ruleset)
		throw InputError("a stored ruleset no longer checks: " +
				 (r.errors.empty() ? std::string("?") : format_error("ruleset", r.errors[0])));
	return std::move(*r.ruleset);
}

std::string ruleset_hash(const Ruleset &rs)
{
	return hash_hex(ruleset_to_json(rs).dump());
}

size_t applied_state_capacity() { return kMetaChunks * kMetaChunkSize; }

size_t applied_state_chunk_size() { return kMetaChunkSize; }

std::vector<uint8_t> applied_state_blob(const AppliedState &st)
{
	std::vector<uint8_t> buf = compress_text(st.to_json().dump());
	if (buf.size() > applied_state_capacity())
		throw InputError("the ruleset is too large to record (" + std::to_string(buf.size()) +
				 " bytes compressed, at most " + std::to_string(applied_state_capacity()) + ")");
	return buf;
}

void write_applied_state(int meta_fd, uint32_t gen, const std::vector<uint8_t> &buf)
{
	std::vector<uint8_t> chunk(kMetaChunkSize);
	for (uint32_t i = 0; i * kMetaChunkSize < buf.size(); i++) {
		size_t n = std::min(kMetaChunkSize, buf.size() - i * kMetaChunkSize);
		std::fill(chunk.begin(), chunk.end(), 0);
		memcpy(chunk.data(), buf.data() + i * kMetaChunkSize, n);
		uint32_t key = gen * kMetaChunks + i;
		map_update(meta_fd, &key, chunk.data(), "the applied state");
	}
}

std::optional<AppliedState> read_applied_state(int meta_fd, uint32_t gen)
{
	std::vector<uint8_t> chunk(kMetaChunkSize), buf;
	uint32_t key = gen * kMetaChunks;
	if (bpf_map_lookup_elem(meta_fd, &key, chunk.data()) != 0)
		return std::nullopt;
	uint32_t hdr[2];
	memcpy(hdr, chunk.data(), 8);
	if (hdr[0] != kMetaMagic || 8 + (size_t)hdr[1] > kMetaChunks * kMetaChunkSize)
		return std::nullopt;
	size_t total = 8 + hdr[1];
	buf.insert(buf.end(), chunk.begin(), chunk.end());
	for (uint32_t i = 1; i * kMetaChunkSize < total; i++) {
		key = gen * kMetaChunks + i;
		if (bpf_map_lookup_elem(meta_fd, &key, chunk.data()) != 0)
			return std::nullopt;
		buf.insert(buf.end(), chunk.begin(), chunk.end());
	}
	auto text = uncompress_text(buf.data() + 8, hdr[1]);
	if (!text)
		return std::nullopt;
	try {
		return AppliedState::from_json(nlohmann::json::parse(*text));
	} catch (const std::exception &) {
		return std::nullopt;
	}
}

} // namespace fw
