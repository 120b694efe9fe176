#include "durable_file.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "util.h"

namespace fw {

namespace {

void make_dirs(const std::string &dir)
{
	for (size_t pos = 1; pos != std::string::npos && pos <= dir.size();) {
		pos = dir.find('/', pos + 1);
		std::string partial = dir.substr(0, pos);
		if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
			throw SystemError(errno_message("cannot create directory " + partial, errno));
	}
}

void write_all(int fd, const std::string &content, const std::string &tmp)
{
	for (size_t off = 0; off < content.size();) {
		ssize_t n = write(fd, content.data() + off, content.size() - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			throw SystemError(errno_message("cannot write " + tmp, errno));
		off += (size_t)n;
	}
}

} // namespace

void write_file_durably(const std::string &path, const std::string &content)
{
	size_t slash = path.rfind('/');
	std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
	make_dirs(dir);
	std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(realtime_ns() % 1000000);
	int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		throw SystemError(errno_message("cannot create " + tmp, errno));
	try {
		write_all(fd, content, tmp);
		if (fchmod(fd, 0600) != 0 || fsync(fd) != 0)
			throw SystemError(errno_message("cannot sync " + tmp, errno));
	} catch (...) {
		close(fd);
		unlink(tmp.c_str());
		throw;
	}
	close(fd);
	if (rename(tmp.c_str(), path.c_str()) != 0) {
		int e = errno;
		unlink(tmp.c_str());
		throw SystemError(errno_message("cannot replace " + path, e));
	}
	int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		throw SystemError(errno_message("cannot sync directory " + dir, e));
	}
	close(dfd);
}

} // namespace fw
