// How hard the running kernel's verifier works on each program of a BPF
// object: "processed N insns" per program, against the million-instruction
// limit. The datapath's headroom differs per kernel (Linux 6.1's verifier
// prunes less than 6.18's); the VM lane prints this on each stock kernel.
//
//   fw_verifier_stats build/bpf/fw.bpf.o [more objects...]
//
// It also checks each program's chains of calls against Linux 6.1's limit
// of 512 bytes for the stacks of a chain together (check_max_stack_depth:
// every frame rounded up to 32 bytes; bpf_loop callbacks count as calls),
// which newer kernels apply differently: 6.18 loaded a 544-byte chain that
// 6.1 refused, and only the VM lane saw it. Frames are read from the
// instructions as loaded (the deepest r10 offset each function touches),
// as the verifier measures them before it rewrites anything.
//
// Exit 0 when every object loaded and every chain fits, 1 otherwise (its
// programs' stats and the verifier's last lines are printed either way).
// Needs root.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr size_t kLogSize = 1 << 20;

std::string last_lines(const char *log, int lines)
{
	std::string s(log);
	size_t pos = s.size();
	while (lines-- > 0 && pos > 0) {
		pos = s.rfind('\n', pos - 1);
		if (pos == std::string::npos) {
			pos = 0;
			break;
		}
	}
	return s.substr(pos);
}

// Loads the object again with the verifier's full log (level 1), program
// by program, and prints the last lines of each program it rejects.
void print_rejection(const char *path)
{
	std::vector<char> log(64u << 20);
	struct bpf_object *probe = bpf_object__open(path);
	if (!probe)
		return;
	std::vector<std::string> names;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, probe) names.push_back(bpf_program__name(prog));
	bpf_object__close(probe);
	for (const auto &name : names) {
		struct bpf_object *obj = bpf_object__open(path);
		if (!obj)
			return;
		bpf_object__for_each_program(prog, obj)
		{
			bool it = name == bpf_program__name(prog);
			bpf_program__set_autoload(prog, it);
			if (it) {
				log[0] = '\0';
				bpf_program__set_log_level(prog, 1);
				bpf_program__set_log_buf(prog, log.data(), log.size());
			}
		}
		if (bpf_object__load(obj) != 0)
			printf("%s %s rejected; the verifier's last lines:\n%s\n", path, name.c_str(),
			       last_lines(log.data(), 15).c_str());
		bpf_object__close(obj);
	}
}

constexpr int kChainLimit = 512; // MAX_BPF_STACK, for a chain of calls on Linux 6.1

// A call into another function of the program: a BPF-to-BPF call, or a
// function's address taken (a bpf_loop callback), which 6.1 counts alike.
int call_target(const struct bpf_insn *insns, size_t i)
{
	const struct bpf_insn &in = insns[i];
	if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL)
		return (int)i + in.imm + 1;
	if (in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src_reg == BPF_PSEUDO_FUNC)
		return (int)i + in.imm + 1;
	return -1;
}

// The deepest stack byte an instruction reaches below r10 (0: none): an
// access through r10, or r10 copied and moved down (a pointer for a helper).
int stack_reach(const struct bpf_insn &in, std::map<int, int> &r10_copies)
{
	int cls = BPF_CLASS(in.code);
	if ((cls == BPF_STX || cls == BPF_ST) && in.dst_reg == BPF_REG_10 && in.off < 0)
		return -in.off;
	if (cls == BPF_LDX && in.src_reg == BPF_REG_10 && in.off < 0)
		return -in.off;
	if (in.code == (BPF_ALU64 | BPF_MOV | BPF_X) && in.src_reg == BPF_REG_10) {
		r10_copies[in.dst_reg] = 0;
		return 0;
	}
	if (in.code == (BPF_ALU64 | BPF_ADD | BPF_K) && r10_copies.count(in.dst_reg)) {
		r10_copies[in.dst_reg] += in.imm;
		return std::max(0, -r10_copies[in.dst_reg]);
	}
	if (cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LDX || cls == BPF_LD)
		r10_copies.erase(in.dst_reg);
	return 0;
}

