// How hard the running kernel's verifier works on each program of a BPF
// object: "processed N insns" per program, against the million-instruction
// limit. The datapath's headroom differs per kernel (Linux 6.1's verifier
// prunes less than 6.18's); the VM lane prints this on each stock kernel.
//
//   fw_verifier_stats build/bpf/fw.bpf.o [more objects...]
//
// Exit 0 when every object loaded, 1 otherwise (its programs' stats and the
// verifier's last lines are printed either way). Needs root.
#include <bpf/libbpf.h>

#include <cstdio>
#include <cstring>
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
	bpf_object__close(obj);
	if (err) {
		fprintf(stderr, "%s: load failed: %s\n", path, strerror(-err));
		print_rejection(path);
	}
	return err == 0;
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
