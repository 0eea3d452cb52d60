#include <zephyr/view/templates.hpp>

#include "view/compiled.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <utility>

namespace zephyr::view {

namespace fs = std::filesystem;

struct Templates::state {
    fs::path dir;
    templates_options options;

    struct entry {
        std::shared_ptr<const detail::compiled> compiled;
        fs::file_time_type mtime{};
        std::uintmax_t size = 0;
    };
    std::shared_mutex mutex;
    std::map<std::string, entry, std::less<>> cache;

    // The partials of one render. Each file is looked up (and, with reload on, checked) once per render, and
    // what it resolved to stays alive until the render ends even if another thread reloads it meanwhile.
    class source final : public detail::partial_source {
    public:
        explicit source(state& s) : s_{s} {}

        const detail::compiled* find(std::string_view name) override {
            auto it = seen_.find(name);
            if (it == seen_.end()) it = seen_.emplace(std::string{name}, s_.load(name)).first;
            return it->second.get();
        }

    private:
        state& s_;
        std::map<std::string, std::shared_ptr<const detail::compiled>, std::less<>> seen_;
    };

    [[noreturn]] void invalid(std::string_view name, std::string_view why) const {
        throw template_error(dir.string(), 0, 0, fmt::format("invalid template name '{}': {}", name, why));
    }

    // The name as a relative path without the extension; rejects anything that could leave the directory.
    std::string checked(std::string_view name) const {
        if (name.size() > options.extension.size() && name.ends_with(options.extension)) {
            name.remove_suffix(options.extension.size());
        }
        if (name.empty()) invalid(name, "it is empty");
        if (name.front() == '/') invalid(name, "names are relative to the template directory");
        if (name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
            invalid(name, "names use '/' between directories and contain no '\\' or NUL");
        }
        std::size_t start = 0;
        while (true) {
            std::size_t slash = name.find('/', start);
            std::string_view segment = name.substr(start, slash == std::string_view::npos ? slash : slash - start);
            if (segment.empty() || segment == "." || segment == "..") {
                invalid(name, "names may not contain empty, '.' or '..' segments");
            }
            if (slash == std::string_view::npos) break;
            start = slash + 1;
        }
        return std::string{name};
    }

    std::shared_ptr<const detail::compiled> load(std::string_view requested) {
        std::string name = checked(requested);
        if (!options.reload) {
            std::shared_lock lock{mutex};
            if (auto it = cache.find(name); it != cache.end()) return it->second.compiled;
        }
        fs::path file = dir / (name + options.extension);
        std::error_code ec;
        fs::file_status st = fs::status(file, ec);
        if (ec || !fs::exists(st)) {
            throw template_error(file.string(), 0, 0, fmt::format("template '{}' not found (no such file)", name));
        }
        if (!fs::is_regular_file(st)) {
            throw template_error(file.string(), 0, 0, fmt::format("template '{}' is not a regular file", name));
        }
        fs::file_time_type mtime = fs::last_write_time(file, ec);
        std::uintmax_t size = ec ? 0 : fs::file_size(file, ec);
        if (options.reload) {
            std::shared_lock lock{mutex};
            auto it = cache.find(name);
            if (it != cache.end() && it->second.mtime == mtime && it->second.size == size) return it->second.compiled;
        }
        // Read and compile outside the lock. If the file changes between the stat above and the read, the
        // cached entry carries the older time and is simply compiled again on the next render.
        std::ifstream in{file, std::ios::binary};
        std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
        if (in.bad() || !in.is_open()) {
            throw template_error(file.string(), 0, 0, fmt::format("template '{}' cannot be read", name));
        }
        std::shared_ptr<const detail::compiled> c = detail::compile(text, file.string(), options.limits);
        std::unique_lock lock{mutex};
        cache.insert_or_assign(std::move(name), entry{c, mtime, size});
        return c;
    }
};

Templates::Templates(std::filesystem::path directory, templates_options options) : state_{std::make_shared<state>()} {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
        throw template_error(directory.string(), 0, 0,
                             "not a directory; Templates needs the directory that holds "
                             "the template files");
    }
    state_->dir = std::move(directory);
    state_->options = std::move(options);
}

std::string Templates::render(std::string_view name, const boost::json::value& data, const lambdas& lambdas) const {
    return render_ref(name, detail::ref_of(data), lambdas);
}

std::string Templates::render_ref(std::string_view name, detail::data_ref data, const lambdas& lambdas) const {
    state::source source{*state_};
    const detail::compiled* t = source.find(name);
    return detail::render(*t, data, source, lambdas);
}

Template Templates::get(std::string_view name) const {
    return detail::access::make(state_->load(name));
}

std::size_t Templates::preload() const {
    std::size_t count = 0;
    const std::string& ext = state_->options.extension;
    for (const auto& e : fs::recursive_directory_iterator{state_->dir}) {
        if (!e.is_regular_file()) continue;
        std::string rel = fs::relative(e.path(), state_->dir).generic_string();
        if (rel.size() <= ext.size() || !rel.ends_with(ext)) continue;
        state_->load(rel);
        ++count;
    }
    return count;
}

const std::filesystem::path& Templates::directory() const noexcept {
    return state_->dir;
}

}  // namespace zephyr::view
