#include <zephyr/view/template.hpp>

#include "view/compiled.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace zephyr::view {
namespace {

std::string format_error(const std::string& name, std::size_t line, std::size_t column, const std::string& message) {
    if (line == 0) return fmt::format("{}: {}", name, message);
    return fmt::format("{}:{}:{}: {}", name, line, column, message);
}

// `{{> name}}` from a map of compiled templates; a name that is not there renders as nothing.
class map_source final : public detail::partial_source {
public:
    explicit map_source(const partials& p) : partials_{p} {}
    const detail::compiled* find(std::string_view name) override;

private:
    const partials& partials_;
};

}  // namespace

template_error::template_error(std::string name, std::size_t line, std::size_t column, std::string message)
    : std::runtime_error{format_error(name, line, column, message)},
      name_{std::move(name)},
      line_{line},
      column_{column},
      message_{std::move(message)} {}

namespace {

// The entity for one of the five characters escape_html replaces.
std::string_view entity(char c) noexcept {
    switch (c) {
        case '&':
            return "&amp;";
        case '<':
            return "&lt;";
        case '>':
            return "&gt;";
        case '"':
            return "&quot;";
        default:
            return "&#39;";
    }
}

constexpr std::array<bool, 256> special = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view{"&<>\"'"}) t[c] = true;
    return t;
}();

}  // namespace

// Copies runs of ordinary characters whole and replaces the special ones. With SSE2 (every x86-64), 16 bytes are
// checked at a time; the rest, and other targets, go through a table.
void detail::append_escaped(std::string& out, std::string_view text) {
    const char* p = text.data();
    const char* const end = p + text.size();
    const char* run = p;  // start of the characters not yet copied
#if defined(__SSE2__)
    const __m128i amp = _mm_set1_epi8('&');
    const __m128i lt = _mm_set1_epi8('<');
    const __m128i gt = _mm_set1_epi8('>');
    const __m128i quot = _mm_set1_epi8('"');
    const __m128i apos = _mm_set1_epi8('\'');
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, quot))),
            _mm_cmpeq_epi8(v, apos));
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (mask == 0) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(mask);
        out.append(run, static_cast<std::size_t>(p - run));
        out.append(entity(*p));
        run = ++p;
    }
#endif
    for (; p != end; ++p) {
        if (!special[static_cast<unsigned char>(*p)]) continue;
        out.append(run, static_cast<std::size_t>(p - run));
        out.append(entity(*p));
        run = p + 1;
    }
    out.append(run, static_cast<std::size_t>(end - run));
}

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    detail::append_escaped(out, text);
    return out;
}

Template::Template() {
    static const std::shared_ptr<const detail::compiled> empty = detail::compile({}, {}, {});
    impl_ = empty;
}

Template::Template(std::shared_ptr<const detail::compiled> impl) : impl_{std::move(impl)} {}

Template Template::compile(std::string_view source, std::string name, const limits& limits) {
    return Template{detail::compile(source, std::move(name), limits)};
}

std::string Template::render(const boost::json::value& data, const partials& partials, const lambdas& lambdas) const {
    return render_ref(detail::ref_of(data), partials, lambdas);
}

std::string Template::render_ref(detail::data_ref data, const partials& partials, const lambdas& lambdas) const {
    map_source source{partials};
    return detail::render(*impl_, data, source, lambdas);
}

const std::string& Template::name() const noexcept {
    return impl_->name;
}

const detail::compiled* map_source::find(std::string_view name) {
    auto it = partials_.find(name);
    return it == partials_.end() ? nullptr : detail::access::of(it->second).get();
}

}  // namespace zephyr::view
