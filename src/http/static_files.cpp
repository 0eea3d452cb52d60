#include <zephyr/http/date.hpp>
#include <zephyr/http/layers/compression.hpp>
#include <zephyr/http/static_files.hpp>

#include "http/range.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <charconv>
#include <ctime>
#include <system_error>

namespace zephyr::http {
namespace fs = std::filesystem;

namespace {

// True when `inner` is `root` or lies below it, comparing whole path components.
bool within(const fs::path& root, const fs::path& inner) {
    auto r = root.begin(), i = inner.begin();
    for (; r != root.end(); ++r, ++i)
        if (i == inner.end() || *r != *i) return false;
    return true;
}

bool etag_matches(std::string_view list, std::string_view etag) {
    // Weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
    auto strip = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
    std::string_view mine = strip(etag);
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item == "*" || strip(item) == mine) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

namespace detail {

// One "bytes=" range against `size`. Nothing for a header to ignore (several ranges, another unit, syntax
// errors: RFC 9110 lets a server ignore those), an empty range for an unsatisfiable one.
std::optional<std::optional<byte_range>> parse_range(std::string_view h, std::uint64_t size) {
    if (!h.starts_with("bytes=")) return std::nullopt;
    h.remove_prefix(6);
    if (h.find(',') != std::string_view::npos) return std::nullopt;
    auto dash = h.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto num = [](std::string_view t, std::uint64_t& out) {
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
        return !t.empty() && ec == std::errc{} && p == t.data() + t.size();
    };
    std::string_view a = h.substr(0, dash), b = h.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix: the last N bytes
        if (!num(b, last)) return std::nullopt;
        if (last == 0 || size == 0) return std::optional<byte_range>{};
        return byte_range{size > last ? size - last : 0, size - 1};
    }
    if (!num(a, first)) return std::nullopt;
    if (b.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else if (!num(b, last) || last < first) {
        return std::nullopt;
    }
    if (first >= size) return std::optional<byte_range>{};
    return byte_range{first, std::min(last, size - 1)};
}

}  // namespace detail


static_files::static_files(const fs::path& root, static_options options) : options_{std::move(options)} {
    std::error_code ec;
    root_ = fs::canonical(root, ec);
    if (ec || !fs::is_directory(root_))
        throw std::invalid_argument{fmt::format("static_files: '{}' is not a directory", root.string())};
}

Response static_files::operator()(Request& req) const {
    const HttpError not_found{status::not_found, "file not found"};
    if (req.params().empty()) throw not_found;
    std::string_view rel = req.params().back().value;
    if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) throw not_found;
    fs::path wanted = root_;
    for (auto part : fs::path{std::string{rel}}.relative_path()) {
        if (part == "..") throw not_found;
        if (part == "." || part.empty()) continue;
        wanted /= part;
    }
    std::error_code ec;
    fs::path real = fs::canonical(wanted, ec);  // resolves symlinks
    if (ec) throw not_found;
    if (!options_.follow_symlinks_outside && !within(root_, real)) throw not_found;
    if (fs::is_directory(real, ec)) {
        if (options_.index.empty()) throw not_found;
        real /= options_.index;
    }

    // A precompressed sibling the client accepts is sent instead, with the original's type.
    fs::path chosen = real;
    std::string_view coding;
    if (options_.precompressed) {
        auto accept = req.header("Accept-Encoding");
        content_coding c = accept ? negotiate_coding(*accept, true, true) : content_coding::identity;
        auto try_sibling = [&](std::string_view ext, std::string_view name) {
            fs::path sib = real;
            sib += ext;
            if (fs::is_regular_file(sib, ec)) {
                chosen = sib;
                coding = name;
                return true;
            }
            return false;
        };
        if (c == content_coding::br) {
            // No .br file: gzip may still be acceptable.
            if (!try_sibling(".br", "br") && negotiate_coding(*accept, true, false) == content_coding::gzip)
                try_sibling(".gz", "gzip");
        } else if (c == content_coding::gzip) {
            try_sibling(".gz", "gzip");
        }
    }

    struct stat st {};
    if (::stat(chosen.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) throw not_found;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    std::string etag = fmt::format("\"{:x}-{:x}{}{}\"", size, mtime_ns, coding.empty() ? "" : "-", coding);
    std::string last_modified = to_http_date(st.st_mtim.tv_sec);

    auto common = [&](Response& r) {
        r.headers().set("ETag", etag);
        r.headers().set("Last-Modified", last_modified);
        r.headers().set("Accept-Ranges", "bytes");
        if (options_.precompressed) r.headers().set("Vary", "Accept-Encoding");
        if (options_.max_age) r.headers().set("Cache-Control", fmt::format("public, max-age={}", options_.max_age->count()));
    };

    // Conditional requests (RFC 9110 13.2.2): If-None-Match wins over If-Modified-Since.
    if (auto inm = req.header("If-None-Match")) {
        if (etag_matches(*inm, etag)) {
            Response r{status::not_modified};
            common(r);
            return r;
        }
    } else if (auto ims = req.header("If-Modified-Since")) {
        if (auto since = parse_http_date(*ims); since && st.st_mtim.tv_sec <= *since) {
            Response r{status::not_modified};
            common(r);
            return r;
        }
    }

    Response res = Response::file(chosen.string(), content_type_for(real.string()));
    common(res);
    if (!coding.empty()) res.headers().set("Content-Encoding", coding);

    if (auto range = req.header("Range"); range && req.method() == method::get) {
        bool honour = true;
        if (auto if_range = req.header("If-Range")) {  // only a strong, current validator keeps the range
            honour = if_range->starts_with("\"") ? *if_range == etag : *if_range == last_modified;
        }
        if (honour) {
            if (auto parsed = detail::parse_range(*range, size)) {
                if (!*parsed) {
                    Response r = Response::problem(status::range_not_satisfiable, "the requested range is outside the file");
                    r.headers().set("Content-Range", fmt::format("bytes */{}", size));
                    return r;
                }
                detail::byte_range br = **parsed;
                res.set_status(status::partial_content);
                res.headers().set("Content-Range", fmt::format("bytes {}-{}/{}", br.first, br.last, size));
                res.set_file_range(br.first, br.last - br.first + 1);
            }
        }
    }
    return res;
}

}  // namespace zephyr::http
