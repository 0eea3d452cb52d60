// A file that an upload is written into with plain blocking writes. It is written under a temporary name and
// renamed into place by keep(), so that nobody sees a partial file and an upload cut short neither leaves one
// behind nor destroys an existing file of that name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace zephyr::http::detail {

class file_sink {
public:
    /// Starts the file that keep() puts at `path` (replacing what is there), written meanwhile as a hidden
    /// ".NAME.zephyr-XXXXXX" next to it. Throws std::system_error naming the file.
    explicit file_sink(std::filesystem::path path);
    /// Creates a new file with a unique name "zephyr-upload-XXXXXX" in `dir` (the system's temporary
    /// directory when empty), readable by this user only. Throws std::system_error.
    static file_sink temporary(const std::filesystem::path& dir);

    file_sink(file_sink&& other) noexcept;
    file_sink& operator=(file_sink&&) = delete;
    /// Closes the file and removes it unless keep() was called.
    ~file_sink();

    /// Appends `data`. Throws std::system_error.
    void write(std::string_view data);
    /// Closes the file and keeps it (renamed to its final path, for the first constructor). Throws
    /// std::system_error when closing reports a write error or the rename fails.
    void keep();

    /// Where the data is being written: the temporary name until keep().
    const std::filesystem::path& path() const noexcept { return path_; }
    std::uint64_t size() const noexcept { return size_; }

private:
    file_sink(int fd, std::filesystem::path path) noexcept : fd_{fd}, path_{std::move(path)} {}

    int fd_ = -1;
    std::filesystem::path path_;
    std::filesystem::path final_;  // where keep() renames the file to; empty for a temporary()
    std::uint64_t size_ = 0;
    bool kept_ = false;
};

}  // namespace zephyr::http::detail