// The deepest chain of calls from the program's entry, as 6.1 adds it up.
// Returns false (and says so) when it is over the limit.
bool check_stack_chains(struct bpf_program *prog)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog);
	if (!insns || !n)
		return true;
	std::set<int> starts{0};
	for (size_t i = 0; i < n; i++)
		if (int t = call_target(insns, i); t >= 0)
			starts.insert(t);
	std::vector<int> start(starts.begin(), starts.end());
	auto func_of = [&](int insn) {
		return (int)(std::upper_bound(start.begin(), start.end(), insn) - start.begin()) - 1;
	};
	std::vector<int> frame(start.size(), 0);
	std::vector<std::set<int>> calls(start.size());
	for (size_t f = 0; f < start.size(); f++) {
		size_t end = f + 1 < start.size() ? (size_t)start[f + 1] : n;
		std::map<int, int> r10_copies;
		for (size_t i = (size_t)start[f]; i < end; i++) {
			frame[f] = std::max(frame[f], stack_reach(insns[i], r10_copies));
			if (int t = call_target(insns, i); t >= 0)
				calls[f].insert(func_of(t));
			if (BPF_CLASS(insns[i].code) == BPF_JMP || BPF_CLASS(insns[i].code) == BPF_JMP32)
				r10_copies.clear(); // a branch: where the copy stands is unknown
		}
	}
	auto rounded = [&](int f) { return (std::max(frame[f], 1) + 31) / 32 * 32; };
	std::vector<int> best_next(start.size(), -1), best(start.size(), -1);
	std::function<int(int, int)> deepest = [&](int f, int depth) -> int {
		if (depth > 8 || best[f] >= 0) // 8: the verifier's limit of nested calls
			return std::max(best[f], 0);
		int below = 0;
		for (int c : calls[f])
			if (int d = deepest(c, depth + 1); d > below)
				below = d, best_next[f] = c;
		return best[f] = rounded(f) + below;
	};
	int total = deepest(0, 0);
	std::string chain;
	for (int f = 0; f >= 0; f = best_next[f])
		chain += (chain.empty() ? "" : " -> ") + std::string(f ? "insn " + std::to_string(start[f]) : "entry") +
			 " " + std::to_string(frame[f]);
	bool ok = total <= kChainLimit;
	printf("%-24s stack of the deepest chain %d of %d on Linux 6.1 (bytes per frame: %s)%s\n",
	       bpf_program__name(prog), total, kChainLimit, chain.c_str(),
	       ok ? "" : " -- TOO DEEP: 6.1 refuses it (llvm-objdump -d shows each function's r10 offsets)");
	return ok;
}

bool report(const char *path)
{
	struct bpf_object *obj = bpf_object__open(path);
	if (!obj) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return false;
	}
	std::vector<std::vector<char>> logs;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) logs.emplace_back(kLogSize, '\0');
	size_t i = 0;
	bpf_object__for_each_program(prog, obj)
	{
		// Level 4: statistics only, unless the load fails (then libbpf
		// retries with level 1 into the same buffer).
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, logs[i].data(), logs[i].size());
		i++;
	}
	int err = bpf_object__load(obj);
	i = 0;
	bpf_object__for_each_program(prog, obj)
	{
		const char *log = logs[i++].data();
		const char *stats = strstr(log, "processed ");
		std::string line = stats ? std::string(stats, strcspn(stats, "\n")) : "(not verified)";
		printf("%s %-24s %s\n", path, bpf_program__name(prog), line.c_str());
	}
	bool chains_fit = true;
	if (!err)
		bpf_object__for_each_program(prog, obj) chains_fit = check_stack_chains(prog) && chains_fit;
	bpf_object__close(obj);
	if (err) {
		fprintf(stderr, "%s: load failed: %s\n", path, strerror(-err));
		print_rejection(path);
	}
	return err == 0 && chains_fit;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o...\n", argv[0]);
		return 2;
	}
	// libbpf's warnings (a CO-RE relocation that fails, a missing kernel
	// function) say why an object does not load before any verifier runs.
	libbpf_set_print([](enum libbpf_print_level level, const char *fmt, va_list args) {
		return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
	});
	bool ok = true;
	for (int i = 1; i < argc; i++)
		ok = report(argv[i]) && ok;
	return ok ? 0 : 1;
}
