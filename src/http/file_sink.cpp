#include "http/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

namespace zephyr::http::detail {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p) {
    throw std::system_error{errno, std::generic_category(), what + " '" + p.string() + "'"};
}

}  // namespace

file_sink::file_sink(std::filesystem::path path) : final_{std::move(path)} {
    if (!final_.has_filename()) {
        errno = EISDIR;
        fail("cannot create", final_);
    }
    // Built with append rather than "." + name: GCC 12 at -O3 warns falsely (-Wrestrict) about the operator+.
    std::string hidden{"."};
    hidden.append(final_.filename().string()).append(".zephyr-XXXXXX");
    std::string name = (final_.parent_path() / hidden).string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0) fail("cannot create", final_);
    path_ = name;
    ::fchmod(fd_, 0644);  // as an ordinary new file; mkostemp makes it private
}

file_sink file_sink::temporary(const std::filesystem::path& dir) {
    std::filesystem::path base = dir.empty() ? std::filesystem::temp_directory_path() : dir;
    std::string name = (base / "zephyr-upload-XXXXXX").string();
    int fd = ::mkostemp(name.data(), O_CLOEXEC);  // mode 0600
    if (fd < 0) fail("cannot create a temporary file in", base);
    return file_sink{fd, std::filesystem::path{name}};
}

file_sink::file_sink(file_sink&& other) noexcept
    : fd_{std::exchange(other.fd_, -1)},
      path_{std::move(other.path_)},
      final_{std::move(other.final_)},
      size_{other.size_},
      kept_{std::exchange(other.kept_, true)} {}

file_sink::~file_sink() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_ && !path_.empty()) {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
}

void file_sink::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write", path_);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        size_ += static_cast<std::uint64_t>(n);
    }
}

void file_sink::keep() {
    int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) fail("cannot write", path_);
    if (!final_.empty()) {
        if (::rename(path_.c_str(), final_.c_str()) != 0) fail("cannot create", final_);
        path_ = final_;
    }
    kept_ = true;
}

}  // namespace zephyr::http::detail
