// zephyr/http/headers.hpp — header fields with case-insensitive names.
//
// `headers` owns its fields (responses); `header_view` refers into a request's buffer. Both keep the order in
// which fields arrived or were added, and both look names up without regard to case.
//
//     res.headers().set("Cache-Control", "no-store");
//     res.headers().add("Vary", "Accept-Encoding");
//     if (auto v = req.headers().get("x-request-id")) use(*v);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::http {

/// ASCII case-insensitive equality, the comparison RFC 9110 prescribes for field names.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

/// True when the comma-separated field value `list` contains `token` (case-insensitively), e.g. "close" in
/// "keep-alive, Close".
bool has_token(std::string_view list, std::string_view token) noexcept;

/// Header fields stored as (name, value) pairs of type `S` (std::string or std::string_view).
template <class S>
class basic_headers {
public:
    using field = std::pair<S, S>;
    using const_iterator = typename std::vector<field>::const_iterator;

    /// The value of the first field named `name`, or nothing.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const auto& f : fields_)
            if (iequals(f.first, name)) return std::string_view{f.second};
        return std::nullopt;
    }
    /// The values of every field named `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> out;
        for (const auto& f : fields_)
            if (iequals(f.first, name)) out.emplace_back(f.second);
        return out;
    }
    /// True when a field named `name` is present.
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    /// Appends a field, keeping any with the same name (for Set-Cookie, Vary, ...).
    void add(S name, S value) { fields_.emplace_back(std::move(name), std::move(value)); }

    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    void clear() noexcept { fields_.clear(); }
    void reserve(std::size_t n) { fields_.reserve(n); }

protected:
    std::vector<field> fields_;
};

/// Fields that refer to memory owned elsewhere: a request's headers.
using header_view = basic_headers<std::string_view>;

/// Owned fields: a response's headers.
class headers : public basic_headers<std::string> {
public:
    /// Replaces every field named `name` with one field. Throws std::invalid_argument when the name is not a
    /// token or the value contains CR, LF or NUL (which would let a value inject another header).
    void set(std::string_view name, std::string_view value);
    /// Appends a field after validating it as `set` does.
    void append(std::string_view name, std::string_view value);
    /// Removes every field named `name`; returns how many were removed.
    std::size_t remove(std::string_view name);
};

/// Throws std::invalid_argument unless `name` is a valid field name and `value` a valid field value.
void validate_field(std::string_view name, std::string_view value);

}  // namespace zephyr::http
